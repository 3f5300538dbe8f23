package dev.strata.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.batch.views.BatchCycleTestKit;
import dev.strata.batch.views.Snapshot;
import dev.strata.lake.ArchiveRun;
import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import dev.strata.lake.ViewsTable;
import dev.strata.registry.RegistryServer;
import dev.strata.schemas.Event;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.testing.KafkaBrokerExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.iceberg.expressions.Expressions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batch processes racing, as an operator's {@code batch run} beside the scheduler, two schedulers,
 * or a replay during a cycle do, and the lake's upkeep ({@code strata lake maintain}, compacting the
 * late events' hours) beside them: in each round three processes (each its own
 * JVM, catalog connection and Flink MiniCluster) start at once over the same lake, with new events
 * (late, out of order, retried ids) before each round. Every process exits cleanly; afterwards
 * every Kafka offset is in {@code events} exactly once, the runs are numbered one after the other,
 * no run was folded twice (each fold snapshot of {@code batch_views} holds a later run than its
 * ancestor), and the announced snapshot equals an independent computation over the distinct events.
 */
class BatchRaceIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final List<ViewDefinition> VIEWS = ViewConfig.defaults();
    /** What races in each round: cycles, and a replay during them in the second. */
    static final List<List<String>> ROUNDS =
            List.of(List.of("run", "run", "run"), List.of("run", "replay", "run"), List.of("run", "maintain", "run"));

    @TempDir
    Path lake;

    /** {@code strata lake maintain} on the lake, compacting every partition before the current hour. */
    Process maintainProcess() throws java.io.IOException {
        return new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx512m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        LakeMain.class.getName(),
                        "maintain",
                        "--lake",
                        lake.toString(),
                        "--compact-after",
                        "PT0S")
                .redirectErrorStream(true)
                .start();
    }

    @Test
    void processesRacingRoundAfterRoundArchiveEachOffsetOnceAndFoldEachRunOnce() throws Exception {
        String events = KAFKA.createTopic("race-events", 3, Map.of("message.timestamp.type", "LogAppendTime"));
        String commits = KAFKA.createTopic("race-commits", 1, Map.of("cleanup.policy", "compact"));
        try (RegistryServer registry = RegistryServer.start(RegistryServer.Config.of(KAFKA.bootstrapServers())
                .withPort(0)
                .withTopic("race-schemas-" + ProcessHandle.current().pid()))) {
            Random random = new Random(17);
            List<String> maintained = new ArrayList<>();
            List<Event> sent = new ArrayList<>();
            for (List<String> round : ROUNDS) {
                List<Event> batch = BatchCycleTestKit.workload(
                        random, sent.size(), 800, sent.isEmpty() ? List.of() : sent.subList(0, 30));
                BatchCycleTestKit.produce(KAFKA.bootstrapServers(), registry.url(), events, batch);
                sent.addAll(batch);
                BatchCycleTestKit.pastNow();
                List<Process> racers = new ArrayList<>();
                for (String command : round) {
                    racers.add(
                            command.equals("maintain")
                                    ? maintainProcess()
                                    : BatchCycleTestKit.batchProcess(
                                            KAFKA.bootstrapServers(),
                                            registry.url(),
                                            lake,
                                            events,
                                            commits,
                                            null,
                                            command));
                }
                List<CompletableFuture<String>> outputs = racers.stream()
                        .map(p -> CompletableFuture.supplyAsync(() -> {
                            try {
                                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                            } catch (java.io.IOException e) {
                                return e.toString();
                            }
                        }))
                        .toList();
                for (int i = 0; i < racers.size(); i++) {
                    assertThat(racers.get(i).waitFor(180, TimeUnit.SECONDS))
                            .as("batch %s finished", round.get(i))
                            .isTrue();
                    String output = outputs.get(i).get(10, TimeUnit.SECONDS);
                    assertThat(racers.get(i).exitValue())
                            .as("batch %s exited cleanly:%n%s", round.get(i), output)
                            .isZero();
                    String who = "[" + round.get(i) + " #" + i + "] ";
                    output.lines()
                            .filter(l -> l.contains("not committed")
                                    || l.contains(" committed")
                                    || l.startsWith("Nothing new")
                                    || l.startsWith("Lake maintained"))
                            .forEach(l -> System.out.println(who + l));
                    if (round.get(i).equals("maintain")) {
                        maintained.add(output);
                    }
                }
            }
            // The late events' hours hold a small file per run: the racing upkeep compacted them.
            assertThat(maintained)
                    .singleElement()
                    .satisfies(o -> assertThat(o).containsPattern("Lake maintained: compacted [1-9]"));
            // A last cycle alone: whatever a racer left unannounced is announced.
            Process last = BatchCycleTestKit.batchProcess(
                    KAFKA.bootstrapServers(), registry.url(), lake, events, commits, null, "run");
            String output = new String(last.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(last.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(last.exitValue()).as(output).isZero();

            try (Lake opened = Lake.open(LakeConfig.local(lake));
                    Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                    Statement sql = duck.createStatement()) {
                EventsTable table = opened.events();
                List<ArchiveRun> runs = table.runs();
                assertThat(runs)
                        .extracting(ArchiveRun::run)
                        .as("runs committed, one after the other")
                        .containsExactlyElementsOf(
                                LongStream.rangeClosed(1, runs.size()).boxed().toList());
                String rows = "read_parquet("
                        + table.files(Expressions.alwaysTrue()).stream()
                                .map(f -> "'" + f.location().replaceFirst("^file:", "") + "'")
                                .collect(Collectors.joining(",", "[", "]"))
                        + ")";
                ResultSet r = sql.executeQuery(
                        "SELECT count(*), count(DISTINCT (kafka_partition, kafka_offset)) FROM " + rows);
                r.next();
                assertThat(r.getLong(1)).as("rows: every record sent").isEqualTo(sent.size());
                assertThat(r.getLong(2)).as("distinct offsets").isEqualTo(sent.size());

                ViewsTable views = opened.views();
                List<ViewsTable.Head> history = views.history();
                assertThat(history.get(0).run()).isEqualTo(runs.size());
                long later = Long.MAX_VALUE;
                for (ViewsTable.Head h : history) {
                    if (h.kind().equals("fold")) {
                        assertThat(h.run())
                                .as("a fold snapshot holds a later run than the one it was folded onto: %s", history)
                                .isLessThan(later);
                        later = h.run();
                    }
                }
                BatchCommit announced = BatchCycleTestKit.latestCommit(KAFKA.bootstrapServers(), commits);
                assertThat(ViewsTable.snapshotOf(announced.snapshot()))
                        .isEqualTo(history.get(0).snapshotId());
                Map<String, ViewDefinition> byName =
                        VIEWS.stream().collect(Collectors.toMap(ViewDefinition::name, Function.identity()));
                Snapshot snapshot =
                        new Snapshot(announced.run(), announced.cutMillis(), views.announced(announced, byName));
                assertThat(BatchCycleTestKit.measures(snapshot)).isEqualTo(BatchCycleTestKit.oracle(sent));
            }
        }
    }
}
