package dev.strata.batch.engine;

import dev.strata.lake.IdentityIndex;
import java.util.Arrays;
import java.util.List;
import org.apache.datasketches.filters.bloomfilter.BloomFilter;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.Partitioner;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.Output;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.binary.BinaryStringData;
import org.apache.flink.util.CloseableIterator;

/**
 * The first batch job of a fold: the 64-bit hash of every folded row's identity, (source, id) → to
 * the subtask of its hash → the hashes seen more than once, or that an earlier row within the dedup
 * horizon may have ({@link History}'s Bloom filter of them), back to the client (a small set:
 * retries are rare). Up to a number of rows per subtask a hash set in memory finds them; beyond,
 * Flink's sort (which spills to disk).
 */
final class RetryCandidates {

    private RetryCandidates() {}

    /**
     * The identity hashes that occur more than once in {@code files}, or that {@code earlier} (a
     * {@link History#filter}, null for none) may hold.
     */
    static LongHashSet find(
            Engine engine, List<String> files, long rowsPerSubtask, boolean inMemory, long firstRun, byte[] earlier)
            throws Exception {
        DataStream<Long> hashes = engine.environment()
                .fromSource(
                        LakeColumns.of(List.of("source", "id")).source(files),
                        WatermarkStrategy.noWatermarks(),
                        "lake ids")
                .name("lake ids")
                .map(new IdentityHash())
                .returns(Types.LONG)
                .name("identity hashes");
        DataStream<long[]> repeated = inMemory
                ? hashes.partitionCustom(new ByHash(), new Identity())
                        .transform(
                                "hashes seen twice (in memory)",
                                CHUNK,
                                new RepeatedInMemory((int) rowsPerSubtask, earlier))
                : hashes.keyBy(new Identity()).transform("hashes seen twice (sorted)", CHUNK, new Repeated(earlier));
        LongHashSet candidates = new LongHashSet();
        try (CloseableIterator<long[]> found =
                repeated.executeAndCollect("strata batch retry candidates, runs " + firstRun + "+")) {
            while (found.hasNext()) { // read while the job runs: the collect sink waits for the client
                for (long hash : found.next()) {
                    candidates.add(hash);
                }
            }
        }
        return candidates;
    }

    /**
     * The 64-bit hash of an event's identity, {@link IdentityIndex#hash} (the identity indexes hold
     * the same), over Flink's strings in place: a fixed-length key sorts far faster than strings in
     * Flink's batch shuffle. Identities whose hashes collide are both candidates and told apart
     * exactly by {@link DecideRetries}.
     */
    static long identityHash(StringData source, StringData id) {
        long h = fnv(IdentityIndex.SEED, (BinaryStringData) source); // read in place: no copy per row
        return IdentityIndex.finish(fnv(IdentityIndex.separate(h), (BinaryStringData) id));
    }

    private static long fnv(long h, BinaryStringData bytes) {
        for (int i = 0, n = bytes.getSizeInBytes(); i < n; i++) {
            h = IdentityIndex.step(h, bytes.byteAt(i));
        }
        return h;
    }

    static final class IdentityHash implements MapFunction<RowData, Long> {
        @Override
        public Long map(RowData row) {
            return identityHash(row.getString(0), row.getString(1));
        }
    }

    static final class Identity implements KeySelector<Long, Long> {
        @Override
        public Long getKey(Long hash) {
            return hash;
        }
    }

    /** Sends equal hashes to the same subtask (no sort: the receiver keeps a hash set). */
    static final class ByHash implements Partitioner<Long> {
        @Override
        public int partition(Long hash, int partitions) {
            return (int) Long.remainderUnsigned(hash >>> 1, partitions);
        }
    }

    /**
     * Emits each hash that occurs more than once. An operator on the keyed stream: in BATCH mode its
     * input arrives sorted by key, so equal hashes are adjacent — no state and no hand-over to
     * another thread, as a full-window partition would have.
     */
    static final class Repeated extends AbstractStreamOperator<long[]>
            implements OneInputStreamOperator<Long, long[]>, BoundedOneInput {
        private final byte[] earlier;
        private transient BloomFilter filter;
        private transient long last;
        private transient int seen;
        private transient Chunks chunks;

        Repeated(byte[] earlier) {
            this.earlier = earlier;
        }

        @Override
        public void processElement(StreamRecord<Long> element) {
            if (chunks == null) {
                chunks = new Chunks(output);
                filter = earlier == null ? null : History.read(earlier);
            }
            long hash = element.getValue();
            if (seen > 0 && hash == last) {
                if (++seen == 2 && (filter == null || !filter.query(hash))) {
                    chunks.add(hash);
                }
                return;
            }
            last = hash;
            seen = 1;
            if (filter != null && filter.query(hash)) {
                chunks.add(hash);
            }
        }

        @Override
        public void endInput() {
            if (chunks != null) {
                chunks.flush();
            }
        }
    }

    /** Hashes sent on in arrays of up to {@value #CHUNK_SIZE}: one record per hash made the collect the bottleneck. */
    static final int CHUNK_SIZE = 8192;

    static final TypeInformation<long[]> CHUNK = PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO;

    private static final class Chunks {
        private final Output<StreamRecord<long[]>> output;
        private long[] chunk = new long[CHUNK_SIZE];
        private int size;

        Chunks(Output<StreamRecord<long[]>> output) {
            this.output = output;
        }

        void add(long hash) {
            chunk[size++] = hash;
            if (size == chunk.length) {
                flush();
            }
        }

        void flush() {
            if (size > 0) {
                output.collect(new StreamRecord<>(Arrays.copyOf(chunk, size)));
                size = 0;
            }
        }
    }

    /** Emits each hash that occurs more than once (once per repeat; the client keeps a set). */
    static final class RepeatedInMemory extends AbstractStreamOperator<long[]>
            implements OneInputStreamOperator<Long, long[]>, BoundedOneInput {
        private final int expected;
        private final byte[] earlier;
        private transient BloomFilter filter;
        private transient LongHashSet seen;
        private transient Chunks chunks;

        RepeatedInMemory(int expected, byte[] earlier) {
            this.expected = expected;
            this.earlier = earlier;
        }

        @Override
        public void processElement(StreamRecord<Long> element) {
            if (seen == null) {
                seen = new LongHashSet(expected);
                chunks = new Chunks(output);
                filter = earlier == null ? null : History.read(earlier);
            }
            long hash = element.getValue();
            if (!seen.add(hash) || (filter != null && filter.query(hash))) {
                chunks.add(hash);
            }
        }

        @Override
        public void endInput() {
            if (chunks != null) {
                chunks.flush();
            }
            seen = null;
        }
    }
}
