package dev.strata.batch.engine;

import dev.strata.batch.views.BatchCycle;
import dev.strata.batch.views.Snapshot;
import dev.strata.schemas.Event;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.AggregateCodec;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.Partitioner;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.binary.BinaryStringData;
import org.apache.flink.util.CloseableIterator;

/**
 * The batch views of some runs as two Flink batch jobs over a few columns of the lake each
 * ({@link LakeColumns}). First the candidates: the 64-bit hash of every row's id (of the folded runs
 * and, for recognising retries only, of earlier runs within the dedup horizon) → key by it → the
 * hashes seen more than once come back to the client (a small set: retries are rare). Then the
 * fold, without any shuffle: each subtask folds the rows of its files whose id hash is not a
 * candidate into cells with the shared monoid ({@link Aggregate}) and emits its partial cells and
 * the candidate rows themselves. The client decides exactly, by the ids themselves, which candidate
 * rows are retries (per id in append order, a row appended less than the horizon after the last
 * counted one), folds the others and merges everything. The same code folds one new run into the
 * previous snapshot and recomputes everything for a replay.
 */
public final class FoldJob {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FoldJob.class);
    /** The first field of a candidate row in the fold's output; a cell's first field is its key (never empty). */
    private static final byte[] CANDIDATE = new byte[0];

    private FoldJob() {}

    /**
     * Folds the rows of {@code runFiles} (runs numbered {@code >= firstRun}); {@code contextFiles}
     * are earlier runs' files read only to recognise retries; {@code rows} is how many rows all of
     * them hold. Returns the cells of the folded rows.
     */
    public static Map<ViewKey, Aggregate> run(
            Engine engine,
            BatchCycle.Settings settings,
            Path eventsDir,
            List<String> contextFiles,
            List<String> runFiles,
            long rows,
            long firstRun)
            throws Exception {
        List<ViewDefinition> views = settings.views();
        Duration dedupHorizon = settings.cut().dedupHorizon();
        Map<ViewKey, Aggregate> cells = new HashMap<>();
        if (runFiles.isEmpty()) {
            return cells;
        }
        long started = System.nanoTime();
        List<String> all = new ArrayList<>(contextFiles);
        all.addAll(runFiles);
        LongHashSet candidates = new LongHashSet();
        long rowsPerSubtask = rows / Math.max(1, engine.parallelism());
        boolean inMemory = rowsPerSubtask <= settings.inMemoryRowsPerSubtask();
        DataStream<Long> hashes = engine.environment()
                .fromSource(
                        LakeColumns.of(List.of("id")).source(eventsDir, all),
                        WatermarkStrategy.noWatermarks(),
                        "lake ids")
                .name("lake ids")
                .map(new IdHash())
                .returns(Types.LONG)
                .name("id hashes");
        DataStream<Long> repeated = inMemory
                ? hashes.partitionCustom(new ByHash(), new Identity())
                        .transform(
                                "hashes seen twice (in memory)", Types.LONG, new RepeatedInMemory((int) rowsPerSubtask))
                : hashes.keyBy(new Identity()).transform("hashes seen twice (sorted)", Types.LONG, new Repeated());
        try (CloseableIterator<Long> found =
                repeated.executeAndCollect("strata batch retry candidates, runs " + firstRun + "+")) {
            while (found.hasNext()) { // read while the job runs: the collect sink waits for the client
                candidates.add(found.next());
            }
        }
        long candidatesFound = System.nanoTime();
        Map<String, ViewDefinition> byName =
                views.stream().collect(Collectors.toMap(ViewDefinition::name, Function.identity()));
        boolean withAttributes = views.stream().anyMatch(ViewDefinition::readsAttributes);
        List<String> foldColumns = new ArrayList<>(LakeColumns.Events.columns(withAttributes));
        foldColumns.addAll(List.of("id", "append_time", "kafka_partition", "kafka_offset", "run"));
        LakeColumns columns = LakeColumns.of(foldColumns);
        List<Candidate> candidateRows = new ArrayList<>();
        try (CloseableIterator<Tuple2<byte[], byte[]>> partials = engine.environment()
                .fromSource(
                        columns.source(eventsDir, candidates.isEmpty() ? runFiles : all),
                        WatermarkStrategy.noWatermarks(),
                        "lake rows")
                .name("lake rows")
                .transform(
                        "fold views",
                        Types.TUPLE(Types.PRIMITIVE_ARRAY(Types.BYTE), Types.PRIMITIVE_ARRAY(Types.BYTE)),
                        new FoldCells(views, candidates, firstRun, columns, withAttributes))
                .executeAndCollect("strata batch fold, runs " + firstRun + "+")) {
            while (partials.hasNext()) {
                Tuple2<byte[], byte[]> partial = partials.next();
                if (partial.f0.length == 0) {
                    candidateRows.add(Candidate.decode(partial.f1));
                    continue;
                }
                ViewKey cell = ViewKey.decode(partial.f0);
                Aggregate aggregate = AggregateCodec.decode(byName.get(cell.view()), partial.f1);
                cells.merge(cell, aggregate, Aggregate::merge);
            }
        }
        List<Candidate> counted = counted(candidateRows, dedupHorizon.toMillis());
        Cells folded = new Cells(views);
        counted.stream().filter(c -> c.run() >= firstRun).forEach(c -> folded.fold(c.event()));
        folded.addTo(cells);
        long retries = candidateRows.stream().filter(c -> c.run() >= firstRun).count()
                - counted.stream().filter(c -> c.run() >= firstRun).count();
        LOG.info(
                "Fold of {} file(s) (+{} for retries): {} candidate rows ({}), {} retries skipped, {} cells; {} ms for the "
                        + "candidates, {} ms for the fold",
                runFiles.size(),
                contextFiles.size(),
                candidateRows.size(),
                inMemory ? "hashed in memory" : "sorted",
                retries,
                cells.size(),
                (candidatesFound - started) / 1_000_000,
                (System.nanoTime() - candidatesFound) / 1_000_000);
        return cells;
    }

    /**
     * The rows that count: per id, in append order (position breaks ties), a row appended less than
     * the horizon after the last counted one of its id is a retry.
     */
    static List<Candidate> counted(List<Candidate> rows, long horizonMillis) {
        List<Candidate> sorted = new ArrayList<>(rows);
        sorted.sort(Comparator.comparing(Candidate::id)
                .thenComparingLong(Candidate::appendTime)
                .thenComparingLong(Candidate::position));
        List<Candidate> counted = new ArrayList<>();
        String id = null;
        long lastCounted = Long.MIN_VALUE;
        for (Candidate row : sorted) {
            if (!row.id().equals(id)) {
                id = row.id();
                lastCounted = Long.MIN_VALUE;
            }
            if (lastCounted != Long.MIN_VALUE && row.appendTime() - lastCounted < horizonMillis) {
                continue;
            }
            lastCounted = row.appendTime();
            counted.add(row);
        }
        return counted;
    }

    /**
     * The 64-bit hash of an id's UTF-8 bytes (FNV-1a, then a murmur3 finaliser to spread the bits):
     * a fixed-length key sorts far faster than a string in Flink's batch shuffle. Ids that collide
     * are both candidates and told apart by the client.
     */
    static long idHash(StringData id) {
        BinaryStringData bytes = (BinaryStringData) id; // read in place: no copy per row
        long h = 0xcbf29ce484222325L;
        for (int i = 0, n = bytes.getSizeInBytes(); i < n; i++) {
            h ^= bytes.byteAt(i) & 0xff;
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return h;
    }

    static final class IdHash implements MapFunction<RowData, Long> {
        @Override
        public Long map(RowData row) {
            return idHash(row.getString(0));
        }
    }

    static final class Identity implements KeySelector<Long, Long> {
        @Override
        public Long getKey(Long hash) {
            return hash;
        }
    }

    /**
     * Emits each hash that occurs more than once. An operator on the keyed stream: in BATCH mode its
     * input arrives sorted by key, so equal hashes are adjacent — no state and no hand-over to
     * another thread, as a full-window partition would have.
     */
    static final class Repeated extends AbstractStreamOperator<Long>
            implements OneInputStreamOperator<Long, Long>, BoundedOneInput {
        private transient long last;
        private transient int seen;

        @Override
        public void processElement(StreamRecord<Long> element) {
            long hash = element.getValue();
            if (seen > 0 && hash == last) {
                if (++seen == 2) {
                    output.collect(new StreamRecord<>(hash));
                }
                return;
            }
            last = hash;
            seen = 1;
        }

        @Override
        public void endInput() {}
    }

    /** Sends equal hashes to the same subtask (no sort: the receiver keeps a hash set). */
    static final class ByHash implements Partitioner<Long> {
        @Override
        public int partition(Long hash, int partitions) {
            return (int) Long.remainderUnsigned(hash >>> 1, partitions);
        }
    }

    /** Emits each hash that occurs more than once (once per repeat; the client keeps a set). */
    static final class RepeatedInMemory extends AbstractStreamOperator<Long>
            implements OneInputStreamOperator<Long, Long>, BoundedOneInput {
        private final int expected;
        private transient LongHashSet seen;

        RepeatedInMemory(int expected) {
            this.expected = expected;
        }

        @Override
        public void processElement(StreamRecord<Long> element) {
            if (seen == null) {
                seen = new LongHashSet(expected);
            }
            long hash = element.getValue();
            if (!seen.add(hash)) {
                output.collect(new StreamRecord<>(hash));
            }
        }

        @Override
        public void endInput() {
            seen = null;
        }
    }

    /** A row whose id hash was seen more than once: the client decides whether it is a retry. */
    record Candidate(String id, long appendTime, long position, long run, Event event) {

        /** The row and the event's fields the views read (source, type, time, value, attributes). */
        byte[] encode() {
            try {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
                DataOutputStream out = new DataOutputStream(bytes);
                out.writeLong(appendTime);
                out.writeLong(position);
                out.writeLong(run);
                writeString(out, id);
                writeString(out, event.getSource());
                writeString(out, event.getType());
                out.writeLong(event.getTime().toEpochMilli());
                out.writeBoolean(event.getValue() != null);
                out.writeDouble(event.getValue() == null ? 0 : event.getValue());
                out.writeInt(event.getAttributes().size());
                for (Map.Entry<String, String> attribute : event.getAttributes().entrySet()) {
                    writeString(out, attribute.getKey());
                    writeString(out, attribute.getValue());
                }
                return bytes.toByteArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        static Candidate decode(byte[] bytes) {
            try {
                DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes));
                long appendTime = in.readLong();
                long position = in.readLong();
                long run = in.readLong();
                String id = readString(in);
                String source = readString(in);
                String type = readString(in);
                Instant time = Instant.ofEpochMilli(in.readLong());
                boolean hasValue = in.readBoolean();
                double value = in.readDouble();
                int attributeCount = in.readInt();
                Map<String, String> attributes = new HashMap<>();
                for (int i = 0; i < attributeCount; i++) {
                    attributes.put(readString(in), readString(in));
                }
                Event event = new Event(id, source, type, time, hasValue ? value : null, attributes, time);
                return new Candidate(id, appendTime, position, run, event);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static void writeString(DataOutputStream out, String s) throws IOException {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            out.writeInt(utf8.length);
            out.write(utf8);
        }

        private static String readString(DataInputStream in) throws IOException {
            byte[] utf8 = new byte[in.readInt()];
            in.readFully(utf8);
            return new String(utf8, StandardCharsets.UTF_8);
        }
    }

    /**
     * Cells being folded: each event into the cell of each view that takes it. Per view, a cell is
     * found by its group values and window (no {@link ViewKey} per event); {@link #addTo} gives the
     * cells their keys.
     */
    static final class Cells {
        private final List<ViewDefinition> views;
        private final String[][] groupBy;
        private final List<Map<Cell, Aggregate>> perView = new ArrayList<>();

        Cells(List<ViewDefinition> views) {
            this.views = views;
            this.groupBy =
                    views.stream().map(v -> v.groupBy().toArray(String[]::new)).toArray(String[][]::new);
            views.forEach(v -> perView.add(new HashMap<>()));
        }

        void fold(Event event) {
            long time = event.getTime().toEpochMilli();
            for (int v = 0; v < groupBy.length; v++) {
                ViewDefinition view = views.get(v);
                if (view.matches(event)) {
                    String[] fields = groupBy[v];
                    String[] group = new String[fields.length];
                    for (int i = 0; i < fields.length; i++) {
                        group[i] = ViewDefinition.field(event, fields[i]);
                    }
                    long size = view.window().toMillis();
                    Cell cell = new Cell(group, Math.floorDiv(time, size) * size);
                    Aggregate aggregate = perView.get(v).get(cell);
                    if (aggregate == null) {
                        aggregate = Aggregate.empty(view);
                        perView.get(v).put(cell, aggregate);
                    }
                    aggregate.fold(event);
                }
            }
        }

        /** Merges these cells into {@code cells}, keyed as snapshots key them. */
        void addTo(Map<ViewKey, Aggregate> cells) {
            for (int v = 0; v < groupBy.length; v++) {
                String view = views.get(v).name();
                perView.get(v)
                        .forEach((cell, aggregate) -> cells.merge(
                                Snapshot.cell(view, List.of(cell.group), cell.windowStart),
                                aggregate,
                                Aggregate::merge));
            }
        }

        /** A view's group values and window start. */
        private static final class Cell {
            final String[] group;
            final long windowStart;
            private final int hash;

            Cell(String[] group, long windowStart) {
                this.group = group;
                this.windowStart = windowStart;
                this.hash = 31 * java.util.Arrays.hashCode(group) + Long.hashCode(windowStart);
            }

            @Override
            public boolean equals(Object o) {
                return o instanceof Cell c
                        && c.hash == hash
                        && c.windowStart == windowStart
                        && java.util.Arrays.equals(c.group, group);
            }

            @Override
            public int hashCode() {
                return hash;
            }
        }
    }

    /**
     * Folds every row of a subtask's runs ({@code >= firstRun}) whose id hash is not a candidate into
     * its cells and passes candidate rows (of any run) on; at the end of the input emits (cell key,
     * aggregate), encoded.
     */
    static final class FoldCells extends AbstractStreamOperator<Tuple2<byte[], byte[]>>
            implements OneInputStreamOperator<RowData, Tuple2<byte[], byte[]>>, BoundedOneInput {
        private final List<ViewDefinition> views;
        private final LongHashSet candidates;
        private final long firstRun;
        private final LakeColumns.Events events;
        private final int id;
        private final int appendTime;
        private final int partition;
        private final int offset;
        private final int run;
        private transient Cells cells;

        FoldCells(
                List<ViewDefinition> views,
                LongHashSet candidates,
                long firstRun,
                LakeColumns columns,
                boolean withAttributes) {
            this.views = List.copyOf(views);
            this.candidates = candidates;
            this.firstRun = firstRun;
            this.events = new LakeColumns.Events(columns, withAttributes);
            this.id = columns.index("id");
            this.appendTime = columns.index("append_time");
            this.partition = columns.index("kafka_partition");
            this.offset = columns.index("kafka_offset");
            this.run = columns.index("run");
        }

        @Override
        public void processElement(StreamRecord<RowData> element) {
            RowData row = element.getValue();
            if (cells == null) {
                cells = new Cells(views);
            }
            if (!candidates.isEmpty() && candidates.contains(idHash(row.getString(id)))) {
                String rowId = row.getString(id).toString();
                Event event = events.of(row);
                event.setId(rowId);
                output.collect(new StreamRecord<>(Tuple2.of(
                        CANDIDATE,
                        new Candidate(
                                        rowId,
                                        row.getLong(appendTime),
                                        LakeColumns.position(row.getInt(partition), row.getLong(offset)),
                                        row.getLong(run),
                                        event)
                                .encode())));
                return;
            }
            if (row.getLong(run) >= firstRun) {
                cells.fold(events.of(row));
            }
        }

        @Override
        public void endInput() {
            if (cells != null) {
                Map<ViewKey, Aggregate> partial = new HashMap<>();
                cells.addTo(partial);
                partial.forEach((cell, aggregate) ->
                        output.collect(new StreamRecord<>(Tuple2.of(cell.encode(), AggregateCodec.encode(aggregate)))));
            }
        }
    }
}
