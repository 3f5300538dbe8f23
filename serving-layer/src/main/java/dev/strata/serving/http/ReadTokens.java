package dev.strata.serving.http;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The tokens that may read the API, from a YAML file holding only their SHA-256 hashes (as the
 * gateway's tokens file does):
 *
 * <pre>
 * tokens:
 *   - name: dashboards
 *     sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
 * </pre>
 */
public final class ReadTokens {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    record Entry(
            @JsonProperty(value = "name", required = true) String name,
            @JsonProperty(value = "sha256", required = true) String sha256) {}

    record File(
            @JsonProperty(value = "tokens", required = true) List<Entry> tokens) {}

    private final Set<String> hashes;

    private ReadTokens(Set<String> hashes) {
        this.hashes = Set.copyOf(hashes);
    }

    public static ReadTokens of(Set<String> sha256Hashes) {
        return new ReadTokens(sha256Hashes);
    }

    /** Loads a tokens file; a bad file fails naming the entry. */
    public static ReadTokens load(Path file) throws IOException {
        File parsed;
        try {
            parsed = YAML.readValue(file.toFile(), File.class);
        } catch (IOException e) {
            throw new IOException(
                    "cannot read the read-tokens file " + file + ": "
                            + e.getMessage().split("\n")[0],
                    e);
        }
        for (Entry entry : parsed.tokens()) {
            if (entry.sha256() == null || !entry.sha256().matches("[0-9a-f]{64}")) {
                throw new IOException("read-tokens file " + file + ": token '" + entry.name()
                        + "' needs sha256: 64 lowercase hex digits");
            }
        }
        return new ReadTokens(parsed.tokens().stream().map(Entry::sha256).collect(Collectors.toSet()));
    }

    public boolean allows(String token) {
        return token != null && !token.isEmpty() && token.length() <= 512 && hashes.contains(sha256(token));
    }

    public static String sha256(String token) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
