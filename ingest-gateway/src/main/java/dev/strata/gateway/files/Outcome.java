package dev.strata.gateway.files;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.strata.schemas.lake.DatasetColumn;
import java.util.List;
import java.util.Locale;

/**
 * What became of one uploaded file, kept beside its original in the raw zone
 * ({@code lake/raw/{dataset}/{upload}.json}) and given as the HTTP answer: one flat JSON object of
 * what was received, the status, and (when rows were added) what was added.
 *
 * @param httpStatus the HTTP status that answers it: 201, 200, 409 (schema conflict), 422 (nothing readable)
 * @param added null when nothing was written (refused)
 * @param duplicateOf for a duplicate, the dataset's file that holds the same bytes' rows
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Outcome(
        @JsonUnwrapped Received received,
        Status status,
        int httpStatus,
        String message,
        @JsonUnwrapped Added added,
        String duplicateOf,
        long finishedMillis) {

    /**
     * This outcome once its original is deleted (a duplicate's or a refused upload's: the lake keeps
     * no copy of bytes it holds already or never took).
     */
    public Outcome withoutOriginal() {
        Received r = received;
        return new Outcome(
                new Received(r.id(), r.dataset(), r.source(), null, r.bytes(), r.sha256(), r.receivedMillis()),
                status,
                httpStatus,
                message,
                added,
                duplicateOf,
                finishedMillis);
    }

    /** What the upload's outcome is. */
    public enum Status {
        /** Its rows are in the dataset. */
        ADDED,
        /** The same bytes were added before: nothing new. */
        DUPLICATE,
        /** Nothing was added; the message says why. */
        REFUSED;

        @JsonValue
        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }

        @JsonCreator
        static Status of(String json) {
            return valueOf(json.toUpperCase(Locale.ROOT));
        }
    }

    /** What came in: the upload's id and dataset, where it came from, its size and hash, and when. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Received(
            @JsonProperty("upload") String id,
            String dataset,
            String source,
            String original,
            long bytes,
            String sha256,
            long receivedMillis) {

        static Received of(Upload upload) {
            return new Received(
                    upload.id(),
                    upload.dataset(),
                    upload.source(),
                    upload.original(),
                    upload.bytes(),
                    upload.sha256(),
                    upload.receivedMillis());
        }
    }

    /**
     * What was added: rows written and rejected (with the rejects file and the first rejects), the
     * Parquet file (relative to the lake) and all of them (a large upload is written into one per
     * core at once), and the schema version it was written with.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Added(
            Long rows,
            Long rejected,
            String rejects,
            List<Reject> firstRejects,
            String file,
            List<String> files,
            Integer schemaVersion,
            Boolean newSchemaVersion,
            List<DatasetColumn> columns) {

        boolean isEmpty() {
            return rows == null && rejected == null && file == null && schemaVersion == null;
        }
    }

    /** A rejected row: its line in the original and why. */
    public record Reject(long line, String reason) {}

    public Outcome {
        if (added != null && added.isEmpty()) {
            added = null; // read back from JSON without any of its fields
        }
    }

    static Outcome refused(Upload upload, int httpStatus, String message, long finishedMillis) {
        return new Outcome(Received.of(upload), Status.REFUSED, httpStatus, message, null, null, finishedMillis);
    }

    static Outcome duplicate(Upload upload, String message, String duplicateOf, long finishedMillis) {
        return new Outcome(
                Received.of(upload),
                Status.DUPLICATE,
                200,
                message,
                new Added(0L, 0L, null, null, null, null, null, null, null),
                duplicateOf,
                finishedMillis);
    }

    static Outcome added(Upload upload, String message, Added added, long finishedMillis) {
        return new Outcome(Received.of(upload), Status.ADDED, 201, message, added, null, finishedMillis);
    }

    /** Rows written, or 0. */
    public long rowsWritten() {
        return added == null || added.rows() == null ? 0 : added.rows();
    }

    /** Rows rejected, or 0. */
    public long rowsRejected() {
        return added == null || added.rejected() == null ? 0 : added.rejected();
    }
}
