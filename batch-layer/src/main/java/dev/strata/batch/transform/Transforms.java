package dev.strata.batch.transform;

import dev.strata.batch.engine.CrashPoints;
import dev.strata.batch.engine.Engine;
import dev.strata.lake.CuratedTable;
import dev.strata.lake.DatasetTable;
import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.lake.ViewsTable;
import dev.strata.schemas.transforms.TransformConfig;
import dev.strata.schemas.transforms.TransformDefinition;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.apache.iceberg.util.SnapshotUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs transforms: plans a run from what the output has applied, runs the query on the engine and
 * commits the result with the input snapshots it covers. A run that finds another run committed
 * first (racing runs, a scheduler beside an operator) throws its files away and plans again from
 * the new basis, so each input snapshot is applied exactly once; a crashed run leaves only files no
 * snapshot references (swept by {@code strata lake maintain}).
 */
public final class Transforms {

    private static final Logger LOG = LoggerFactory.getLogger(Transforms.class);
    private static final int MAX_TRIES = 10;

    private Transforms() {}

    /** What a run did. */
    public record Outcome(
            String transform,
            boolean applied,
            Map<String, Long> inputs,
            String read,
            long rows,
            int files,
            long millis,
            Optional<Long> snapshot) {

        public String describe() {
            return applied
                    ? String.format(
                            "transform %s: %,d rows in %d file(s), inputs %s (read %s), %d ms, snapshot %d",
                            transform,
                            rows,
                            files,
                            CuratedTable.format(inputs),
                            read.isEmpty() ? "all" : read,
                            millis,
                            snapshot.orElse(0L))
                    : "transform " + transform + ": up to date with " + CuratedTable.format(inputs);
        }
    }

    /** Runs {@code transform} once: applies what its inputs have that its output has not. */
    public static Outcome run(Engine engine, Lake lake, TransformDefinition transform) throws Exception {
        for (int tries = 1; ; tries++) {
            try {
                return attempt(engine, lake, transform);
            } catch (CuratedTable.Conflict e) {
                if (tries == MAX_TRIES) {
                    throw new TransformException(transform, "another run committed first " + tries + " times", e);
                }
                LOG.info("{}; planning again", e.getMessage());
            }
        }
    }

