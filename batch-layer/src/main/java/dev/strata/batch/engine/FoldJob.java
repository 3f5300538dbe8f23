package dev.strata.batch.engine;

import dev.strata.batch.lake.LakeSchema;
import dev.strata.batch.views.Snapshot;
import dev.strata.schemas.Event;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.AggregateCodec;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapPartitionFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.core.fs.Path;
import org.apache.flink.formats.avro.typeutils.GenericRecordAvroTypeInfo;
import org.apache.flink.formats.parquet.avro.AvroParquetReaders;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.Collector;

/**
 * The batch views of some runs as a Flink batch job: the runs' lake files (and, for deduplication
 * only, the files of earlier runs within the dedup horizon) → key by event id → per id, in append
 * order, an id seen within the horizon counts once → fold each subtask's kept events into cells with
 * the shared monoid ({@link Aggregate}) → the partial cells, merged by the caller. The same code folds
 * one new run into the previous snapshot and recomputes everything for a replay.
 */
public final class FoldJob {

    private FoldJob() {}

    /**
     * Folds the rows of {@code runFiles} (runs numbered {@code >= firstRun}); {@code contextFiles}
     * are earlier runs' files read only to recognise retries. Returns the cells of the folded rows.
     */
    public static Map<ViewKey, Aggregate> run(Engine engine, List<ViewDefinition> views, Path eventsDir,
            List<String> contextFiles, List<String> runFiles, long firstRun, Duration dedupHorizon) throws Exception {
        Map<ViewKey, Aggregate> cells = new HashMap<>();
        if (runFiles.isEmpty()) {
            return cells;
        }
        List<Path> paths = new ArrayList<>();
        contextFiles.forEach(f -> paths.add(new Path(eventsDir, f)));
        runFiles.forEach(f -> paths.add(new Path(eventsDir, f)));
        FileSource<GenericRecord> source = FileSource
                .forRecordStreamFormat(AvroParquetReaders.forGenericRecord(LakeSchema.ROW), paths.toArray(Path[]::new))
                .build();
        GenericRecordAvroTypeInfo rowType = new GenericRecordAvroTypeInfo(LakeSchema.ROW);
        StreamExecutionEnvironment env = engine.environment();
        Map<String, ViewDefinition> byName = views.stream().collect(Collectors.toMap(ViewDefinition::name, Function.identity()));
        try (CloseableIterator<Tuple2<byte[], byte[]>> partials = env
                .fromSource(source, WatermarkStrategy.noWatermarks(), "lake files").name("lake files")
                .keyBy(new ById())
                .fullWindowPartition()
                .mapPartition(new Dedup(dedupHorizon.toMillis(), firstRun)).returns(rowType).name("dedup by id")
                .fullWindowPartition()
                .mapPartition(new FoldCells(views)).returns(Types.TUPLE(Types.PRIMITIVE_ARRAY(Types.BYTE),
                        Types.PRIMITIVE_ARRAY(Types.BYTE))).name("fold views")
                .executeAndCollect("strata batch fold runs " + firstRun + "+")) {
            while (partials.hasNext()) {
                Tuple2<byte[], byte[]> partial = partials.next();
                ViewKey cell = ViewKey.decode(partial.f0);
                Aggregate aggregate = AggregateCodec.decode(byName.get(cell.view()), partial.f1);
                cells.merge(cell, aggregate, Aggregate::merge);
            }
        }
        return cells;
    }

    static final class ById implements KeySelector<GenericRecord, String> {
        @Override
        public String getKey(GenericRecord row) {
            return row.get("id").toString();
        }
    }

    /**
     * The rows of one id in append order (partition, offset break ties); a row appended less than the
     * horizon after the last counted one is a retry. Emits the counted rows of the folded runs.
     */
    static final class Dedup implements MapPartitionFunction<GenericRecord, GenericRecord> {
        private final long horizonMillis;
        private final long firstRun;

        Dedup(long horizonMillis, long firstRun) {
            this.horizonMillis = horizonMillis;
            this.firstRun = firstRun;
        }

        @Override
        public void mapPartition(Iterable<GenericRecord> rows, Collector<GenericRecord> out) {
            List<GenericRecord> sorted = new ArrayList<>();
            rows.forEach(sorted::add);
            if (sorted.size() > 1) {
                sorted.sort(Comparator.comparingLong((GenericRecord r) -> LakeSchema.millis(r.get("append_time")))
                        .thenComparingInt(r -> (Integer) r.get("kafka_partition"))
                        .thenComparingLong(r -> (Long) r.get("kafka_offset")));
            }
            long lastCounted = Long.MIN_VALUE;
            for (GenericRecord row : sorted) {
                long appended = LakeSchema.millis(row.get("append_time"));
                if (lastCounted != Long.MIN_VALUE && appended - lastCounted < horizonMillis) {
                    continue;
                }
                lastCounted = appended;
                if ((Long) row.get("run") >= firstRun) {
                    out.collect(row);
                }
            }
        }
    }

    /** Folds every row of a subtask into its cells; emits (cell key, aggregate) encoded. */
    static final class FoldCells implements MapPartitionFunction<GenericRecord, Tuple2<byte[], byte[]>> {
        private final List<ViewDefinition> views;

        FoldCells(List<ViewDefinition> views) {
            this.views = List.copyOf(views);
        }

        @Override
        public void mapPartition(Iterable<GenericRecord> rows, Collector<Tuple2<byte[], byte[]>> out) {
            Map<ViewKey, Aggregate> cells = new HashMap<>();
            for (GenericRecord row : rows) {
                Event event = LakeSchema.event(row);
                for (ViewDefinition view : views) {
                    if (view.matches(event)) {
                        ViewKey cell = Snapshot.cell(view.name(), view.group(event), view.windowStart(event.getTime()).toEpochMilli());
                        cells.computeIfAbsent(cell, k -> Aggregate.empty(view)).fold(event);
                    }
                }
            }
            cells.forEach((cell, aggregate) -> out.collect(Tuple2.of(cell.encode(), AggregateCodec.encode(aggregate))));
        }
    }
}
