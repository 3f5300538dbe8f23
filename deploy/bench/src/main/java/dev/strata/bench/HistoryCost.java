package dev.strata.bench;

import dev.strata.batch.engine.Engine;
import dev.strata.batch.lake.Archiver;
import dev.strata.batch.views.BatchCycle;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import dev.strata.schemas.topics.StrataTopics;
import dev.strata.schemas.views.ViewConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * One batch cycle of {@code n} new events over a lake that already holds {@code h} events within
 * the dedup horizon, for each {@code h} asked: its own topic and local lake each, the history
 * archived and folded untimed, then the new events produced and one {@link BatchCycle#run} timed
 * (archive, fold, commit, announce); then once more with another {@code n} (the history is then
 * {@code h + n}), and the faster of the two kept. One cycle timed right after the untimed history
 * moved between 1.87x and 2.79x of the empty lake's in two invocations of the same code (the
 * 100 N cycle 3.86 s, then 5.55 s): what the machine still did after archiving the history decided it.
 */
final class HistoryCost {

    /** Writes events {@code from} to {@code from + count} (of the bench's shape, 1% resent) into a topic. */
    interface Producer {
        void produce(String topic, int from, int count) throws Exception;
    }

    /** The two timed cycles of one history; {@link #seconds} is the faster. */
    record Result(long history, long newEvents, double first, double second) {
        double seconds() {
            return Math.min(first, second);
        }
    }

    private HistoryCost() {}

    static List<Result> measure(
            Engine engine,
            String bootstrapServers,
            String registryUrl,
            Path lakes,
            Producer producer,
            int n,
            List<Integer> histories)
            throws Exception {
        List<Result> results = new ArrayList<>();
        String commits = "bench-history-commits";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers))) {
            List<NewTopic> topics = new ArrayList<>();
            topics.add(new NewTopic(commits, 1, (short) 1));
            for (int h : histories) {
                topics.add(new NewTopic(topic(h), StrataTopics.DEFAULT_PARTITIONS, (short) 1)
                        .configs(Map.of("message.timestamp.type", "LogAppendTime")));
            }
            admin.createTopics(topics).all().get();
        }
        // A cut in the future: every record produced is archived at once (no speed layer here).
        BatchCycle.Settings settings = BatchCycle.Settings.of(ViewConfig.defaults());
        for (int h : histories) {
            try (Lake lake = Lake.open(LakeConfig.local(lakes.resolve("history-" + h)))) {
                Archiver archiver = new Archiver(lake.events(), engine, bootstrapServers, registryUrl, topic(h));
                BatchCycle cycle = new BatchCycle(
                        lake.events(), lake.views(), archiver, engine, settings, bootstrapServers, commits);
                if (h > 0) {
                    BatchBench.say("history " + h + ": producing, archiving and folding it (untimed)");
                    producer.produce(topic(h), 0, h);
                    cycle.run(future());
                }
                double[] seconds = new double[2];
                for (int i = 0; i < 2; i++) {
                    producer.produce(topic(h), h + i * n, n);
                    BatchBench.say("history " + h + ": cycle " + (i + 1) + " of " + n + " new events");
                    long t = System.nanoTime();
                    cycle.run(future()).orElseThrow();
                    seconds[i] = (System.nanoTime() - t) / 1e9;
                    BatchBench.say(String.format("  %.2f s", seconds[i]));
                }
                results.add(new Result(h, n, seconds[0], seconds[1]));
            }
        }
        return results;
    }

    private static String topic(int history) {
        return "bench-history-" + history;
    }

    private static long cuts;

    /** A cut in the future, later than every cut before it (a run needs a later cut than the last). */
    private static long future() {
        cuts++;
        return System.currentTimeMillis() + Duration.ofMinutes(10 + 2 * cuts).toMillis();
    }
}
