package dev.strata.gateway.files;

import dev.strata.lake.LakeFiles;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A file in the raw zone waiting for conversion: its upload id, dataset, format, where it came from
 * ({@code http}, {@code landing:<name>}), its path relative to the lake, size and SHA-256.
 */
public record Upload(
        String id,
        String dataset,
        FileFormat format,
        String source,
        LakeFiles files,
        String original,
        long bytes,
        String sha256,
        long receivedMillis) {

    /** An original in the raw zone, its size and SHA-256 read from it. */
    static Upload read(
            LakeFiles files,
            String id,
            String dataset,
            FileFormat format,
            String source,
            String original,
            long receivedMillis)
            throws IOException {
        MessageDigest digest = digest();
        byte[] buffer = new byte[1 << 16];
        long bytes = 0;
        try (InputStream in = files.open(original)) {
            for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
                digest.update(buffer, 0, n);
                bytes += n;
            }
        }
        return new Upload(
                id,
                dataset,
                format,
                source,
                files,
                original,
                bytes,
                HexFormat.of().formatHex(digest.digest()),
                receivedMillis);
    }

    /** A new SHA-256 digest (the hash an upload is known by). */
    public static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The original's bytes, from the raw zone. */
    public InputStream open() throws IOException {
        return files.open(original);
    }
}
