package dev.strata.gateway.files;

import dev.strata.lake.LakeFiles;
import java.io.IOException;
import java.io.InputStream;

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

    /** The original's bytes, from the raw zone. */
    public InputStream open() throws IOException {
        return files.open(original);
    }
}
