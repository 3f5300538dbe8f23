package dev.strata.bench;

import dev.strata.lake.ArchiveConflict;
import dev.strata.lake.ArchivePlan;
import dev.strata.lake.ArchiveState;
import dev.strata.lake.EventFileWriter;
import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import dev.strata.schemas.Event;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.DataFile;

/**
 * The racing-commits case of {@code strata bench batch}: writers, each with its own catalog
 * connection, commit archive runs to one fresh lake at once; each conflict is re-planned and
 * written again, as the archiver does.
 */
final class CommitRace {

    private CommitRace() {}

    /** Racing commits: milliseconds from plan to commit of each (its re-plans included), and the conflicts met. */
    record Racing(List<Long> millis, int conflicts) {
        long percentile(double p) {
            List<Long> sorted = new ArrayList<>(millis);
            sorted.sort(null);
            return sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(p * sorted.size()) - 1));
        }
    }

    /** {@code racers} writers commit 5 archive runs each on a fresh lake, re-planning on every conflict. */
    static Racing run(LakeConfig config, int racers) throws Exception {
        try (Lake created = Lake.open(config)) {
            created.events(); // the table exists before the race
        }
        ExecutorService pool = Executors.newFixedThreadPool(racers);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<long[]>> results = new ArrayList<>();
        AtomicInteger conflicts = new AtomicInteger();
        for (int w = 0; w < racers; w++) {
            int writer = w;
            results.add(pool.submit(() -> {
                long[] millis = new long[5];
                try (Lake own = Lake.open(config)) {
                    EventsTable table = own.events();
                    go.await();
                    for (int c = 0; c < 5; c++) {
                        long t0 = System.nanoTime();
                        while (true) {
                            ArchiveState basis = table.state();
                            long from = basis.offsets().getOrDefault(writer, 0L);
                            ArchivePlan plan = new ArchivePlan(
                                    basis.lastRun() + 1,
                                    basis.lastRun() + 1,
                                    basis,
                                    Map.of(writer, from),
                                    Map.of(writer, from + 100),
                                    EventsTable.newAttempt());
                            List<DataFile> files;
                            try (EventFileWriter w2 =
                                    table.writers(plan.run(), plan.attempt()).open(writer)) {
                                for (long offset = from; offset < from + 100; offset++) {
                                    Instant time = Instant.now();
                                    w2.write(
                                            new Event(
                                                    "r" + writer + "-" + offset,
                                                    "race",
                                                    "t",
                                                    time,
                                                    1.0,
                                                    Map.of(),
                                                    time),
                                            writer,
                                            offset,
                                            time.toEpochMilli());
                                }
                                files = w2.finish();
                            }
                            try {
                                table.commit(plan, files, 100, 0);
                                break;
                            } catch (ArchiveConflict e) {
                                conflicts.incrementAndGet();
                                files.forEach(f -> table.table().io().deleteFile(f.location()));
                            }
                        }
                        millis[c] = (System.nanoTime() - t0) / 1_000_000;
                    }
                }
                return millis;
            }));
        }
        go.countDown();
        List<Long> all = new ArrayList<>();
        for (Future<long[]> f : results) {
            for (long m : f.get()) {
                all.add(m);
            }
        }
        pool.shutdown();
        return new Racing(all, conflicts.get());
    }
}
