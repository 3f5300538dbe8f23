package dev.strata.lake;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.OverwriteFiles;
import org.apache.iceberg.ReplacePartitions;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotUpdate;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.Transactions;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.util.SnapshotUtil;

/**
 * A transform's output: an Iceberg table of the {@value #NAMESPACE_NAME} namespace whose every
 * commit records the input snapshots it covers ({@value #INPUTS}). A run plans from the inputs the
 * output has applied and commits only if no other run committed in between ({@link PinnedCommit}):
 * racing runs, a rerun or a crashed run never apply one input snapshot twice nor skip one.
 */
public final class CuratedTable {

    static final String NAMESPACE_NAME = "curated";
    public static final Namespace NAMESPACE = Namespace.of(NAMESPACE_NAME);

    /** Summary keys of a transform's commit. */
    public static final String TRANSFORM = "strata.transform.name";
    /** The input snapshots the output covers after this commit: {@code table=snapshot,…}. */
    public static final String INPUTS = "strata.transform.inputs";
    /** What this run read incrementally: {@code table=after..upto} (after: exclusive, 0 for none). */
    public static final String READ = "strata.transform.read";

    public static final String MODE = "strata.transform.mode";
    public static final String ROWS = "strata.transform.rows";
    public static final String DURATION = "strata.transform.duration-ms";
    public static final String ATTEMPT = "strata.transform.attempt";

    /** An output's table properties: those of the events' table (format v2, ZSTD, metadata kept bounded). */
    static final Map<String, String> PROPERTIES = EventsTable.PROPERTIES;

    private final String name;
    private final Table table;

    CuratedTable(String name, Table table) {
        this.name = name;
        this.table = table;
    }

    public String name() {
        return name;
    }

    public Table table() {
        return table;
    }

    /**
     * What the output has applied: the snapshot of the output that recorded it (empty: none yet) and
     * the input snapshots, by table.
     */
    public record Applied(OptionalLong snapshot, Map<String, Long> inputs) {
        public static final Applied NONE = new Applied(OptionalLong.empty(), Map.of());
    }

    public Applied applied() {
        table.refresh();
        return applied(((HasTableOperations) table).operations().current());
    }

    static Applied applied(TableMetadata metadata) {
        for (Snapshot s = metadata.currentSnapshot(); s != null; ) {
            String inputs = s.summary().get(INPUTS);
            if (inputs != null) {
                return new Applied(OptionalLong.of(s.snapshotId()), parse(inputs));
            }
            s = s.parentId() == null ? null : metadata.snapshot(s.parentId());
        }
        return Applied.NONE;
    }

    /** {@code a=1,b=2} as a map (names are lowercase letters, digits and {@code _}). */
    public static Map<String, Long> parse(String text) {
        Map<String, Long> out = new TreeMap<>();
        if (text.isEmpty()) {
            return out;
        }
        for (String pair : text.split(",")) {
            int eq = pair.indexOf('=');
            out.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
        }
        return Collections.unmodifiableMap(out);
    }

    public static String format(Map<String, Long> inputs) {
        StringBuilder out = new StringBuilder();
        new TreeMap<>(inputs)
                .forEach((k, v) -> out.append(out.isEmpty() ? "" : ",")
                        .append(k)
                        .append('=')
                        .append(v));
        return out.toString();
    }

    /** Another run committed since this one planned: nothing of this one is in the table. */
    public static final class Conflict extends Exception {
        private static final long serialVersionUID = 1L;

