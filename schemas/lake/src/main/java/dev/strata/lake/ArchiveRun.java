package dev.strata.lake;

/**
 * One committed archive run, from the snapshot that committed it.
 *
 * @param rows the rows it added; {@code skipped} the records it could not decode (the speed layer
 *     dead-letters them)
 */
public record ArchiveRun(
        long run, long cutMillis, long rows, long skipped, int files, long snapshotId, long committedMillis) {}
