package dev.strata.lake;

import static org.apache.iceberg.types.Types.NestedField.required;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.AggregateCodec;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code strata.batch_views}: every batch view, one row per cell (view, group, window) with the
 * mergeable state bytes the serving layer loads and, beside them, readable columns for SQL: one
 * per group-by field ({@code source}, {@code type}, {@code attr_<key>}) and one per measure
 * ({@code count}, {@code sum}, {@code p95}, {@code distinct_source}, …), added by Iceberg's schema
 * evolution when a view needs a column the table lacks. Partitioned by view.
 *
 * <p>A batch snapshot is an Iceberg snapshot: each one replaces every cell, and records the run
 * and cut it holds, the cut settings it was computed with and each view's definition. A commit
 * holds only if the table's current snapshot is still the one its fold started from; rollback
 * makes an earlier snapshot current again.
 */
public final class ViewsTable {

    private static final Logger LOG = LoggerFactory.getLogger(ViewsTable.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    public static final String NAME = "batch_views";

    static final Schema SCHEMA = new Schema(
            required(1, "view", Types.StringType.get()),
            required(2, "group_values", Types.ListType.ofRequired(3, Types.StringType.get())),
            required(4, "window_start", Types.TimestampType.withZone()),
            required(5, "window_end", Types.TimestampType.withZone()),
            required(6, "state", Types.BinaryType.get()));

    static final PartitionSpec SPEC =
            PartitionSpec.builderFor(SCHEMA).identity("view").build();

    static final Map<String, String> PROPERTIES = EventsTable.PROPERTIES;

    public static final String RUN = "strata.views.run";
    public static final String CUT = "strata.views.cut-ms";
    public static final String BUCKET = "strata.views.bucket-ms";
    public static final String DEDUP_HORIZON = "strata.views.dedup-horizon-ms";
    public static final String DEFINITIONS = "strata.views.definitions";
    public static final String KIND = "strata.views.kind";
    public static final String CELLS = "strata.views.cells";
    public static final String ATTEMPT = "strata.views.attempt";

    /**
     * What a batch snapshot holds, without its cells.
     *
     * @param snapshotId empty when no batch snapshot was committed yet
     * @param definitions each view's canonical definition, as it was computed
     * @param kind how it was made: {@code fold}, {@code replay}, {@code rollback}
     */
    public record Head(
            OptionalLong snapshotId,
            long run,
            long cutMillis,
            Optional<CutSettings> settings,
            Map<String, String> definitions,
            String kind,
            long cells,
            long committedMillis) {
        public static final Head EMPTY =
                new Head(OptionalLong.empty(), 0, Long.MIN_VALUE, Optional.empty(), Map.of(), "none", 0, 0);
    }

    /** How {@code batch-commits} names a snapshot of this table. */
    public static final String REFERENCE_PREFIX = "strata." + NAME + "@";

    public static String reference(long snapshotId) {
        return REFERENCE_PREFIX + snapshotId;
    }

    /** The snapshot id a {@link #reference} names; empty for anything else (an earlier build's file name). */
    public static OptionalLong snapshotOf(String reference) {
        if (reference == null || !reference.startsWith(REFERENCE_PREFIX)) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(reference.substring(REFERENCE_PREFIX.length())));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    private final Table table;

    ViewsTable(Table table) {
        this.table = table;
    }

    public Table table() {
        return table;
    }

    /** The current batch snapshot's head (the catalog read again). */
    public Head head() {
        table.refresh();
        Snapshot current = table.currentSnapshot();
        return current == null ? Head.EMPTY : head(current);
    }

    /** The head of a snapshot of the table; empty if it is not (or no longer) there. */
    public Optional<Head> head(long snapshotId) {
        Snapshot s = table.snapshot(snapshotId);
        if (s == null) {
            table.refresh();
            s = table.snapshot(snapshotId);
        }
        return Optional.ofNullable(s).map(ViewsTable::head);
    }

    static Head head(Snapshot s) {
        Map<String, String> summary = s.summary();
        if (!summary.containsKey(RUN)) {
            return new Head(
                    OptionalLong.of(s.snapshotId()),
                    0,
                    Long.MIN_VALUE,
                    Optional.empty(),
                    Map.of(),
                    "foreign",
                    0,
                    s.timestampMillis());
        }
        Optional<CutSettings> settings = summary.containsKey(BUCKET) && summary.containsKey(DEDUP_HORIZON)
                ? Optional.of(new CutSettings(
                        Duration.ofMillis(Long.parseLong(summary.get(BUCKET))),
                        Duration.ofMillis(Long.parseLong(summary.get(DEDUP_HORIZON)))))
                : Optional.empty();
        return new Head(
                OptionalLong.of(s.snapshotId()),
                Long.parseLong(summary.get(RUN)),
                Long.parseLong(summary.get(CUT)),
                settings,
                definitions(summary.get(DEFINITIONS)),
                summary.getOrDefault(KIND, "fold"),
                Long.parseLong(summary.getOrDefault(CELLS, "0")),
                s.timestampMillis());
    }

    private static Map<String, String> definitions(String json) {
        if (json == null) {
            return Map.of();
        }
        try {
            return JSON.readValue(json, new TypeReference<TreeMap<String, String>>() {});
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the batch views' snapshot summary has unreadable definitions", e);
        }
    }

    /** The snapshots of the current history, newest first, each with its head. */
    public List<Head> history() {
        table.refresh();
        List<Head> heads = new ArrayList<>();
        for (Snapshot s = table.currentSnapshot();
                s != null;
                s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
            heads.add(head(s));
        }
        return heads;
    }

    /**
     * The cells of a batch snapshot; those of views not in {@code views} (no longer defined) are
     * left out.
     *
     * @throws IllegalArgumentException if the snapshot is not (or no longer) in the table
     */
    public Map<ViewKey, Aggregate> cells(long snapshotId, Map<String, ViewDefinition> views) {
        if (table.snapshot(snapshotId) == null) {
            table.refresh();
            if (table.snapshot(snapshotId) == null) {
                throw new IllegalArgumentException("snapshot " + snapshotId + " of " + NAME
                        + " is not in the table (expired, or never committed)");
            }
        }
        Map<ViewKey, Aggregate> cells = new HashMap<>();
        try (CloseableIterable<Record> rows = IcebergGenerics.read(table)
                .useSnapshot(snapshotId)
                .select(CELL_COLUMNS)
                .build()) {
            for (Record row : rows) {
                addCell(row, views, cells);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return cells;
    }

    /** The columns a cell is read back from. */
    static final List<String> CELL_COLUMNS = List.of("view", "group_values", "window_start", "state");

    /** Adds the cell of a row (its {@link #CELL_COLUMNS}) to {@code cells}, unless its view is not in {@code views}. */
    static void addCell(Record row, Map<String, ViewDefinition> views, Map<ViewKey, Aggregate> cells) {
        ViewDefinition view = views.get((String) row.getField("view"));
        if (view == null) {
            return;
        }
        long windowStart =
                ((OffsetDateTime) row.getField("window_start")).toInstant().toEpochMilli();
        cells.put(key(view, row.getField("group_values"), windowStart), state(view, row.getField("state")));
    }

    /** The key of a cell read back: its view, its {@code group_values} column, its window's start. */
    static ViewKey key(ViewDefinition view, Object groupValues, long windowStartMillis) {
        @SuppressWarnings("unchecked")
        List<CharSequence> group = (List<CharSequence>) groupValues;
        return new ViewKey(
                view.name(), group.stream().map(CharSequence::toString).toList(), windowStartMillis, 0);
    }

    /** The aggregate of a cell read back, from its {@code state} column. */
    static Aggregate state(ViewDefinition view, Object stateColumn) {
        ByteBuffer state = ((ByteBuffer) stateColumn).duplicate();
        byte[] bytes = new byte[state.remaining()];
        state.get(bytes);
        return AggregateCodec.decode(view, bytes);
    }

    /**
     * The cells of the snapshot {@code commit} announces, checked to be the one announced.
     *
     * @throws IllegalArgumentException if the commit names no snapshot of this table (an earlier
     *     build's snapshot file), one that is not (or no longer) in it, or one holding another run or cut
     */
    public Map<ViewKey, Aggregate> announced(BatchCommit commit, Map<String, ViewDefinition> views) {
        OptionalLong id = snapshotOf(commit.snapshot());
        if (id.isEmpty()) {
            throw new IllegalArgumentException("the commit of run " + commit.run() + " names " + commit.snapshot()
                    + ", not a snapshot of " + NAME + " (an earlier build's snapshot file): the batch layer's next"
                    + " commit replaces it");
        }
        Head head = head(id.getAsLong())
                .orElseThrow(() -> new IllegalArgumentException("snapshot " + id.getAsLong() + " of " + NAME
                        + " is not in the table (expired, or never committed)"));
        if (head.run() != commit.run() || head.cutMillis() != commit.cutMillis()) {
            throw new IllegalArgumentException("snapshot " + id.getAsLong() + " of " + NAME + " holds run " + head.run()
                    + " cut " + head.cutMillis() + ", the commit announced run " + commit.run() + " cut "
                    + commit.cutMillis());
        }
        return cells(id.getAsLong(), views);
    }

    /** A batch snapshot to commit: what it holds, and how it was made. */
    public record Contents(
            long run,
            long cutMillis,
            CutSettings settings,
            Map<String, String> definitions,
            String kind,
            Collection<ViewDefinition> views,
            Map<ViewKey, Aggregate> cells) {
        Contents withCells(Map<ViewKey, Aggregate> other) {
            return new Contents(run, cutMillis, settings, definitions, kind, views, other);
        }
    }

    /**
     * Commits a batch snapshot replacing every cell, only if the table's current snapshot is still
     * {@code base} (empty: no snapshot yet).
     *
     * @return the new snapshot's id
     * @throws ViewsConflict if another process committed since {@code base} was read (nothing of
     *     this one is committed; its files are deleted)
     */
    public long commit(OptionalLong base, Contents contents) throws ViewsConflict {
        ViewColumns.addMissing(table, contents.views());
        return ViewsCommit.commit(
                table,
                base,
                contents,
                Map.of(),
                Optional.empty(),
                contents.cells().size());
    }

    /**
     * Folds {@code folded} (the cells of newly folded rows, merged into the cells they share) into
     * the batch snapshot {@code base} and commits the result, only if {@code base} is still current:
     * only the files holding cells the fold touches, and small ones, are read and written again
     * ({@link ViewRewrite}), so the commit costs about the cells touched, not the whole views.
     *
     * @return the new snapshot's id
     * @throws ViewsConflict if another process committed since {@code base} was read
     */
    public long commitFolded(Head base, Contents folded) throws ViewsConflict {
        if (base.snapshotId().isEmpty()) {
            return commit(OptionalLong.empty(), folded);
        }
        long id = base.snapshotId().getAsLong();
        ViewColumns.addMissing(table, folded.views()); // before the files are read: the rows copied have every column
        Map<String, ViewDefinition> views = new HashMap<>();
        folded.views().forEach(v -> views.put(v.name(), v));
        Optional<ViewRewrite.Plan> plan = ViewRewrite.plan(table, id, views, folded.cells());
        if (plan.isEmpty()) { // delete files of another writer: every cell merged and written again
            Map<ViewKey, Aggregate> cells = cells(id, views);
            folded.cells().forEach((cell, aggregate) -> cells.merge(cell, aggregate, Aggregate::merge));
            return ViewsCommit.commit(
                    table, base.snapshotId(), folded.withCells(cells), Map.of(), Optional.empty(), cells.size());
        }
        ViewRewrite.Plan p = plan.get();
        return ViewsCommit.commit(
                table,
                base.snapshotId(),
                folded.withCells(p.cells()),
                p.copied(),
                Optional.of(p.replaced()),
                p.keptCells() + p.cells().size() + p.copied().size());
    }

    /**
     * Makes the snapshot before {@code current} the table's current one again (Iceberg's rollback),
     * only if {@code current} is still current.
     *
     * @return the snapshot now current
     * @throws ViewsConflict if another process changed the views meanwhile
     * @throws IllegalStateException if {@code current} has no earlier snapshot left
     */
    public long rollback(long current) throws ViewsConflict {
        table.refresh();
        ViewsCommit.expect(((HasTableOperations) table).operations().current(), OptionalLong.of(current));
        Snapshot now = table.snapshot(current);
        if (now.parentId() == null || table.snapshot(now.parentId()) == null) {
            throw new IllegalStateException(
                    "nothing to roll back to: snapshot " + current + " of " + NAME + " has no earlier snapshot kept");
        }
        long previous = now.parentId();
        PinnedCommit.commit(
                table,
                metadata -> ViewsCommit.expect(metadata, OptionalLong.of(current)),
                tx -> tx.manageSnapshots().setCurrentSnapshot(previous).commit(),
                ATTEMPT,
                "rollback-" + EventsTable.newAttempt());
        LOG.info("batch_views: rolled back from snapshot {} to {}", current, previous);
        return previous;
    }

    /**
     * Expires the snapshots beyond the rollback depth: the current one and {@code keep - 1} before
     * it stay; older ones, and those rolled back from, go with the files only they use.
     */
    public void expire(int keep) {
        Maintenance.expire(table, Math.max(1, keep));
    }
}
