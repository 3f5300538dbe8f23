package dev.strata.schemas.views;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * One committed batch snapshot, as announced on the compacted {@code batch-commits} topic: the run
 * number, the cut (every event appended before it is in the snapshot, every event at or after it is
 * in the speed views' buckets), which snapshot it is, and the {@link CutSettings} it was computed
 * with (a layer whose own differ refuses it). JSON, with a format version: version 1 (older builds)
 * has no settings; versions 1 and 2 name a snapshot file of the earlier lake layout.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BatchCommit(
        @JsonProperty("version") int version,
        @JsonProperty("run") long run,
        @JsonProperty("cutMillis") long cutMillis,
        @JsonProperty("snapshot") String snapshot,
        @JsonProperty("bucketMillis") Long bucketMillis,
        @JsonProperty("dedupHorizonMillis") Long dedupHorizonMillis) {

    /**
     * The format version written: 3 names a snapshot of the lake's {@code batch_views} table
     * ({@code strata.batch_views@<snapshot id>}); 2 and 1 (earlier builds) name a snapshot file.
     */
    public static final int VERSION = 3;
    /** The record key: one current commit, compaction keeps the latest. */
    public static final byte[] KEY = "current".getBytes(StandardCharsets.UTF_8);

    private static final ObjectMapper JSON = new ObjectMapper();

    public static BatchCommit of(long run, long cutMillis, String snapshot, CutSettings settings) {
        return new BatchCommit(
                VERSION,
                run,
                cutMillis,
                snapshot,
                settings.bucketMillis(),
                settings.dedupHorizon().toMillis());
    }

    /** The settings the snapshot was computed with; empty for a commit of format version 1. */
    public Optional<CutSettings> settings() {
        return bucketMillis == null || dedupHorizonMillis == null
                ? Optional.empty()
                : Optional.of(new CutSettings(Duration.ofMillis(bucketMillis), Duration.ofMillis(dedupHorizonMillis)));
    }

    /** Whether both announce the same snapshot (run, cut and location), whatever the settings. */
    public boolean sameSnapshot(BatchCommit other) {
        return other != null && run == other.run && cutMillis == other.cutMillis && snapshot.equals(other.snapshot);
    }

    public byte[] encode() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @throws IllegalArgumentException for an unknown version or bytes that are not a commit */
    public static BatchCommit decode(byte[] bytes) {
        BatchCommit commit;
        try {
            commit = JSON.readValue(bytes, BatchCommit.class);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(
                    "not a batch commit: " + String.valueOf(e.getMessage()).split("\n")[0], e);
        }
        if (commit.version() < 1 || commit.version() > VERSION) {
            throw new IllegalArgumentException("batch commit has format version " + commit.version()
                    + "; this build reads versions 1 to " + VERSION);
        }
        if (commit.version() >= 2 && commit.settings().isEmpty()) {
            throw new IllegalArgumentException(
                    "batch commit of format version " + commit.version() + " lacks bucketMillis or dedupHorizonMillis");
        }
        return commit;
    }
}
