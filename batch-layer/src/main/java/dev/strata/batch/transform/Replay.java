package dev.strata.batch.transform;

import dev.strata.batch.engine.Engine;
import dev.strata.lake.CuratedTable;
import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.schemas.transforms.TransformDefinition;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionField;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.parquet.Parquet;

/**
 * {@code strata transform replay}: the transform's query over its inputs whole (their current
 * snapshots), compared with the output partition by partition (rows, and a fingerprint of their
 * values: the sum of a 64-bit hash of each row, so row order does not matter); the partitions that
 * differ are listed ({@code --dry-run}) or replaced in one commit that records the inputs it
 * covered, pinned like a run's (a run committing meanwhile makes it throw, nothing changed).
 * {@code --from}/{@code --to} limit it to the partitions of a time-partitioned output that overlap
 * the range.
 */
public final class Replay {

    private Replay() {}

    /** A partition that changes: its path, rows before and after. */
    public record Change(String partition, long rowsBefore, long rowsAfter) {}

    public record Result(
            List<Change> changes, int partitionsCompared, Map<String, Long> inputs, Optional<Long> snapshot) {}

    public static Result run(
            Engine engine,
            Lake lake,
            TransformDefinition transform,
            Optional<Instant> from,
            Optional<Instant> to,
            boolean dryRun)
            throws Exception {
        long started = System.nanoTime();
        CuratedTable output = lake.curated(transform.output())
                .orElseThrow(() -> new TransformException(transform, "it has not run yet: nothing to replay"));
        Table table = output.table();
        CuratedTable.Applied basis = output.applied();
        PartitionSpec spec = table.spec();
        Optional<PartitionField> time = spec.fields().stream()
                .filter(f -> List.of("year", "month", "day", "hour")
                        .contains(f.transform().toString()))
                .findFirst();
        if ((from.isPresent() || to.isPresent()) && time.isEmpty()) {
            throw new TransformException(
                    transform, "--from/--to need an output partitioned by time (year, month, day or hour of a column)");
        }
        TransformJob.Planned planned = TransformJob.plan(
                engine.environment(),
                transform,
                name -> Transforms.input(lake, transform, CuratedTable.Applied.NONE, name));
        Map<String, Long> inputs = new TreeMap<>(basis.inputs());
        planned.inputs()
                .values()
                .forEach(in -> inputs.put(in.name(), in.snapshot().orElse(0L)));
        Schema schema = LakeTypes.output(planned.result().getResolvedSchema());
        Transforms.compatible(transform, table, schema, inputs);
        String attempt = "replay-" + EventsTable.newAttempt();
        TransformJob.Written written = TransformJob.write(
                planned, new OutputWriter.Factory(table, attempt), "strata transform replay " + transform.name());
        Map<String, List<DataFile>> after = byPartition(spec, written.files());
        Map<String, List<DataFile>> before = byPartition(spec, current(table));
        List<Change> changes = new ArrayList<>();
        List<DataFile> delete = new ArrayList<>();
        List<DataFile> add = new ArrayList<>();
        int compared = 0;
        TreeSet<String> partitions = new TreeSet<>(before.keySet());
        partitions.addAll(after.keySet());
        for (String partition : partitions) {
            List<DataFile> old = before.getOrDefault(partition, List.of());
            List<DataFile> now = after.getOrDefault(partition, List.of());
            DataFile any = !now.isEmpty() ? now.get(0) : old.get(0);
            if (time.isPresent() && !overlaps(spec, time.get(), any, from, to)) {
                continue;
            }
            compared++;
            long[] was = fingerprint(table, old);
            long[] is = fingerprint(table, now);
            if (was[0] != is[0] || was[1] != is[1]) {
                changes.add(new Change(partition, was[0], is[0]));
                delete.addAll(old);
                add.addAll(now);
            }
        }
        for (DataFile f : written.files()) {
            if (dryRun || !add.contains(f)) {
                table.io().deleteFile(f.location());
            }
        }
        if (dryRun || changes.isEmpty()) {
            return new Result(changes, compared, inputs, Optional.empty());
        }
        long rows = add.stream().mapToLong(DataFile::recordCount).sum();
        Snapshot committed = output.overwrite(
                basis,
                delete,
                add,
                CuratedTable.summary(
                        transform.name(),
                        "replay",
                        inputs,
                        "",
                        rows,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
                        attempt));
        return new Result(changes, compared, inputs, Optional.of(committed.snapshotId()));
    }

    private static List<DataFile> current(Table table) {
        table.refresh();
        List<DataFile> files = new ArrayList<>();
        if (table.currentSnapshot() == null) {
            return files;
        }
        try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
            tasks.forEach(t -> files.add(t.file()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    private static Map<String, List<DataFile>> byPartition(PartitionSpec spec, List<DataFile> files) {
        Map<String, List<DataFile>> out = new TreeMap<>();
        for (DataFile f : files) {
            out.computeIfAbsent(spec.partitionToPath(f.partition()), k -> new ArrayList<>())
                    .add(f);
        }
        return out;
    }

    /** Whether a partition of a time transform overlaps [from, to). */
    private static boolean overlaps(
            PartitionSpec spec, PartitionField field, DataFile file, Optional<Instant> from, Optional<Instant> to) {
        int at = spec.fields().indexOf(field);
        Integer value = file.partition().get(at, Integer.class);
        if (value == null) {
            return true;
        }
        Instant start;
        Instant end;
        switch (field.transform().toString()) {
            case "hour" -> {
                start = Instant.EPOCH.plus(value, ChronoUnit.HOURS);
                end = start.plus(1, ChronoUnit.HOURS);
            }
            case "day" -> {
                start = Instant.EPOCH.plus(value, ChronoUnit.DAYS);
                end = start.plus(1, ChronoUnit.DAYS);
            }
            case "month" -> {
                LocalDate d = LocalDate.of(1970, 1, 1).plusMonths(value);
                start = d.atStartOfDay().toInstant(ZoneOffset.UTC);
                end = d.plusMonths(1).atStartOfDay().toInstant(ZoneOffset.UTC);
            }
            default -> {
                LocalDate d = LocalDate.of(1970 + value, 1, 1);
                start = d.atStartOfDay().toInstant(ZoneOffset.UTC);
                end = d.plusYears(1).atStartOfDay().toInstant(ZoneOffset.UTC);
            }
        }
        return from.map(f -> end.isAfter(f)).orElse(true)
                && to.map(t -> start.isBefore(t)).orElse(true);
    }

    /** Rows, and the sum of a 64-bit hash of each row's values (order-free), of some data files. */
    private static long[] fingerprint(Table table, List<DataFile> files) {
        long rows = 0;
        long sum = 0;
        Schema schema = table.schema();
        for (DataFile f : files) {
            try (CloseableIterable<Record> records = Parquet.read(table.io().newInputFile(f.location()))
                    .project(schema)
                    .createReaderFunc(fileSchema -> GenericParquetReaders.buildReader(schema, fileSchema))
                    .build()) {
                for (Record r : records) {
                    rows++;
                    byte[] text = r.toString().getBytes(StandardCharsets.UTF_8);
                    CRC32C crc = new CRC32C();
                    crc.update(text);
                    sum += (crc.getValue() << 32) ^ (java.util.Arrays.hashCode(text) & 0xffffffffL);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new long[] {rows, sum};
    }
}
