package dev.strata.gateway.files;

import java.nio.file.Path;

/**
 * A file in the raw zone waiting for conversion: its upload id, dataset, format, where it came from
 * ({@code http}, {@code landing:<name>}), its path relative to the lake, size and SHA-256.
 */
public record Upload(
        String id,
        String dataset,
        FileFormat format,
        String source,
        Path file,
        String original,
        long bytes,
        String sha256,
        long receivedMillis) {}
