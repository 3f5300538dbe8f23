package dev.strata.batch.engine;

import dev.strata.lake.IdentityIndex;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.datasketches.filters.bloomfilter.BloomFilter;
import org.apache.datasketches.filters.bloomfilter.BloomFilterBuilder;
import org.apache.datasketches.memory.Memory;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.util.Collector;
import org.apache.iceberg.io.FileIO;

/**
 * The earlier runs' rows a fold reads to recognise retries, through their data files' identity
 * indexes ({@link IdentityIndex}) rather than their Parquet columns: a Bloom filter of every earlier
 * row's identity hash for the candidate pass (a new row that may share its identity with an earlier
 * one becomes a candidate: a false positive costs one row decided exactly, never a wrong answer),
 * then, on the cluster, the earlier rows of just the candidate hashes, read from the blocks of the
 * indexes that hold them ({@link Rows}). What a cycle reads of its history is 8 bytes a row plus
 * the rows it shares identities with.
 */
final class History {

    /** The Bloom filter's false positive rate: the share of new rows sent to be decided for nothing. */
    static final double FALSE_POSITIVES = 0.01;

    private History() {}

    /**
     * Builds the identity index of each data file that has none (or a damaged one), {@code threads}
     * at a time: derived data, the same bytes whoever builds it.
     */
    static void index(FileIO io, List<String> dataFiles, int threads) throws Exception {
        inParts(dataFiles.size(), threads, part -> {
            for (int f = part.first(); f < dataFiles.size(); f += part.step()) {
                IdentityIndex.of(io, dataFiles.get(f));
            }
            return null;
        });
    }

    /**
     * A Bloom filter (DataSketches, serialized) of the identity hashes of the rows of {@code dataFiles},
     * which hold {@code rows} rows; their indexes built first where missing.
     */
    static byte[] filter(FileIO io, List<String> dataFiles, long rows, int threads) throws Exception {
        // A filter per thread, each over its share of the files, then their union (same size and seed).
        List<BloomFilter> filters = inParts(dataFiles.size(), threads, part -> {
            BloomFilter filter = BloomFilterBuilder.createByAccuracy(Math.max(1, rows), FALSE_POSITIVES, SEED);
            for (int f = part.first(); f < dataFiles.size(); f += part.step()) {
                for (long hash : IdentityIndex.of(io, dataFiles.get(f)).hashes()) {
                    filter.update(hash);
                }
            }
            return filter;
        });
        BloomFilter union = filters.get(0);
        filters.subList(1, filters.size()).forEach(union::union);
        return union.toByteArray();
    }

    /** One thread's share of {@code n} files: every {@code step}th from {@code first}. */
    private record Part(int first, int step) {}

    private interface PartTask<T> {
        T run(Part part) throws Exception;
    }

    /** Runs {@code task} on up to {@code threads} threads, each over its share of {@code n} files; their results. */
    private static <T> List<T> inParts(int n, int threads, PartTask<T> task) throws Exception {
        int parts = Math.max(1, Math.min(threads, n));
        ExecutorService pool = Executors.newFixedThreadPool(parts);
        try {
            List<Future<T>> done = new ArrayList<>();
            for (int p = 0; p < parts; p++) {
                Part part = new Part(p, parts);
                done.add(pool.submit(() -> task.run(part)));
            }
            List<T> results = new ArrayList<>();
            for (Future<T> f : done) {
                results.add(f.get());
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    private static final long SEED = 0x5eed_1dL;

    /** A filter {@link #filter} made, read back. */
    static BloomFilter read(byte[] filter) {
        return BloomFilter.heapify(Memory.wrap(filter));
    }

    /**
     * On the cluster: for each earlier data file (one record each), its rows whose identity hash is a
     * candidate, as candidate rows without the folded fields (earlier rows are never folded again,
     * only needed to decide the new ones).
     */
    static final class Rows implements FlatMapFunction<String, CandidateRow> {
        private final FileIO io;
        private final LongHashSet candidates;

        Rows(FileIO io, LongHashSet candidates) {
            this.io = io;
            this.candidates = candidates;
        }

        @Override
        public void flatMap(String dataFile, Collector<CandidateRow> out) {
            for (IdentityIndex.Entry e : IdentityIndex.of(io, dataFile).entries(candidates::contains)) {
                out.collect(new CandidateRow(
                        e.id(), e.appendMillis(), e.position(), e.run(), e.source(), null, 0L, null, null));
            }
        }
    }
}
