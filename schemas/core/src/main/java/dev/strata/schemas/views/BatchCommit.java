package dev.strata.schemas.views;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * One committed batch snapshot, as announced on the compacted {@code batch-commits} topic: the run
 * number, the cut (every event appended before it is in the snapshot, every event at or after it is
 * in the speed views' buckets) and where the snapshot lives. JSON, with a format version.
 */
public record BatchCommit(
        @JsonProperty("version") int version,
        @JsonProperty("run") long run,
        @JsonProperty("cutMillis") long cutMillis,
        @JsonProperty("snapshot") String snapshot) {

    public static final int VERSION = 1;
    /** The record key: one current commit, compaction keeps the latest. */
    public static final byte[] KEY = "current".getBytes(StandardCharsets.UTF_8);

    private static final ObjectMapper JSON = new ObjectMapper();

    public static BatchCommit of(long run, long cutMillis, String snapshot) {
        return new BatchCommit(VERSION, run, cutMillis, snapshot);
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
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "not a batch commit: " + e.getMessage().split("\n")[0], e);
        }
        if (commit.version() != VERSION) {
            throw new IllegalArgumentException("batch commit has format version " + commit.version()
                    + "; this build reads version " + VERSION + " only");
        }
        return commit;
    }
}
