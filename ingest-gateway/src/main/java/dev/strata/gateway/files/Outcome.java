package dev.strata.gateway.files;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.strata.schemas.lake.DatasetManifest.Column;
import java.util.List;

/**
 * What became of one uploaded file, kept beside its original in the raw zone
 * ({@code lake/raw/{dataset}/{upload}.json}) and given as the HTTP answer.
 *
 * @param status {@code added} (its rows are in the dataset), {@code duplicate} (the same bytes were
 *     added before: nothing new), or {@code refused} (nothing added; {@code message} says why)
 * @param httpStatus the HTTP status that answers it: 201, 200, 409 (schema conflict), 422 (nothing readable)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Outcome(
        String upload,
        String dataset,
        String status,
        int httpStatus,
        String message,
        String source,
        String original,
        long bytes,
        String sha256,
        Long rows,
        Long rejected,
        String rejects,
        List<Reject> firstRejects,
        String file,
        Integer schemaVersion,
        Boolean newSchemaVersion,
        List<Column> columns,
        String duplicateOf,
        long receivedMillis,
        long finishedMillis) {

    public static final String ADDED = "added";
    public static final String DUPLICATE = "duplicate";
    public static final String REFUSED = "refused";

    /** A rejected row: its line in the original and why. */
    public record Reject(long line, String reason) {}

    static Outcome refused(Upload upload, int httpStatus, String message, long finishedMillis) {
        return new Outcome(
                upload.id(),
                upload.dataset(),
                REFUSED,
                httpStatus,
                message,
                upload.source(),
                upload.original(),
                upload.bytes(),
                upload.sha256(),
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                upload.receivedMillis(),
                finishedMillis);
    }
}
