package dev.strata.schemas.views;

import java.io.Serializable;
import java.time.Duration;
import java.util.Optional;

/**
 * The settings the speed and batch layers must share, or the merged view loses or double-counts
 * events at the cut: the ingest bucket (the cut is a multiple of it; the speed layer keys its
 * cells by it) and the dedup horizon (within it, a (source, id) counts once). Every
 * {@code batch-commits} record carries the values it was computed with, and a layer whose own differ
 * refuses it ({@link #refusal}).
 *
 * <p>The defaults are declared here once; the command-line options ({@code CutOptions}) and every
 * layer's settings take them from here.
 */
public record CutSettings(Duration bucket, Duration dedupHorizon) implements Serializable {

    /** The ingest bucket's default, as an option's default value. */
    public static final String DEFAULT_BUCKET = "PT1M";
    /** The dedup horizon's default, as an option's default value. */
    public static final String DEFAULT_DEDUP_HORIZON = "PT24H";
    /** How far behind the broker's clock the batch layer's cut stays (the batch layer's alone). */
    public static final String DEFAULT_SAFETY_MARGIN = "PT1M";

    public static final CutSettings DEFAULTS =
            new CutSettings(Duration.parse(DEFAULT_BUCKET), Duration.parse(DEFAULT_DEDUP_HORIZON));

    public CutSettings {
        if (bucket == null || bucket.toMillis() <= 0 || bucket.toNanos() % 1_000_000 != 0) {
            throw new IllegalArgumentException(
                    "the ingest bucket must be a positive whole number of milliseconds, e.g. PT1M; got " + bucket);
        }
        if (dedupHorizon == null || dedupHorizon.toMillis() <= 0) {
            throw new IllegalArgumentException("the dedup horizon must be positive, e.g. PT24H; got " + dedupHorizon);
        }
    }

    public long bucketMillis() {
        return bucket.toMillis();
    }

    /**
     * Why a layer with these settings must not use {@code commit}, or empty if it may: the commit
     * was computed with another bucket or dedup horizon, or its cut does not fall on a bucket
     * boundary of this layer (speed cells would straddle it). A commit of format version 1 carries
     * no settings; only its cut is checked.
     *
     * @param layer the refusing layer, named in the message ("speed layer", "serving layer")
     */
    public Optional<String> refusal(BatchCommit commit, String layer) {
        Optional<CutSettings> theirs = commit.settings();
        if (theirs.isPresent() && !theirs.get().equals(this)) {
            return Optional.of("batch commit of run " + commit.run() + " (" + commit.snapshot() + ") was computed with "
                    + theirs.get().describe() + ", but this " + layer + " runs with " + describe()
                    + ": refused, so that no event is lost or counted twice at its cut. Give the speed layer, the batch"
                    + " layer and the serving layer the same --bucket and --dedup-horizon (./strata up passes its own to"
                    + " all three); the next batch cycle run with " + describe() + " is accepted");
        }
        if (Math.floorMod(commit.cutMillis(), bucketMillis()) != 0) {
            return Optional.of("batch commit of run " + commit.run() + " has cut " + commit.cutMillis()
                    + " ms, which is not a multiple of this " + layer + "'s bucket " + bucket
                    + ": refused. Run the batch layer with --bucket " + bucket);
        }
        return Optional.empty();
    }

    /** {@code bucket PT1M and dedup horizon PT24H}. */
    public String describe() {
        return "bucket " + bucket + " and dedup horizon " + dedupHorizon;
    }
}
