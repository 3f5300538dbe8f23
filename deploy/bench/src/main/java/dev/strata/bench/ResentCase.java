package dev.strata.bench;

import dev.strata.batch.engine.Engine;
import dev.strata.batch.lake.Archiver;
import dev.strata.batch.views.BatchCycle;
import dev.strata.lake.ArchiveRun;
import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.schemas.topics.StrataTopics;
import dev.strata.schemas.views.ViewConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

/**
 * The worst case for retries in {@code strata bench batch}: every event of the lake sent again
 * (same source and id, later) and archived, so each identity is in the lake twice; the full
 * recompute and DuckDB's same dedup and views over the same files, timed twice each.
 */
final class ResentCase {

    /** The lake's rows then, and each side's two times in seconds. */
    record Result(long rows, double[] recompute, double[] duck) {}

    private ResentCase() {}

    static Result measure(
            Engine engine,
            Lake lake,
            Archiver archiver,
            String bootstrapServers,
            HistoryCost.Producer producer,
            int warmup,
            int events)
            throws Exception {
        BatchBench.say("every event sent again (same source and id, later): " + (warmup + 2L * events) + " events into "
                + StrataTopics.EVENTS + ", archived into the local lake");
        producer.produce(StrataTopics.EVENTS, 0, warmup);
        producer.produce(StrataTopics.EVENTS, warmup, events);
        producer.produce(StrataTopics.EVENTS, warmup + events, events);
        archiver.archive(System.currentTimeMillis()).orElseThrow();
        EventsTable table = lake.events();
        long rows = table.runs().stream().mapToLong(ArchiveRun::rows).sum();
        BatchCycle cycle = new BatchCycle(
                table,
                lake.views(),
                archiver,
                engine,
                BatchCycle.Settings.of(ViewConfig.defaults()),
                bootstrapServers,
                StrataTopics.BATCH_COMMITS);
        double[] recompute = new double[2];
        double[] duck = new double[2];
        try (Connection connection = DriverManager.getConnection("jdbc:duckdb:");
                Statement sql = connection.createStatement()) {
            for (int i = 0; i < 2; i++) {
                BatchBench.say("full recompute, every row resent once, run " + (i + 1));
                long t = System.nanoTime();
                int cells = cycle.replay().cells().size();
                recompute[i] = (System.nanoTime() - t) / 1e9;
                BatchBench.say(String.format(
                        "  %d rows → %d cells in %.2f s: %.0f rows/s", rows, cells, recompute[i], rows / recompute[i]));
                t = System.nanoTime();
                int duckCells = DuckDbViews.run(sql, table, true);
                duck[i] = (System.nanoTime() - t) / 1e9;
                BatchBench.say(String.format(
                        "  DuckDB, the same dedup and views: %d cells in %.2f s: %.0f rows/s",
                        duckCells, duck[i], rows / duck[i]));
            }
        }
        return new Result(rows, recompute, duck);
    }
}
