package dev.strata.gateway.auth;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
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
 * The gateway's tokens, loaded from a YAML file that keeps only their SHA-256 hashes:
 *
 * <pre>
 * tokens:
 *   - name: plant-3-devices
 *     sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
 *     sources: ["plant-3/*"]
 *     datasets: ["plant_3_*"]    # optional: the datasets it may upload files to (none if absent)
 * </pre>
 *
 * Tokens are 256-bit random secrets ({@link #generateToken()}), so a plain SHA-256 is enough to
 * keep a leaked file from revealing them; a slow password hash would add nothing but latency.
 */
public final class TokenStore {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @JsonIgnoreProperties(ignoreUnknown = false)
    record TokenEntry(
            @JsonProperty(value = "name", required = true) String name,
            @JsonProperty(value = "sha256", required = true) String sha256,

            @JsonProperty(value = "sources", required = true)
            List<String> sources,

            @JsonProperty(value = "datasets")
            @com.fasterxml.jackson.annotation.JsonInclude(
                    com.fasterxml.jackson.annotation.JsonInclude.Include.NON_EMPTY)
            List<String> datasets) {}

    record TokensFile(
            @JsonProperty(value = "tokens", required = true) List<TokenEntry> tokens) {}

    private final Map<String, Principal> byHash;
    /** Tokens already hashed once: a device sends its token with every HTTP request. */
    private final Map<String, Optional<Principal>> cache = new ConcurrentHashMap<>();

    private TokenStore(Map<String, Principal> byHash) {
        this.byHash = Map.copyOf(byHash);
    }

    /** Loads and checks a tokens file; a bad file fails with a message naming the entry. */
    public static TokenStore load(Path file) throws IOException {
        TokensFile parsed;
        try {
            parsed = YAML.readValue(file.toFile(), TokensFile.class);
        } catch (IOException e) {
            throw new IOException("cannot read tokens file " + file + ": " + e.getMessage(), e);
        }
        Map<String, Principal> byHash = new ConcurrentHashMap<>();
        for (TokenEntry entry : parsed.tokens()) {
            if (entry.sha256() == null || !entry.sha256().matches("[0-9a-f]{64}")) {
                throw new IOException("tokens file " + file + ": token '" + entry.name()
                        + "' needs sha256: 64 lowercase hex digits (see ./strata gateway --help)");
            }
            if (entry.sources() == null || entry.sources().isEmpty()) {
                throw new IOException("tokens file " + file + ": token '" + entry.name() + "' allows no sources");
            }
            byHash.put(
                    entry.sha256(),
                    new Principal(
                            entry.name(), entry.sources(), entry.datasets() == null ? List.of() : entry.datasets()));
        }
        return new TokenStore(byHash);
    }

    /** The principal of {@code token}, if it is one of ours. */
    public Optional<Principal> authenticate(String token) {
        if (token == null || token.isEmpty() || token.length() > 512) {
            return Optional.empty();
        }
        if (cache.size() > 10_000) {
            cache.clear();
        }
        return cache.computeIfAbsent(token, t -> Optional.ofNullable(byHash.get(sha256(t))));
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

    /** Writes a tokens file holding the hash of each {@code name → (token, sources)}; no datasets. */
    public static void write(Path file, Map<String, Map.Entry<String, List<String>>> tokens) throws IOException {
        Map<String, Grant> grants = new java.util.LinkedHashMap<>();
        tokens.forEach((name, t) -> grants.put(name, new Grant(t.getKey(), t.getValue(), List.of())));
        writeGrants(file, grants);
    }

    /** A token and what it may do: publish as {@code sources}, upload files to {@code datasets}. */
    public record Grant(String token, List<String> sources, List<String> datasets) {}

    /** Writes a tokens file holding the hash of each token and its grants. */
    public static void writeGrants(Path file, Map<String, Grant> tokens) throws IOException {
        List<TokenEntry> entries = new ArrayList<>();
        tokens.forEach((name, t) -> entries.add(new TokenEntry(name, sha256(t.token()), t.sources(), t.datasets())));
        Files.createDirectories(file.toAbsolutePath().getParent());
        YAML.writeValue(file.toFile(), new TokensFile(entries));
    }
}