    private static Outcome attempt(Engine engine, Lake lake, TransformDefinition transform) throws Exception {
        long started = System.nanoTime();
        Optional<CuratedTable> existing = lake.curated(transform.output());
        CuratedTable.Applied basis = existing.map(CuratedTable::applied).orElse(CuratedTable.Applied.NONE);
        TransformJob.Planned planned =
                TransformJob.plan(engine.environment(), transform, name -> input(lake, transform, basis, name));
        long plannedAt = System.nanoTime();
        if (transform.incremental().isPresent()
                && !planned.inputs().containsKey(transform.incremental().get())) {
            throw new TransformException(
                    transform,
                    "it is incremental over '" + transform.incremental().get() + "', which its SQL does not read"
                            + " (it reads " + planned.inputs().keySet() + ")");
        }
        Map<String, Long> inputs = new TreeMap<>(basis.inputs());
        StringBuilder read = new StringBuilder();
        planned.inputs().values().forEach(in -> {
            // An empty table is recorded as snapshot 0, so its first snapshot counts as new input.
            inputs.put(in.name(), in.snapshot().orElse(0L));
            if (in.after().isPresent()
                    || transform.incremental().map(in.name()::equals).orElse(false)) {
                read.append(read.isEmpty() ? "" : ",")
                        .append(in.name())
                        .append('=')
                        .append(in.after().orElse(0L))
                        .append("..")
                        .append(in.snapshot().orElse(0L));
            }
        });
        if (existing.isPresent() && upToDate(transform, basis, planned)) {
            return new Outcome(transform.name(), false, basis.inputs(), "", 0, 0, 0, Optional.empty());
        }
        Schema schema;
        try {
            schema = LakeTypes.output(planned.result().getResolvedSchema());
        } catch (IllegalArgumentException e) {
            throw new TransformException(transform, e.getMessage());
        }
        if (existing.isEmpty() && lake.dataset(transform.output()).isPresent()) {
            throw new TransformException(
                    transform,
                    "its output table '" + transform.output() + "' is the name of an uploaded dataset: SQL would"
                            + " not know which one a query means; choose another name");
        }
        CuratedTable output =
                existing.orElseGet(() -> lake.createCurated(transform.output(), schema, spec(transform, schema)));
        compatible(transform, output.table(), schema, inputs);
        String attempt = EventsTable.newAttempt();
        TransformJob.Written written;
        try {
            written = TransformJob.write(
                    planned, new OutputWriter.Factory(output.table(), attempt), "strata transform " + transform.name());
        } catch (Exception e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            throw new TransformException(
                    transform,
                    "its job failed: " + root + "; inputs " + CuratedTable.format(inputs)
                            + " (nothing of it is applied; the next run tries again)",
                    e);
        }
        CrashPoints.reached("transform-before-commit");
        long ranAt = System.nanoTime();
        long millis = TimeUnit.NANOSECONDS.toMillis(ranAt - started);
        try {
            Snapshot committed = output.commit(
                    basis,
                    written.files(),
                    transform.mode() == TransformDefinition.Mode.REPLACE,
                    CuratedTable.summary(
                            transform.name(),
                            transform.mode().yaml(),
                            inputs,
                            read.toString(),
                            written.rows(),
                            millis,
                            attempt));
            Outcome outcome = new Outcome(
                    transform.name(),
                    true,
                    inputs,
                    read.toString(),
                    written.rows(),
                    written.files().size(),
                    millis,
                    Optional.of(committed.snapshotId()));
            LOG.info(
                    "{} ({} ms to plan, {} ms to run the job, {} ms to commit)",
                    outcome.describe(),
                    TimeUnit.NANOSECONDS.toMillis(plannedAt - started),
                    TimeUnit.NANOSECONDS.toMillis(ranAt - plannedAt),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - ranAt));
            return outcome;
        } catch (CuratedTable.Conflict e) {
            for (DataFile f : written.files()) {
                output.table().io().deleteFile(f.location());
            }
            throw e;
        }
    }

    private static boolean upToDate(
            TransformDefinition transform, CuratedTable.Applied basis, TransformJob.Planned planned) {
        if (transform.mode() == TransformDefinition.Mode.INCREMENTAL) {
            TransformJob.Input in = planned.inputs().get(transform.incremental().orElseThrow());
            return in != null && in.files().isEmpty();
        }
        for (TransformJob.Input in : planned.inputs().values()) {
            if (!Optional.of(in.snapshot().orElse(0L))
                    .equals(Optional.ofNullable(basis.inputs().get(in.name())))) {
                return false;
            }
        }
        return true;
    }

    /** The lake's table a query means by {@code name}: events, batch_views, a dataset or a transform's output. */
    static Optional<Table> table(Lake lake, String name) {
        return switch (name) {
            case EventsTable.NAME -> Optional.of(lake.events().table());
            case ViewsTable.NAME -> Optional.of(lake.views().table());
            default ->
                lake.dataset(name)
                        .map(DatasetTable::table)
                        .or(() -> lake.curated(name).map(CuratedTable::table));
        };
    }

    /** A table the query names, as this run reads it. */
    static Optional<TransformJob.Input> input(
            Lake lake, TransformDefinition transform, CuratedTable.Applied basis, String name)
            throws TransformException {
        if (name.equals(transform.output())) {
            throw new TransformException(transform, "it reads its own output table '" + name + "'");
        }
        Optional<Table> found = table(lake, name);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        Table table = found.get();
        table.refresh();
        Snapshot current = table.currentSnapshot();
        boolean incremental = transform.incremental().map(name::equals).orElse(false);
        Optional<Long> after =
                incremental ? Optional.ofNullable(basis.inputs().get(name)).filter(a -> a != 0) : Optional.empty();
        List<String> files = new ArrayList<>();
        if (current != null && !(after.isPresent() && after.get() == current.snapshotId())) {
            CloseableIterable<FileScanTask> tasks;
            if (after.isPresent()) {
                if (!SnapshotUtil.isAncestorOf(table, current.snapshotId(), after.get())) {
                    throw new TransformException(
                            transform,
                            "the snapshot " + after.get() + " of input '" + name + "' it applied last is no longer in"
                                    + " the table's history (expired by maintenance): replay the transform");
                }
                tasks = table.newIncrementalAppendScan()
                        .fromSnapshotExclusive(after.get())
                        .toSnapshot(current.snapshotId())
                        .planFiles();
            } else {
                tasks = table.newScan().useSnapshot(current.snapshotId()).planFiles();
            }
            try (tasks) {
                for (FileScanTask task : tasks) {
                    if (!task.deletes().isEmpty()) {
                        throw new TransformException(
                                transform, "input '" + name + "' has delete files, which transforms do not read yet");
                    }
                    files.add(task.file().location());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return Optional.of(new TransformJob.Input(
                name,
                Optional.ofNullable(current).map(Snapshot::snapshotId),
                after,
                List.copyOf(files),
                LakeTypes.input(table.schema(), LakeTypes.named(transform.sql()))));
    }

    /** The output's partitioning, from the transform's {@code partitionBy}. */
    static PartitionSpec spec(TransformDefinition transform, Schema schema) throws IllegalArgumentException {
        PartitionSpec.Builder spec = PartitionSpec.builderFor(schema);
        for (String text : transform.partitionBy()) {
            TransformConfig.PartitionField field = TransformConfig.PartitionField.parse(text);
            if (schema.findField(field.column()) == null) {
                throw new IllegalArgumentException("transform '" + transform.name() + "': partitionBy '" + text
                        + "' names no column of the result "
                        + schema.columns().stream().map(Types.NestedField::name).toList());
            }
            switch (field.transform()) {
                case "identity" -> spec.identity(field.column());
                case "year" -> spec.year(field.column());
                case "month" -> spec.month(field.column());
                case "day" -> spec.day(field.column());
                case "hour" -> spec.hour(field.column());
                default -> throw new IllegalStateException(field.transform());
            }
        }
        return spec.build();
    }

    /** The result must have the output table's columns, in order, with their types. */
    static void compatible(TransformDefinition transform, Table table, Schema result, Map<String, Long> inputs)
            throws TransformException {
        List<String> have = table.schema().columns().stream()
                .map(f -> f.name() + " " + f.type())
                .toList();
        List<String> want =
                result.columns().stream().map(f -> f.name() + " " + f.type()).toList();
        if (!have.equals(want)) {
            throw new TransformException(
                    transform,
                    "its result (" + String.join(", ", want) + ") does not fit its output table '" + transform.output()
                            + "' (" + String.join(", ", have) + "); inputs " + CuratedTable.format(inputs)
                            + ": change the query back, or give it a new output table");
        }
    }
}