        Conflict(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Commits a run's files planned from {@code basis}: appended, or (replace) replacing the
     * partitions they are in; with {@code summary} (which must hold {@link #INPUTS} and
     * {@link #ATTEMPT}).
     *
     * @throws Conflict when another run committed since {@code basis}
     */
    public Snapshot commit(Applied basis, List<DataFile> files, boolean replace, Map<String, String> summary)
            throws Conflict {
        return PinnedCommit.commit(
                table,
                current -> {
                    Applied now = applied(current);
                    if (!now.snapshot().equals(basis.snapshot())) {
                        throw new Conflict("transform output " + name + ": another run applied " + format(now.inputs())
                                + " since this one planned from " + format(basis.inputs()));
                    }
                },
                tx -> {
                    SnapshotUpdate<?> update;
                    if (replace && !files.isEmpty()) {
                        ReplacePartitions r = tx.newReplacePartitions();
                        files.forEach(r::addFile);
                        update = r;
                    } else {
                        AppendFiles a = tx.newAppend();
                        files.forEach(a::appendFile);
                        update = a;
                    }
                    summary.forEach(update::set);
                    update.commit();
                },
                ATTEMPT,
                summary.get(ATTEMPT));
    }

    /**
     * Makes the run before the current one current again (its data and the input snapshots it
     * covered), as the batch views' rollback does: the next run applies the later input snapshots
     * again. Pinned to the version read: a run committing meanwhile makes it throw.
     *
     * @return the run now current
     * @throws Conflict when another run committed meanwhile
     * @throws IllegalStateException when there is no earlier run (or maintenance expired it)
     */
    public Run rollback() throws Conflict {
        TableOperations ops = ((HasTableOperations) table).operations();
        TableMetadata base = ops.refresh();
        Applied now = applied(base);
        if (now.snapshot().isEmpty()) {
            throw new IllegalStateException("transform output " + name + " has no run to roll back");
        }
        Snapshot current = base.snapshot(now.snapshot().getAsLong());
        Snapshot previous = current.parentId() == null ? null : base.snapshot(current.parentId());
        while (previous != null && !previous.summary().containsKey(INPUTS)) {
            previous = previous.parentId() == null ? null : base.snapshot(previous.parentId());
        }
        if (previous == null) {
            throw new IllegalStateException("transform output " + name + ": no earlier run to roll back to"
                    + " (the current one is the first, or maintenance expired the ones before it)");
        }
        Transaction tx = Transactions.newTransaction(table.name(), new PinnedOperations(ops, base));
        tx.manageSnapshots().setCurrentSnapshot(previous.snapshotId()).commit();
        try {
            tx.commitTransaction();
        } catch (PinnedOperations.Moved e) {
            throw new Conflict(
                    "transform output " + name + ": another run committed while rolling back; nothing changed");
        }
        table.refresh();
        long id = previous.snapshotId();
        return runs().stream().filter(r -> r.snapshot() == id).findFirst().orElseThrow();
    }

    /**
     * Commits a replay planned from {@code basis}: {@code delete} (the current files of the partitions
     * that change) replaced by {@code add}, with {@code summary} as {@link #commit}'s.
     *
     * @throws Conflict when another run committed since {@code basis}
     */
    public Snapshot overwrite(Applied basis, List<DataFile> delete, List<DataFile> add, Map<String, String> summary)
            throws Conflict {
        return PinnedCommit.commit(
                table,
                current -> {
                    Applied now = applied(current);
                    if (!now.snapshot().equals(basis.snapshot())) {
                        throw new Conflict("transform output " + name + ": a run applied " + format(now.inputs())
                                + " while the replay computed; nothing changed: replay again");
                    }
                },
                tx -> {
                    OverwriteFiles o = tx.newOverwrite();
                    delete.forEach(o::deleteFile);
                    add.forEach(o::addFile);
                    summary.forEach(o::set);
                    o.commit();
                },
                ATTEMPT,
                summary.get(ATTEMPT));
    }

    /** A run as its commit recorded it. */
    public record Run(
            long snapshot,
            long committedMillis,
            String mode,
            Map<String, Long> inputs,
            String read,
            long rows,
            long durationMillis,
            long filesAdded) {}

    /** The runs the output's current version is made of (rolled-back ones not), newest first, as far as its history goes. */
    public List<Run> runs() {
        table.refresh();
        List<Run> runs = new ArrayList<>();
        Snapshot current = table.currentSnapshot();
        if (current == null) {
            return runs;
        }
        for (Snapshot s : SnapshotUtil.ancestorsOf(current.snapshotId(), table::snapshot)) {
            Map<String, String> sum = s.summary();
            if (!sum.containsKey(INPUTS)) {
                continue;
            }
            runs.add(new Run(
                    s.snapshotId(),
                    s.timestampMillis(),
                    sum.getOrDefault(MODE, ""),
                    parse(sum.get(INPUTS)),
                    sum.getOrDefault(READ, ""),
                    Long.parseLong(sum.getOrDefault(ROWS, "0")),
                    Long.parseLong(sum.getOrDefault(DURATION, "0")),
                    Long.parseLong(sum.getOrDefault("added-data-files", "0"))));
        }
        runs.sort((a, b) -> Long.compare(b.committedMillis(), a.committedMillis()));
        return runs;
    }

    /** The summary of a run's commit. */
    public static Map<String, String> summary(
            String transform,
            String mode,
            Map<String, Long> inputs,
            String read,
            long rows,
            long millis,
            String attempt) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put(TRANSFORM, transform);
        out.put(MODE, mode);
        out.put(INPUTS, format(inputs));
        out.put(READ, read);
        out.put(ROWS, Long.toString(rows));
        out.put(DURATION, Long.toString(millis));
        out.put(ATTEMPT, attempt);
        return out;
    }
}
