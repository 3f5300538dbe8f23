package dev.strata.lake;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionData;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.util.StructLikeWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maintenance's compaction of one run: per table, the small files of the partitions old enough
 * rewritten into as few files as the target size allows, one {@link PinnedCommit} per partition; a
 * partition whose files another run rewrote first is left (its new files deleted) with a note.
 */
final class Compaction {

    private static final Logger LOG = LoggerFactory.getLogger(Compaction.class);

    private final Maintenance.Settings settings;
    private final Clock clock;
    private final List<String> notes;
    int partitionsCompacted;
    int filesRewritten;
    int filesWritten;

    Compaction(Maintenance.Settings settings, Clock clock, List<String> notes) {
        this.settings = settings;
        this.clock = clock;
        this.notes = notes;
    }

    /**
     * Rewrites the small files of each partition whose rows are all older than {@code compactAfter}
     * (by the partition's time column) into as few files as the target size allows: the same rows,
     * in the same order (oldest file first), one commit per partition.
     */
    void compact(
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
                        rewrite.set(Maintenance.OPERATION, "compaction")
                                .set(Maintenance.ATTEMPT, attempt)
                                .commit();
                    },
                    Maintenance.ATTEMPT,
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
}
