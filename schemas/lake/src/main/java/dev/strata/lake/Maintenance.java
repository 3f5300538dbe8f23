package dev.strata.lake;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lake's upkeep, which never changes a query's answer: it compacts the small files of older
 * partitions (the same rows, fewer files), expires snapshots beyond what rollback and running readers
 * need, removes orphan files (no snapshot's, older than any write in progress) and applies the
 * retention of {@code events}. Every commit it makes on {@code events} carries forward where the
 * archive stands, on the exact version it read ({@link PinnedCommit}): an archive run committing
 * meanwhile is never undone, and the archive's own compare-and-swap sees the same offsets. Any
 * number of maintenance runs, archive runs and folds may overlap: a compaction whose files another
 * one rewrote first is dropped (its new files deleted), and the next run looks again.
 */
public final class Maintenance {

    private static final Logger LOG = LoggerFactory.getLogger(Maintenance.class);

    /** Summary keys of a maintenance snapshot. */
    public static final String OPERATION = "strata.maintenance";

    public static final String ATTEMPT = "strata.maintenance.attempt";

    /**
     * What maintenance does.
     *
     * @param compactAfter a partition is compacted once its newest possible row is this old (event time)
     * @param smallFileBytes files smaller than this are compacted (two or more in a partition)
     * @param targetFileBytes a compacted file is closed at about this size
     * @param keepSnapshots snapshots kept per table besides those younger than {@code snapshotAge}
     * @param snapshotAge snapshots younger than this are kept (readers and folds that planned on them)
     * @param orphanAge files no snapshot names are removed once this old (a write in progress is younger)
     * @param eventsRetention events whose time is older than this are dropped, whole hours at a time
     */
    public record Settings(
            Duration compactAfter,
            long smallFileBytes,
            long targetFileBytes,
            int keepSnapshots,
            Duration snapshotAge,
            Duration orphanAge,
            Optional<Duration> eventsRetention) {

        public static final String DEFAULT_COMPACT_AFTER = "PT2H";
        public static final String DEFAULT_SMALL_FILE_BYTES = "33554432";
        public static final String DEFAULT_TARGET_FILE_BYTES = "134217728";
        public static final String DEFAULT_KEEP_SNAPSHOTS = "20";
        public static final String DEFAULT_SNAPSHOT_AGE = "PT1H";
        public static final String DEFAULT_ORPHAN_AGE = "PT24H";

        public static final Settings DEFAULTS = new Settings(
                Duration.parse(DEFAULT_COMPACT_AFTER),
                Long.parseLong(DEFAULT_SMALL_FILE_BYTES),
                Long.parseLong(DEFAULT_TARGET_FILE_BYTES),
                Integer.parseInt(DEFAULT_KEEP_SNAPSHOTS),
                Duration.parse(DEFAULT_SNAPSHOT_AGE),
                Duration.parse(DEFAULT_ORPHAN_AGE),
                Optional.empty());

        public Settings {
            if (keepSnapshots < 1) {
                throw new IllegalArgumentException("keep at least one snapshot per table, got " + keepSnapshots);
            }
        }
    }

    /** What one run did, per table. */
    public record Report(
            int partitionsCompacted,
            int filesRewritten,
            int filesWritten,
            int snapshotsExpired,
            int orphansRemoved,
            int partitionsDropped,
            List<String> notes) {

        @Override
        public String toString() {
            return "compacted " + partitionsCompacted + " partition(s) (" + filesRewritten + " file(s) into "
                    + filesWritten + "), expired " + snapshotsExpired + " snapshot(s), removed " + orphansRemoved
                    + " orphan file(s), dropped " + partitionsDropped + " partition(s) past retention"
                    + (notes.isEmpty() ? "" : "; " + String.join("; ", notes));
        }
    }

    private static final long HOUR = 3_600_000L;
    private static final long DAY = 24 * HOUR;

    private final Lake lake;
    private final Settings settings;
    private final Clock clock;
    private final Compaction compaction;
    private int snapshotsExpired;
    private int orphansRemoved;
    private int partitionsDropped;
    private final List<String> notes = new ArrayList<>();

    private Maintenance(Lake lake, Settings settings, Clock clock) {
        this.lake = lake;
        this.settings = settings;
        this.clock = clock;
        this.compaction = new Compaction(settings, clock, notes);
    }

    /** One maintenance run over every table of the lake. */
    public static Report run(Lake lake, Settings settings, Clock clock) {
        Maintenance m = new Maintenance(lake, settings, clock);
        EventsTable events = lake.events();
        settings.eventsRetention().ifPresent(r -> m.retain(events, r));
        m.compaction.compact(events.table(), "time", HOUR, EventsTable::carried);
        for (String name : lake.datasets()) {
            lake.dataset(name)
                    .ifPresent(d -> m.compaction.compact(d.table(), DatasetTable.INGESTED_AT, DAY, meta -> Map.of()));
        }
        List<Table> tables = new ArrayList<>();
        tables.add(events.table());
        tables.add(lake.views().table());
        for (String name : lake.datasets()) {
            lake.dataset(name).ifPresent(d -> tables.add(d.table()));
        }
        for (String name : lake.curatedTables()) {
            // expired and swept, not compacted: a transform's commit records its inputs, a
            // compaction's would not
            lake.curated(name).ifPresent(c -> tables.add(c.table()));
        }
        for (Table table : tables) {
            m.expire(table);
            m.orphansRemoved += OrphanFiles.remove(
                    table, clock.millis() - settings.orphanAge().toMillis(), m.notes);
        }
        return new Report(
                m.compaction.partitionsCompacted,
                m.compaction.filesRewritten,
                m.compaction.filesWritten,
                m.snapshotsExpired,
                m.orphansRemoved,
                m.partitionsDropped,
                List.copyOf(m.notes));
    }

    /**
     * Expires every snapshot but the current one and the {@code keep - 1} before it, deleting the
     * files only they use. Snapshots only ever go: a commit racing with it is re-applied by Iceberg.
     */
    static void expire(Table table, int keep) {
        expire(table, keep, System.currentTimeMillis());
    }

    private static int expire(Table table, int keep, long olderThanMillis) {
        table.refresh();
        if (table.currentSnapshot() == null) {
            return 0;
        }
        int before = size(table.snapshots());
        try {
            table.expireSnapshots()
                    .retainLast(keep)
                    .expireOlderThan(olderThanMillis)
                    .cleanExpiredFiles(true)
                    .commit();
        } catch (CommitFailedException | IllegalArgumentException e) {
            // Another process expired or committed meanwhile (Iceberg's retry of an expiry whose
            // snapshots another expiry removed first fails with IllegalArgumentException).
            LOG.info(
                    "{}: expiring snapshots met other commits ({}); the next time expires them",
                    table.name(),
                    e.getMessage());
            return 0;
        }
        table.refresh();
        return Math.max(0, before - size(table.snapshots()));
    }

    private static int size(Iterable<?> items) {
        int n = 0;
        for (Object ignored : items) {
            n++;
        }
        return n;
    }

    private void expire(Table table) {
        long olderThan = clock.millis() - settings.snapshotAge().toMillis();
        snapshotsExpired += expire(table, settings.keepSnapshots(), olderThan);
    }

    /**
     * Drops the events whose time is older than the retention, whole hour partitions at a time, in
     * one commit that carries the archive's state forward and records the new floor.
     */
    private void retain(EventsTable events, Duration retention) {
        Table table = events.table();
        long floorMillis = Math.floorDiv(clock.millis() - retention.toMillis(), 3_600_000L) * 3_600_000L;
        table.refresh();
        if (table.currentSnapshot() == null || floorMillis <= events.retentionFloorMillis()) {
            return;
        }
        Set<String> partitions = new HashSet<>();
        List<DataFile> dropped = new ArrayList<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan()
                .filter(Expressions.lessThan("time", floorMillis * 1000))
                .ignoreResiduals()
                .planFiles()) {
            for (FileScanTask task : tasks) {
                dropped.add(task.file());
                partitions.add(task.file().partition().toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String attempt = UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> carry = new HashMap<>();
        PinnedCommit.commit(
                table,
                current -> {
                    carry.clear();
                    carry.putAll(EventsTable.carried(current));
                },
                tx -> {
                    var delete = tx.newDelete().deleteFromRowFilter(Expressions.lessThan("time", floorMillis * 1000));
                    carry.forEach(delete::set);
                    delete.set(EventsTable.RETENTION_FLOOR, Long.toString(floorMillis))
                            .set(OPERATION, "retention")
                            .set(ATTEMPT, attempt)
                            .commit();
                },
                ATTEMPT,
                attempt);
        partitionsDropped += partitions.size();
        LOG.info(
                "events: dropped {} file(s) of {} partition(s) older than {} (retention {})",
                dropped.size(),
                partitions.size(),
                java.time.Instant.ofEpochMilli(floorMillis),
                retention);
    }
}
