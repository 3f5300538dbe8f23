package dev.strata.lake;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.PartitionData;
import org.apache.iceberg.ReachableFileUtil;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.SupportsPrefixOperations;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.util.StructLikeWrapper;
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
    private int partitionsCompacted;
    private int filesRewritten;
    private int filesWritten;
    private int snapshotsExpired;
    private int orphansRemoved;
    private int partitionsDropped;
    private final List<String> notes = new ArrayList<>();

    private Maintenance(Lake lake, Settings settings, Clock clock) {
        this.lake = lake;
        this.settings = settings;
        this.clock = clock;
    }

    /** One maintenance run over every table of the lake. */
    public static Report run(Lake lake, Settings settings, Clock clock) {
        Maintenance m = new Maintenance(lake, settings, clock);
        EventsTable events = lake.events();
        settings.eventsRetention().ifPresent(r -> m.retain(events, r));
        m.compact(events.table(), "time", HOUR, EventsTable::carried);
        for (String name : lake.datasets()) {
            lake.dataset(name).ifPresent(d -> m.compact(d.table(), DatasetTable.INGESTED_AT, DAY, meta -> Map.of()));
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
            m.removeOrphans(table);
        }
        return new Report(
                m.partitionsCompacted,
                m.filesRewritten,
                m.filesWritten,
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
     * Rewrites the small files of each partition whose rows are all older than {@code compactAfter}
     * (by the partition's time column) into as few files as the target size allows: the same rows,
     * in the same order (oldest file first), one commit per partition.
     */
    private void compact(
            Table table,
            String timeColumn,
            long partitionMillis,
            Function<TableMetadata, Map<String, String>> carried) {
        table.refresh();
        if (table.currentSnapshot() == null) {
            return;
        }
        // Partitions of an hour (events) or a day (datasets) of the time column: below a partition
        // boundary, whole partitions only.
        long olderThanMicros =
                Math.floorDiv(clock.millis() - settings.compactAfter().toMillis(), partitionMillis)
                        * partitionMillis
                        * 1000;
        Map<StructLikeWrapper, List<DataFile>> small = new LinkedHashMap<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan()
                .filter(Expressions.lessThan(timeColumn, olderThanMicros))
                .ignoreResiduals()
                .planFiles()) {
            for (FileScanTask task : tasks) {
                DataFile file = task.file();
                if (file.fileSizeInBytes() >= settings.smallFileBytes()) {
                    continue;
                }
                small.computeIfAbsent(
                                StructLikeWrapper.forType(
                                                table.specs().get(file.specId()).partitionType())
                                        .set(file.partition()),
                                k -> new ArrayList<>())
                        .add(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (List<DataFile> files : small.values()) {
            if (files.size() >= 2) {
                files.sort(Comparator.comparing(DataFile::dataSequenceNumber, Comparator.nullsFirst(Long::compare))
                        .thenComparing(DataFile::location));
                compactPartition(table, files, carried);
            }
        }
    }

    private void compactPartition(
            Table table, List<DataFile> files, Function<TableMetadata, Map<String, String>> carried) {
        Schema schema = table.schema();
        List<DataFile> written = new ArrayList<>();
        String attempt = UUID.randomUUID().toString().substring(0, 8);
        try {
            DataWriter<Record> writer = null;
            try {
                int part = 0;
                for (DataFile file : files) {
                    try (CloseableIterable<Record> rows = Parquet.read(
                                    table.io().newInputFile(file.location()))
                            .project(schema)
                            .createReaderFunc(type -> GenericParquetReaders.buildReader(schema, type))
                            .build()) {
                        for (Record row : rows) {
                            if (writer == null) {
                                writer = open(table, files.get(0), attempt, part++);
                            }
                            writer.write(row);
                            if (writer.length() >= settings.targetFileBytes()) {
                                writer.close();
                                written.add(writer.toDataFile());
                                writer = null;
                            }
                        }
                    }
                }
                if (writer != null) {
                    writer.close();
                    written.add(writer.toDataFile());
                    writer = null;
                }
            } finally {
                if (writer != null) {
                    writer.close();
                }
            }
            long before = files.stream().mapToLong(DataFile::recordCount).sum();
            long after = written.stream().mapToLong(DataFile::recordCount).sum();
            if (before != after) {
                throw new IllegalStateException(table.name() + ": compaction read " + after + " rows of " + before);
            }
            Map<String, String> carry = new HashMap<>();
            PinnedCommit.commit(
                    table,
                    current -> {
                        carry.clear();
                        carry.putAll(carried.apply(current));
                    },
                    tx -> {
                        RewriteFiles rewrite = tx.newRewrite();
                        files.forEach(rewrite::deleteFile);
                        written.forEach(rewrite::addFile);
                        carry.forEach(rewrite::set);
                        rewrite.set(OPERATION, "compaction")
                                .set(ATTEMPT, attempt)
                                .commit();
                    },
                    ATTEMPT,
                    attempt);
            partitionsCompacted++;
            filesRewritten += files.size();
            filesWritten += written.size();
            LOG.info(
                    "{}: compacted {} file(s) of partition {} into {} ({} rows)",
                    table.name(),
                    files.size(),
                    files.get(0).partition(),
                    written.size(),
                    after);
        } catch (ValidationException e) {
            // Another maintenance run rewrote (or retention dropped) these files first.
            notes.add(table.name() + ": a partition's files changed meanwhile (" + e.getMessage() + ")");
            written.forEach(f -> table.io().deleteFile(f.location()));
        } catch (IOException e) {
            written.forEach(f -> table.io().deleteFile(f.location()));
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            written.forEach(f -> table.io().deleteFile(f.location()));
            throw e;
        }
    }

    private static DataWriter<Record> open(Table table, DataFile like, String attempt, int part) throws IOException {
        String name = "compacted-" + attempt + "-" + part + ".parquet";
        String location =
                table.locationProvider().newDataLocation(table.specs().get(like.specId()), like.partition(), name);
        return Parquet.writeData(table.io().newOutputFile(location))
                .forTable(table)
                .withSpec(table.specs().get(like.specId()))
                .withPartition(
                        new PartitionData(table.specs().get(like.specId()).partitionType()).copyFor(like.partition()))
                .createWriterFunc(GenericParquetWriter::create)
                .overwrite()
                .build();
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

    /**
     * Deletes the files under the table's location that none of its snapshots, manifests or metadata
     * files name and that are older than the orphan age: leftovers of crashed writers. A write in
     * progress is younger than the age, so it is never taken for one.
     */
    private void removeOrphans(Table table) {
        FileIO io = table.io();
        if (!(io instanceof SupportsPrefixOperations prefixes)) {
            notes.add(table.name() + ": its file I/O cannot list files; orphan files left");
            return;
        }
        table.refresh();
        long olderThan = clock.millis() - settings.orphanAge().toMillis();
        Set<String> referenced = new HashSet<>();
        TableMetadata metadata = ((HasTableOperations) table).operations().current();
        referenced.addAll(normalized(ReachableFileUtil.metadataFileLocations(table, true)));
        referenced.add(normalize(metadata.metadataFileLocation()));
        referenced.add(normalize(ReachableFileUtil.versionHintLocation(table)));
        referenced.addAll(normalized(ReachableFileUtil.statisticsFilesLocations(table)));
        for (Snapshot snapshot : table.snapshots()) {
            if (snapshot.manifestListLocation() != null) {
                referenced.add(normalize(snapshot.manifestListLocation()));
            }
            for (ManifestFile manifest : snapshot.allManifests(io)) {
                referenced.add(normalize(manifest.path()));
                try (CloseableIterable<String> paths = ManifestFiles.readPaths(manifest, io, table.specs())) {
                    paths.forEach(p -> referenced.add(normalize(p)));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        List<String> orphans = new ArrayList<>();
        for (FileInfo file : list(prefixes, table.location())) {
            // An identity index is kept while its data file is (IdentityIndex: derived, beside the file).
            String owner = IdentityIndex.dataFileOf(file.location()).orElse(file.location());
            if (file.createdAtMillis() < olderThan && !referenced.contains(normalize(owner))) {
                orphans.add(file.location());
            }
        }
        // Listed after the references were read: a file committed meanwhile is younger than the age.
        for (String orphan : orphans) {
            io.deleteFile(orphan);
        }
        orphansRemoved += orphans.size();
        if (!orphans.isEmpty()) {
            LOG.info("{}: removed {} orphan file(s)", table.name(), orphans.size());
        }
    }

    /**
     * The files under {@code location}. A local directory is walked by the JDK, skipping a file that
     * another writer removes meanwhile (Hadoop's listing fails on it: racing maintenance runs and
     * writers cleaning up do remove files); an object store is listed by its file I/O.
     */
    private static List<FileInfo> list(SupportsPrefixOperations prefixes, String location) {
        String normalized = normalize(location);
        if (!normalized.startsWith("/")) {
            List<FileInfo> files = new ArrayList<>();
            prefixes.listPrefix(location).forEach(files::add);
            return files;
        }
        List<FileInfo> files = new ArrayList<>();
        Path root = Path.of(normalized);
        if (!Files.isDirectory(root)) {
            return files;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    // Hadoop's checksum files are its own, not the table's (its listing leaves them out too).
                    if (attrs.isRegularFile() && !file.getFileName().toString().endsWith(".crc")) {
                        files.add(new FileInfo(
                                "file:" + file,
                                attrs.size(),
                                attrs.lastModifiedTime().toMillis()));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE; // removed meanwhile
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    private static List<String> normalized(Iterable<String> locations) {
        List<String> out = new ArrayList<>();
        locations.forEach(l -> out.add(normalize(l)));
        return out;
    }

    /** {@code file:/x}, {@code file:///x} and {@code /x} name the same local file. */
    static String normalize(String location) {
        if (location.startsWith("file:")) {
            String rest = location.substring("file:".length());
            while (rest.startsWith("//")) {
                rest = rest.substring(1);
            }
            return rest;
        }
        return location;
    }
}
