package dev.strata.schemas.auth;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one token-file format of Strata's HTTP services (the gateway's {@code --tokens}, the serving
 * layer's {@code --read-tokens}, the registry's {@code --tokens}): a YAML file that keeps only the
 * tokens' SHA-256 hashes and what each may do.
 *
 * <pre>
 * tokens:
 *   - name: plant-3-devices
 *     sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
 *     sources: ["plant-3/*"]     # the gateway: the sources it may publish as
 *     datasets: ["plant_3_*"]    # the gateway: the datasets it may upload files to
 * </pre>
 *
 * The serving layer and the registry need only {@code name} and {@code sha256}: every token of
 * their file may read (serving) or write (registry). Tokens are 256-bit random secrets
 * ({@link #generateToken()}), so a plain SHA-256 keeps a leaked file from revealing them; a slow
 * password hash would add nothing but latency.
 */
public final class TokenFile {

    /** Tokens longer than this are refused unread. */
    public static final int MAX_TOKEN_CHARS = 512;

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** One token's hash and grants; {@code sources} and {@code datasets} are empty where not given. */
    @JsonIgnoreProperties(ignoreUnknown = false)
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record Entry(
            @JsonProperty(value = "name", required = true) String name,
            @JsonProperty(value = "sha256", required = true) String sha256,
            @JsonProperty("sources") List<String> sources,
            @JsonProperty("datasets") List<String> datasets) {
        public Entry {
            sources = sources == null ? List.of() : List.copyOf(sources);
            datasets = datasets == null ? List.of() : List.copyOf(datasets);
        }
    }

    record Contents(
            @JsonProperty(value = "tokens", required = true) List<Entry> tokens) {}

    /** A token (the secret itself) and what it may do, to write into a file. */
    public record Grant(String token, List<String> sources, List<String> datasets) {}

    private final Path file;
    private final Map<String, Entry> byHash;
    /** Tokens already hashed once: a client sends its token with every request. */
    private final Map<String, Optional<Entry>> seen = new ConcurrentHashMap<>();

    private TokenFile(Path file, Map<String, Entry> byHash) {
        this.file = file;
        this.byHash = Map.copyOf(byHash);
    }

    /** Loads and checks a token file; a bad file fails naming the file and the entry. */
    public static TokenFile load(Path file) throws IOException {
        Contents contents;
        try {
            contents = YAML.readValue(file.toFile(), Contents.class);
        } catch (IOException e) {
            throw new IOException(
                    "cannot read the tokens file " + file + ": "
                            + String.valueOf(e.getMessage()).split("\n")[0],
                    e);
        }
        if (contents == null || contents.tokens() == null) {
            throw new IOException("tokens file " + file + " has no 'tokens:' list");
        }
        Map<String, Entry> byHash = new ConcurrentHashMap<>();
        for (Entry entry : contents.tokens()) {
            if (entry.sha256() == null || !entry.sha256().matches("[0-9a-f]{64}")) {
                throw new IOException("tokens file " + file + ": token '" + entry.name()
                        + "' needs sha256: 64 lowercase hex digits (the SHA-256 of the token)");
            }
            if (byHash.put(entry.sha256(), entry) != null) {
                throw new IOException("tokens file " + file + ": token '" + entry.name() + "' is listed twice");
            }
        }
        return new TokenFile(file, byHash);
    }

    /** A file's entries, for tests and embedding: no file on disk. */
    public static TokenFile of(List<Entry> entries) {
        Map<String, Entry> byHash = new ConcurrentHashMap<>();
        entries.forEach(e -> byHash.put(e.sha256(), e));
        return new TokenFile(null, byHash);
    }

    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    public List<Entry> entries() {
        return List.copyOf(byHash.values());
    }

    /** The entry of {@code token}, if it is one of this file's. */
    public Optional<Entry> lookup(String token) {
        if (token == null || token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
            return Optional.empty();
        }
        if (seen.size() > 10_000) {
            seen.clear();
        }
        return seen.computeIfAbsent(token, t -> Optional.ofNullable(byHash.get(sha256(t))));
    }

    /** The token of an {@code Authorization: Bearer <token>} header, if it is one. */
    public static Optional<String> bearer(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.empty();
        }
        String token = authorization.substring(7).trim();
        return token.isEmpty() ? Optional.empty() : Optional.of(token);
    }

    public static String sha256(String token) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A new random token: 32 bytes, URL-safe base64. */
    public static String generateToken() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** Writes a token file holding the hash of each {@code name → grant}. */
    public static void write(Path file, Map<String, Grant> grants) throws IOException {
        List<Entry> entries = new ArrayList<>();
        grants.forEach((name, g) -> entries.add(new Entry(name, sha256(g.token()), g.sources(), g.datasets())));
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        YAML.writeValue(file.toFile(), new Contents(entries));
    }
}
