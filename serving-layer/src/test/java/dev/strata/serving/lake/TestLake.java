package dev.strata.serving.lake;

import dev.strata.lake.ArchivePlan;
import dev.strata.lake.ArchiveState;
import dev.strata.lake.CuratedTable;
import dev.strata.lake.DatasetTable;
import dev.strata.lake.DatasetWriter;
import dev.strata.lake.EventFileWriter;
import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import dev.strata.lake.ViewsTable;
import dev.strata.schemas.Event;
import dev.strata.schemas.lake.ColumnType;
import dev.strata.schemas.lake.DatasetColumn;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.parquet.InternalWriter;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;

/**
 * A small lake for tests: 150 events committed to the Iceberg {@code events} table in two archive
 * runs (and a third attempt's file written but never committed, as a crashed run leaves it), their
 * batch views in {@code batch_views}, and a dataset {@code sensors} of 10 rows.
 */
public final class TestLake {

    static final Instant HOUR = Instant.parse("2026-11-23T10:00:00Z");

    private TestLake() {}

    /** Writes the lake under {@code root}; returns the lake's directory. */
    public static Path write(Path root) throws Exception {
        Path lake = root.resolve("lake");
        write(LakeConfig.local(lake));
        return lake;
    }

    /** Writes the lake {@code config} names (a local one, or one on object storage). */
    public static void write(LakeConfig config) throws Exception {
        try (Lake opened = Lake.open(config)) {
            EventsTable events = opened.events();
            commit(events, 1, 1795464000000L, 0, 100);
            commit(events, 2, 1795464600000L, 100, 150);
            // The batch views of those 150 events.
            Map<ViewKey, Aggregate> cells = new HashMap<>();
            for (int i = 0; i < 150; i++) {
                Event e = event(i);
                for (ViewDefinition view : ViewConfig.defaults()) {
                    if (view.matches(e)) {
                        cells.computeIfAbsent(
                                        new ViewKey(
                                                view.name(),
                                                view.group(e),
                                                view.windowStartMillis(
                                                        e.getTime().toEpochMilli()),
                                                0),
                                        k -> Aggregate.empty(view))
                                .fold(e);
                    }
                }
            }
            opened.views()
                    .commit(
                            OptionalLong.empty(),
                            new ViewsTable.Contents(
                                    2,
                                    1795464600000L,
                                    CutSettings.DEFAULTS,
                                    Map.of(),
                                    "fold",
                                    ViewConfig.defaults(),
                                    cells));
            // A file no snapshot names (a crashed run's leftover): never read.
            try (EventFileWriter ghost = events.writers(3, "crashed").open(0)) {
                ghost.write(event(999), 0, 150, HOUR.toEpochMilli());
                ghost.finish();
            }
        }
        try (Lake opened = Lake.open(config)) {
            DatasetTable sensors = opened.createDataset(
                    "sensors",
                    List.of(
                            new DatasetColumn("id", ColumnType.LONG, true),
                            new DatasetColumn("even", ColumnType.BOOLEAN, true)));
            DataFile file;
            try (DatasetWriter writer = sensors.writer("20261123T100000000Z-00000001", HOUR.toEpochMilli())) {
                for (long i = 0; i < 10; i++) {
                    writer.write(new Object[] {i, i % 2 == 0});
                }
                file = writer.finish();
            }
            sensors.commit(
                    file,
                    sensors.schemaId(),
                    new DatasetTable.Adding(
                            "20261123T100000000Z-00000001", "0".repeat(64), "raw/sensors/a.csv", 10, 0, null));
            curated(opened);
        }
    }

    /**
     * A transform's output as a transform run leaves it: {@code source_counts}, the events per source,
     * committed with the events snapshot it covers.
     */
    static void curated(Lake opened) throws Exception {
        Schema schema = new Schema(
                Types.NestedField.optional(1, "source", Types.StringType.get()),
                Types.NestedField.optional(2, "n", Types.LongType.get()));
        CuratedTable table = opened.createCurated("source_counts", schema, PartitionSpec.unpartitioned());
        Map<String, Long> counts = new TreeMap<>();
        for (int i = 0; i < 150; i++) {
            counts.merge(event(i).getSource(), 1L, Long::sum);
        }
        OutputFile out = table.table()
                .io()
                .newOutputFile(table.table().locationProvider().newDataLocation("t.parquet"));
        DataWriter<GenericRecord> writer = Parquet.writeData(out)
                .forTable(table.table())
                .withSpec(PartitionSpec.unpartitioned())
                .createWriterFunc(type -> InternalWriter.create(schema.asStruct(), type))
                .overwrite()
                .build();
        GenericRecord row = GenericRecord.create(schema);
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            row.set(0, e.getKey());
            row.set(1, e.getValue());
            writer.write(row);
        }
        writer.close();
        long events = opened.events().table().currentSnapshot().snapshotId();
        table.commit(
                CuratedTable.Applied.NONE,
                List.of(writer.toDataFile()),
                false,
                CuratedTable.summary("source_counts", "replace", Map.of("events", events), "", 4, 10, "a1"));
    }

    /** Events {@code from} to {@code until} (exclusive) at those Kafka offsets of partition 0, as run {@code run}. */
    static void commit(EventsTable events, long run, long cut, int from, int until) throws Exception {
        ArchiveState basis = events.state();
        ArchivePlan plan = new ArchivePlan(
                run, cut, basis, Map.of(0, (long) from), Map.of(0, (long) until), EventsTable.newAttempt());
        try (EventFileWriter writer = events.writers(run, plan.attempt()).open(0)) {
            for (int i = from; i < until; i++) {
                writer.write(event(i), 0, i, HOUR.toEpochMilli() + i);
            }
            events.commit(plan, writer.finish(), until - from, 0);
        }
    }

    /** Event i: {@code e<i>} from dev-(i % 3), a temperature of i × 1.5; from 100 on, humidity 1.0 from dev-9. */
    static Event event(int i) {
        Instant time = HOUR.plusSeconds(i);
        return i < 100
                ? new Event("e" + i, "dev-" + (i % 3), "temperature", time, i * 1.5, Map.of(), time)
                : new Event("e" + i, "dev-9", "humidity", time, 1.0, Map.of(), time);
    }
}
