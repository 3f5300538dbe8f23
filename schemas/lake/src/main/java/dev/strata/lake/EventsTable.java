package dev.strata.lake;

import static org.apache.iceberg.types.Types.NestedField.optional;
import static org.apache.iceberg.types.Types.NestedField.required;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotSummary;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code strata.events}, the master dataset: every event appended to Kafka's {@code events}, each
 * Kafka record once, with where it was in Kafka (partition, offset, the broker's append time) and
 * the archive run that wrote it; hidden-partitioned by the hour of its event time.
 *
 * <p>Every snapshot Strata makes of it carries where the archive stands in its summary (per
 * partition the next offset, the last run and its cut), so expiring older snapshots never loses it;
 * the snapshot of an archive run also names its run. An archive run commits only if the table's
 * state is exactly the one it was planned from: a compare-and-swap on the catalog's metadata
 * pointer ({@link PinnedOperations}), never a blind retry.
 */
public final class EventsTable {

    private static final Logger LOG = LoggerFactory.getLogger(EventsTable.class);

    public static final String NAME = "events";

    public static final Schema SCHEMA = new Schema(
            required(1, "id", Types.StringType.get()),
            required(2, "source", Types.StringType.get()),
            required(3, "type", Types.StringType.get()),
            required(4, "time", Types.TimestampType.withZone()),
            optional(5, "value", Types.DoubleType.get()),
            required(6, "attributes", Types.MapType.ofRequired(12, 13, Types.StringType.get(), Types.StringType.get())),
            required(7, "ingest_time", Types.TimestampType.withZone()),
            required(8, "kafka_partition", Types.IntegerType.get()),
            required(9, "kafka_offset", Types.LongType.get()),
            required(10, "append_time", Types.TimestampType.withZone()),
            required(11, "run", Types.LongType.get()));

    /** Hidden partitioning by event time: the hour of {@code time}. */
    public static final PartitionSpec SPEC =
            PartitionSpec.builderFor(SCHEMA).hour("time").build();

    static final Map<String, String> PROPERTIES = Map.of(
            "format-version", "2",
            "write.parquet.compression-codec", "zstd",
            "write.metadata.delete-after-commit.enabled", "true",
            "write.metadata.previous-versions-max", "100");

    /** Summary keys carried by every snapshot Strata makes: where the archive stands. */
    public static final String OFFSETS = "strata.archive.offsets";

    public static final String LAST_RUN = "strata.archive.last-run";
    public static final String LAST_CUT = "strata.archive.last-cut-ms";
    /** Events with a time before it were dropped by the retention (carried forward like the offsets). */
    public static final String RETENTION_FLOOR = "strata.retention.floor-ms";
    /** Summary keys of an archive run's own snapshot. */
    public static final String RUN = "strata.archive.run";

    public static final String SKIPPED = "strata.archive.skipped";
    public static final String ATTEMPT = "strata.archive.attempt";

    private final Table table;

    EventsTable(Table table) {
        this.table = table;
    }

    public Table table() {
        return table;
    }

    /** Where the archive stands now (the catalog read again). */
    public ArchiveState state() {
        return stateOf(operations().refresh());
    }

    private TableOperations operations() {
        return ((HasTableOperations) table).operations();
    }

    /**
     * The archive state a version of the table records: its current snapshot's, or, for a snapshot
     * made by another engine that did not carry it forward, its newest ancestor's that does.
     */
    static ArchiveState stateOf(TableMetadata metadata) {
        Snapshot snapshot = metadata.currentSnapshot();
        boolean current = true;
        while (snapshot != null) {
            Map<String, String> summary = snapshot.summary();
            if (summary.containsKey(OFFSETS)) {
                if (!current) {
                    LOG.warn(
                            "The current snapshot of events does not record where the archive stands;"
                                    + " taken from snapshot {}",
                            snapshot.snapshotId());
                }
                return new ArchiveState(
                        ArchiveState.decode(summary.get(OFFSETS)),
                        Long.parseLong(summary.getOrDefault(LAST_RUN, "0")),
                        Long.parseLong(summary.getOrDefault(LAST_CUT, Long.toString(Long.MIN_VALUE))),
                        Optional.of(snapshot.snapshotId()));
            }
            current = false;
            snapshot = snapshot.parentId() == null ? null : metadata.snapshot(snapshot.parentId());
        }
        return ArchiveState.EMPTY;
    }

    /** A new attempt's name: unique among every process's attempts. */
    public static String newAttempt() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    /**
     * Commits an archive run: its files, and the archive state it moves to, as one snapshot, only if
     * the table's archive state is still the plan's basis. A commit that meets another writer's
     * (maintenance, say) which left the archive state alone is tried again on top of it.
     *
     * @return the snapshot id
     * @throws ArchiveConflict if another run committed since the plan was made (nothing of this one is)
     */
    public long commit(ArchivePlan plan, List<DataFile> files, long rows, long skipped) throws ArchiveConflict {
        Map<Integer, Long> next = new HashMap<>(plan.basis().offsets());
        next.putAll(plan.until());
        AtomicReference<Optional<String>> floor = new AtomicReference<>(Optional.empty());
        Snapshot snapshot = PinnedCommit.commit(
                table,
                current -> {
                    floor.set(Optional.ofNullable(current.currentSnapshot())
                            .map(c -> c.summary().get(RETENTION_FLOOR)));
                    ArchiveState now = stateOf(current);
                    if (!now.offsets().equals(plan.basis().offsets())
                            || now.lastRun() != plan.basis().lastRun()) {
                        throw new ArchiveConflict("another batch process committed run " + now.lastRun()
                                + " (offsets " + ArchiveState.encode(now.offsets()) + ") since run " + plan.run()
                                + " was planned from run " + plan.basis().lastRun() + " (offsets "
                                + ArchiveState.encode(plan.basis().offsets()) + ")");
                    }
                },
                tx -> {
                    AppendFiles append = tx.newAppend();
                    files.forEach(append::appendFile);
                    append.set(OFFSETS, ArchiveState.encode(next))
                            .set(LAST_RUN, Long.toString(plan.run()))
                            .set(LAST_CUT, Long.toString(plan.cutMillis()))
                            .set(RUN, Long.toString(plan.run()))
                            .set(SKIPPED, Long.toString(skipped))
                            .set(ATTEMPT, plan.attempt());
                    floor.get().ifPresent(f -> append.set(RETENTION_FLOOR, f));
                    append.commit();
                },
                ATTEMPT,
                plan.attempt());
        LOG.info(
                "events: run {} committed as snapshot {} ({} file(s), {} rows, cut {})",
                plan.run(),
                snapshot.snapshotId(),
                files.size(),
                rows,
                plan.cutMillis());
        return snapshot.snapshotId();
    }

    /** The summary properties that say where the archive stands, to carry into a snapshot that is not a run's. */
    static Map<String, String> carried(TableMetadata metadata) {
        ArchiveState state = stateOf(metadata);
        if (state.snapshotId().isEmpty()) {
            return Map.of();
        }
        Map<String, String> carried = new HashMap<>(Map.of(
                OFFSETS, ArchiveState.encode(state.offsets()),
                LAST_RUN, Long.toString(state.lastRun()),
                LAST_CUT, Long.toString(state.lastCutMillis())));
        String floor = metadata.currentSnapshot().summary().get(RETENTION_FLOOR);
        if (floor != null) {
            carried.put(RETENTION_FLOOR, floor);
        }
        return carried;
    }

    /**
     * The time before which the retention dropped events ({@link Long#MIN_VALUE}: none dropped):
     * batch cells of windows before it are kept as they are, never recomputed from what is left.
     */
    public long retentionFloorMillis() {
        Snapshot current = operations().refresh().currentSnapshot();
        String floor = current == null ? null : current.summary().get(RETENTION_FLOOR);
        return floor == null ? Long.MIN_VALUE : Long.parseLong(floor);
    }

    /** The committed archive runs the current snapshot's history holds, oldest first. */
    public List<ArchiveRun> runs() {
        TableMetadata metadata = operations().refresh();
        List<ArchiveRun> runs = new ArrayList<>();
        Snapshot snapshot = metadata.currentSnapshot();
        while (snapshot != null) {
            Map<String, String> summary = snapshot.summary();
            if (summary.containsKey(RUN)) {
                runs.add(new ArchiveRun(
                        Long.parseLong(summary.get(RUN)),
                        Long.parseLong(summary.getOrDefault(LAST_CUT, "0")),
                        Long.parseLong(summary.getOrDefault(SnapshotSummary.ADDED_RECORDS_PROP, "0")),
                        Long.parseLong(summary.getOrDefault(SKIPPED, "0")),
                        Integer.parseInt(summary.getOrDefault(SnapshotSummary.ADDED_FILES_PROP, "0")),
                        snapshot.snapshotId(),
                        snapshot.timestampMillis()));
            }
            snapshot = snapshot.parentId() == null ? null : metadata.snapshot(snapshot.parentId());
        }
        runs.sort(Comparator.comparingLong(ArchiveRun::run));
        return runs;
    }

    /** The table as readers see it now: its current snapshot's files, schemas and history. */
    public TableVersion current() {
        return TableVersion.of(NAME, table);
    }

    /** The data files of the current snapshot whose rows may match {@code filter} (by their column statistics). */
    public List<DataFile> files(Expression filter) {
        table.refresh();
        List<DataFile> files = new ArrayList<>();
        try (CloseableIterable<FileScanTask> tasks =
                table.newScan().filter(filter).ignoreResiduals().planFiles()) {
            tasks.forEach(t -> files.add(t.file()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    /** Files holding rows of runs at or after {@code firstRun}. */
    public List<DataFile> filesOfRunsFrom(long firstRun) {
        return files(Expressions.greaterThanOrEqual("run", firstRun));
    }

    /**
     * Files holding rows of runs before {@code beforeRun} appended at or after {@code appendedFromMillis}:
     * the earlier rows a fold reads to recognise retries within the dedup horizon.
     */
    public List<DataFile> filesBefore(long beforeRun, long appendedFromMillis) {
        if (appendedFromMillis == Long.MIN_VALUE) {
            return files(Expressions.lessThan("run", beforeRun));
        }
        return files(Expressions.and(
                Expressions.lessThan("run", beforeRun),
                Expressions.greaterThanOrEqual("append_time", appendedFromMillis * 1000)));
    }

    /** A writer of this table's data files for one attempt of one run, to use where the rows are (a Flink task). */
    public EventFileWriter.Factory writers(long run, String attempt) {
        return new EventFileWriter.Factory(table, run, attempt);
    }
}
