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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple5;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.core.fs.Path;
import org.apache.flink.formats.parquet.avro.AvroParquetReaders;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.CloseableIterator;

/**
 * The batch views of some runs as two Flink batch jobs. First the retries: every row of the runs
 * (and, for recognising retries only, of earlier runs within the dedup horizon) is reduced to a
 * small tuple (id hash, id, append time, position) → key by the id hash → per id, in append order,
 * a row appended less than the horizon after the last counted one is a retry; the positions of the
 * retries in the folded runs come back to the client (a small set: retries are rare). Then the fold,
 * without any shuffle: each subtask folds the rows of its files that are not retries into cells with
 * the shared monoid ({@link Aggregate}) and emits its partial cells, which the client merges. The
 * same code folds one new run into the previous snapshot and recomputes everything for a replay.
 */
public final class FoldJob {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FoldJob.class);

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
        long started = System.nanoTime();
        List<String> all = new ArrayList<>(contextFiles);
        all.addAll(runFiles);
        HashSet<Long> retries = new HashSet<>();
        StreamExecutionEnvironment ids = engine.environment();
        try (CloseableIterator<Long> found = ids
                .fromSource(lakeFiles(eventsDir, all), WatermarkStrategy.noWatermarks(), "lake files").name("lake files")
                .map(new ToIdRow()).returns(ID_ROW).name("ids")
                .keyBy(new ByIdHash())
                .transform("retries by id", Types.LONG, new Retries(dedupHorizon.toMillis(), firstRun))
                .executeAndCollect("strata batch retries, runs " + firstRun + "+")) {
            found.forEachRemaining(retries::add); // read while the job runs: the collect sink waits for the client
        }
        long retriesFound = System.nanoTime();
        Map<String, ViewDefinition> byName = views.stream().collect(Collectors.toMap(ViewDefinition::name, Function.identity()));
        StreamExecutionEnvironment fold = engine.environment();
        try (CloseableIterator<Tuple2<byte[], byte[]>> partials = fold
                .fromSource(lakeFiles(eventsDir, runFiles), WatermarkStrategy.noWatermarks(), "lake files").name("lake files")
                .transform("fold views", Types.TUPLE(Types.PRIMITIVE_ARRAY(Types.BYTE), Types.PRIMITIVE_ARRAY(Types.BYTE)),
                        new FoldCells(views, retries))
                .executeAndCollect("strata batch fold, runs " + firstRun + "+")) {
            while (partials.hasNext()) {
                Tuple2<byte[], byte[]> partial = partials.next();
                ViewKey cell = ViewKey.decode(partial.f0);
                Aggregate aggregate = AggregateCodec.decode(byName.get(cell.view()), partial.f1);
                cells.merge(cell, aggregate, Aggregate::merge);
            }
        }
        LOG.info("Fold of {} file(s) (+{} for retries): {} retries skipped, {} cells; {} ms for the retries, {} ms for the fold",
                runFiles.size(), contextFiles.size(), retries.size(), cells.size(), (retriesFound - started) / 1_000_000,
                (System.nanoTime() - retriesFound) / 1_000_000);
        return cells;
    }

    private static FileSource<GenericRecord> lakeFiles(Path eventsDir, List<String> files) {
        return FileSource.forRecordStreamFormat(AvroParquetReaders.forGenericRecord(LakeSchema.ROW),
                files.stream().map(f -> new Path(eventsDir, f)).toArray(Path[]::new)).build();
    }

    /** A row's place in Kafka as one number: partition in the top 16 bits, offset below. */
    static long position(GenericRecord row) {
        return ((long) (Integer) row.get("kafka_partition") << 48) | (Long) row.get("kafka_offset");
    }

    /** (id hash, id, append time, position, run). */
    static final TypeInformation<Tuple5<Long, String, Long, Long, Long>> ID_ROW =
            Types.TUPLE(Types.LONG, Types.STRING, Types.LONG, Types.LONG, Types.LONG);

    static final class ToIdRow implements MapFunction<GenericRecord, Tuple5<Long, String, Long, Long, Long>> {
        @Override
        public Tuple5<Long, String, Long, Long, Long> map(GenericRecord row) {
            String id = row.get("id").toString();
            return Tuple5.of(idHash(id), id, LakeSchema.millis(row.get("append_time")), position(row), (Long) row.get("run"));
        }
    }

    /**
     * The 64-bit hash of the id: a fixed-length key sorts far faster than a string in Flink's batch
     * shuffle. Ids that collide share a group; {@link Retries} tells them apart by the id itself.
     */
    static final class ByIdHash implements KeySelector<Tuple5<Long, String, Long, Long, Long>, Long> {
        @Override
        public Long getKey(Tuple5<Long, String, Long, Long, Long> row) {
            return row.f0;
        }
    }

    static long idHash(String id) {
        long h = 0xcbf29ce484222325L; // FNV-1a, then a murmur3 finaliser to spread the bits
        for (int i = 0; i < id.length(); i++) {
            h ^= id.charAt(i);
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return h;
    }

    /**
     * The rows of one id hash, by id then append order (position breaks ties); a row appended less
     * than the horizon after the last counted one of its id is a retry. Emits the positions of the
     * retries in the folded runs. An operator on the keyed stream: in BATCH mode its input arrives
     * sorted by key, so a group ends where the key changes (or the input ends) — no window state and
     * no hand-over to another thread, as a full-window partition would have.
     */
    static final class Retries extends AbstractStreamOperator<Long>
            implements OneInputStreamOperator<Tuple5<Long, String, Long, Long, Long>, Long>, BoundedOneInput {
        private final long horizonMillis;
        private final long firstRun;
        private transient List<Tuple5<Long, String, Long, Long, Long>> group;

        Retries(long horizonMillis, long firstRun) {
            this.horizonMillis = horizonMillis;
            this.firstRun = firstRun;
        }

        @Override
        public void processElement(StreamRecord<Tuple5<Long, String, Long, Long, Long>> element) {
            Tuple5<Long, String, Long, Long, Long> row = element.getValue();
            if (group == null) {
                group = new ArrayList<>();
            } else if (!group.isEmpty() && !group.get(0).f0.equals(row.f0)) {
                flush();
            }
            group.add(row.copy()); // object reuse: the input may refill it
        }

        @Override
        public void endInput() {
            if (group != null) {
                flush();
            }
        }

        private void flush() {
            if (group.size() > 1) {
                group.sort(Comparator.comparing((Tuple5<Long, String, Long, Long, Long> r) -> r.f1)
                        .thenComparingLong(r -> r.f2).thenComparingLong(r -> r.f3));
                String id = null;
                long lastCounted = Long.MIN_VALUE;
                for (Tuple5<Long, String, Long, Long, Long> row : group) {
                    if (!row.f1.equals(id)) { // another id with the same hash
                        id = row.f1;
                        lastCounted = Long.MIN_VALUE;
                    }
                    if (lastCounted != Long.MIN_VALUE && row.f2 - lastCounted < horizonMillis) {
                        if (row.f4 >= firstRun) {
                            output.collect(new StreamRecord<>(row.f3));
                        }
                        continue;
                    }
                    lastCounted = row.f2;
                }
            }
            group.clear();
        }
    }

    /**
     * Folds every row of a subtask that is not a retry into its cells; at the end of the input emits
     * (cell key, aggregate), encoded.
     */
    static final class FoldCells extends AbstractStreamOperator<Tuple2<byte[], byte[]>>
            implements OneInputStreamOperator<GenericRecord, Tuple2<byte[], byte[]>>, BoundedOneInput {
        private final List<ViewDefinition> views;
        private final HashSet<Long> retries;
        private transient Map<ViewKey, Aggregate> cells;

        FoldCells(List<ViewDefinition> views, HashSet<Long> retries) {
            this.views = List.copyOf(views);
            this.retries = retries;
        }

        @Override
        public void processElement(StreamRecord<GenericRecord> element) {
            GenericRecord row = element.getValue();
            if (cells == null) {
                cells = new HashMap<>();
            }
            if (!retries.isEmpty() && retries.contains(position(row))) {
                return;
            }
            Event event = LakeSchema.event(row);
            for (ViewDefinition view : views) {
                if (view.matches(event)) {
                    ViewKey cell = Snapshot.cell(view.name(), view.group(event), view.windowStart(event.getTime()).toEpochMilli());
                    cells.computeIfAbsent(cell, k -> Aggregate.empty(view)).fold(event);
                }
            }
        }

        @Override
        public void endInput() {
            if (cells != null) {
                cells.forEach((cell, aggregate) -> output.collect(new StreamRecord<>(Tuple2.of(cell.encode(),
                        AggregateCodec.encode(aggregate)))));
            }
        }
    }
}
