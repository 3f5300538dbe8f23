package dev.strata.lake;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;

/**
 * One committed version of a lake table as a reader sees it: the current snapshot's data files (and
 * nothing else: files of a run that never committed are not among them), the schema, every schema
 * version the table had, and the snapshots of its history. What the serving layer's catalog
 * describes and its SQL reads.
 *
 * @param snapshotId empty for a table nothing was committed to yet
 * @param committedMillis when the current snapshot was committed (0: none)
 * @param summary the current snapshot's summary (Iceberg's counts and Strata's keys)
 * @param metadataLocation the metadata file of this version, which any Iceberg reader opens directly
 */
public record TableVersion(
        String name,
        OptionalLong snapshotId,
        long committedMillis,
        Schema schema,
        List<DataFileEntry> files,
        List<SchemaVersion> schemaVersions,
        List<SnapshotEntry> snapshots,
        Map<String, String> summary,
        String metadataLocation) {

    /** A data file: its location, its partition as a path ({@code time_hour=2026-11-23-10}), rows and bytes. */
    public record DataFileEntry(String location, String partition, long rows, long bytes) {}

    /**
     * A schema the table had: its Iceberg id, columns, and when the first snapshot still in the
     * table's history was committed with it (empty: none is).
     */
    public record SchemaVersion(int id, List<Column> columns, OptionalLong firstUsedMillis) {}

    /** A column: its name, Iceberg type ({@code string}, {@code timestamptz}, …) and whether it may be null. */
    public record Column(String name, String type, boolean nullable) {}

    /** A snapshot of the table's history: id, commit time, operation and summary. */
    public record SnapshotEntry(long id, long committedMillis, String operation, Map<String, String> summary) {}

    public long rows() {
        return files.stream().mapToLong(DataFileEntry::rows).sum();
    }

    public long bytes() {
        return files.stream().mapToLong(DataFileEntry::bytes).sum();
    }

    public SortedSet<String> partitions() {
        TreeSet<String> partitions = new TreeSet<>();
        files.forEach(f -> partitions.add(f.partition()));
        return partitions;
    }

    /** The table's current version (its metadata read again from the catalog). */
    public static TableVersion of(String name, Table table) {
        table.refresh();
        Snapshot current = table.currentSnapshot();
        String metadataLocation = table instanceof HasTableOperations ops
                ? ops.operations().current().metadataFileLocation()
                : null;
        List<SchemaVersion> schemas = new ArrayList<>();
        Map<Integer, Long> firstUsed = new HashMap<>();
        for (Snapshot s : table.snapshots()) {
            if (s.schemaId() != null) {
                firstUsed.merge(s.schemaId(), s.timestampMillis(), Math::min);
            }
        }
        table.schemas().values().stream()
                .sorted(Comparator.comparingInt(Schema::schemaId))
                .forEach(s -> schemas.add(new SchemaVersion(
                        s.schemaId(),
                        columns(s),
                        firstUsed.containsKey(s.schemaId())
                                ? OptionalLong.of(firstUsed.get(s.schemaId()))
                                : OptionalLong.empty())));
        if (current == null) {
            return new TableVersion(
                    name,
                    OptionalLong.empty(),
                    0,
                    table.schema(),
                    List.of(),
                    schemas,
                    List.of(),
                    Map.of(),
                    metadataLocation);
        }
        List<DataFileEntry> files = new ArrayList<>();
        try (CloseableIterable<FileScanTask> tasks =
                table.newScan().useSnapshot(current.snapshotId()).planFiles()) {
            for (FileScanTask task : tasks) {
                files.add(new DataFileEntry(
                        task.file().location(),
                        table.specs()
                                .get(task.file().specId())
                                .partitionToPath(task.file().partition()),
                        task.file().recordCount(),
                        task.file().fileSizeInBytes()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        files.sort(Comparator.comparing(DataFileEntry::location));
        List<SnapshotEntry> history = new ArrayList<>();
        for (Snapshot s = current; s != null; s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
            history.add(
                    new SnapshotEntry(s.snapshotId(), s.timestampMillis(), s.operation(), new TreeMap<>(s.summary())));
        }
        Schema schema =
                current.schemaId() == null ? table.schema() : table.schemas().get(current.schemaId());
        return new TableVersion(
                name,
                OptionalLong.of(current.snapshotId()),
                current.timestampMillis(),
                schema,
                files,
                schemas,
                history,
                new TreeMap<>(current.summary()),
                metadataLocation);
    }

    static List<Column> columns(Schema schema) {
        List<Column> columns = new ArrayList<>();
        for (Types.NestedField f : schema.columns()) {
            columns.add(new Column(f.name(), f.type().toString(), f.isOptional()));
        }
        return columns;
    }
}
