package dev.strata.batch;

import dev.strata.lake.Maintenance;
import java.time.Duration;
import java.util.Optional;
import picocli.CommandLine.Option;

/** The lake's upkeep as {@code strata lake maintain} and the batch scheduler take it. */
final class MaintenanceOptions {

    @Option(
            names = "--compact-after",
            defaultValue = Maintenance.Settings.DEFAULT_COMPACT_AFTER,
            description =
                    "Compact a partition's small files once its newest possible row is this old. Default: ${DEFAULT-VALUE}")
    Duration compactAfter;

    @Option(
            names = "--small-file-bytes",
            defaultValue = Maintenance.Settings.DEFAULT_SMALL_FILE_BYTES,
            description =
                    "Files smaller than this are compacted (two or more in a partition). Default: ${DEFAULT-VALUE}")
    long smallFileBytes;

    @Option(
            names = "--target-file-bytes",
            defaultValue = Maintenance.Settings.DEFAULT_TARGET_FILE_BYTES,
            description = "Size at which a compacted file is closed. Default: ${DEFAULT-VALUE}")
    long targetFileBytes;

    @Option(
            names = "--keep-table-snapshots",
            defaultValue = Maintenance.Settings.DEFAULT_KEEP_SNAPSHOTS,
            description = {
                "Snapshots kept per table (events, datasets; the batch views keep --keep-snapshots for rollback)",
                "besides those younger than --snapshot-age. Default: ${DEFAULT-VALUE}"
            })
    int keepSnapshots;

    @Option(
            names = "--snapshot-age",
            defaultValue = Maintenance.Settings.DEFAULT_SNAPSHOT_AGE,
            description =
                    "Snapshots younger than this are never expired (readers planned on them). Default: ${DEFAULT-VALUE}")
    Duration snapshotAge;

    @Option(
            names = "--orphan-age",
            defaultValue = Maintenance.Settings.DEFAULT_ORPHAN_AGE,
            description = {
                "Files no snapshot names are removed once this old: leftovers of crashed writers (a write in progress",
                "is younger). Default: ${DEFAULT-VALUE}"
            })
    Duration orphanAge;

    @Option(
            names = "--events-retention",
            description = {
                "Drop events whose time is older than this, whole hours at a time (e.g. P90D); must exceed the dedup horizon.",
                "Batch cells of windows before the dropped hours are kept as they are. Default: keep every event"
            })
    Duration eventsRetention;

    Maintenance.Settings settings(Duration dedupHorizon) {
        if (eventsRetention != null && eventsRetention.compareTo(dedupHorizon.plusHours(1)) <= 0) {
            throw new IllegalArgumentException("--events-retention " + eventsRetention
                    + " must be longer than the dedup horizon (" + dedupHorizon + ") plus an hour: a retry of a dropped"
                    + " event would be counted again");
        }
        return new Maintenance.Settings(
                compactAfter,
                smallFileBytes,
                targetFileBytes,
                keepSnapshots,
                snapshotAge,
                orphanAge,
                Optional.ofNullable(eventsRetention));
    }
}
