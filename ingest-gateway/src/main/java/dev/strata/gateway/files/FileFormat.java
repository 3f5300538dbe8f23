package dev.strata.gateway.files;

import java.util.Locale;
import java.util.Optional;

/** The formats an uploaded file may have: CSV with a header row, or NDJSON (one JSON object a line). */
public enum FileFormat {
    CSV("csv"),
    NDJSON("ndjson");

    private final String extension;

    FileFormat(String extension) {
        this.extension = extension;
    }

    public String extension() {
        return extension;
    }

    /** By HTTP Content-Type: {@code text/csv}; {@code application/x-ndjson} or {@code application/jsonl}. */
    public static Optional<FileFormat> ofContentType(String contentType) {
        String base =
                contentType == null ? "" : contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return switch (base) {
            case "text/csv", "application/csv" -> Optional.of(CSV);
            case "application/x-ndjson", "application/jsonl", "application/json-lines", "application/jsonlines" ->
                Optional.of(NDJSON);
            default -> Optional.empty();
        };
    }

    /** By file name: {@code .csv}, {@code .ndjson} or {@code .jsonl}, each optionally {@code .gz}. */
    public static Optional<FileFormat> ofFileName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.endsWith(".gz")) {
            n = n.substring(0, n.length() - 3);
        }
        if (n.endsWith(".csv")) {
            return Optional.of(CSV);
        }
        if (n.endsWith(".ndjson") || n.endsWith(".jsonl")) {
            return Optional.of(NDJSON);
        }
        return Optional.empty();
    }
}
