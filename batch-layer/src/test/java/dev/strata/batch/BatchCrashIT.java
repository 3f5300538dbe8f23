package dev.strata.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.batch.engine.CrashPoints;
import dev.strata.batch.views.BatchCycleTestKit;
import dev.strata.batch.views.Snapshot;
import dev.strata.lake.ArchiveRun;
import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import dev.strata.registry.RegistryServer;
import dev.strata.schemas.Event;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.testing.KafkaBrokerExtension;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
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
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.iceberg.expressions.Expressions;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batch process ({@code strata batch run} in its own JVM, its Flink jobs on the MiniCluster in
 * that JVM) is killed with SIGKILL at every named point of a run, one after the other, with new
 * events arriving between kills, so each restart first recovers what the previous kill interrupted:
 * afterwards every Kafka offset below the cut is in the lake's {@code events} table exactly once
 * (read by DuckDB over the files of its current snapshot), and the announced batch view equals an
 * independent computation and DuckDB's GROUP BY over the same files.
 */
class BatchCrashIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final List<ViewDefinition> VIEWS = ViewConfig.defaults();
    static final List<String> POINTS =
            List.of("before-first-file", "mid-write", "before-commit", "after-commit", "before-announce");

    @TempDir
    Path lake;

    @Test
    void killedAtEveryPointTheLakeHasEachOffsetOnceAndTheViewsAreExact() throws Exception {
        String events = KAFKA.createTopic("crash-events", 3, Map.of("message.timestamp.type", "LogAppendTime"));
        String commits = KAFKA.createTopic("crash-commits", 1, Map.of("cleanup.policy", "compact"));
        try (RegistryServer registry = RegistryServer.start(RegistryServer.Config.of(KAFKA.bootstrapServers())
                .withPort(0)
                .withTopic("crash-schemas-" + ProcessHandle.current().pid()))) {
            Random random = new Random(5);
            List<Event> sent = new ArrayList<>();
            List<String> killedAt = new ArrayList<>();
            for (String point : POINTS) {
                List<Event> batch = BatchCycleTestKit.workload(
                        random, sent.size(), 1_500, sent.isEmpty() ? List.of() : sent.subList(0, 40));
                BatchCycleTestKit.produce(KAFKA.bootstrapServers(), registry.url(), events, batch);
                sent.addAll(batch);
                BatchCycleTestKit.pastNow();
                Process batchProcess = start(registry.url(), events, commits, point);
                awaitBanner(batchProcess, point);
                batchProcess.destroyForcibly(); // SIGKILL
                assertThat(batchProcess.waitFor(30, TimeUnit.SECONDS)).isTrue();
                killedAt.add(point);
                System.out.println("Killed the batch process at " + killedAt.get(killedAt.size() - 1));
            }
            BatchCycleTestKit.pastNow();
            Process clean = start(registry.url(), events, commits, null);
            String output = new String(clean.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(clean.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(clean.exitValue()).as(output).isZero();

            long distinctEvents = sent.stream().map(Event::getId).distinct().count();
            try (Lake opened = Lake.open(LakeConfig.local(lake));
                    Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                    Statement sql = duck.createStatement()) {
                EventsTable table = opened.events();
                assertThat(table.runs())
                        .extracting(ArchiveRun::run)
                        .as("runs committed, one after the other")
                        .containsExactlyElementsOf(
                                LongStream.rangeClosed(1, table.runs().size())
                                        .boxed()
                                        .toList());
                // Exactly the files of the table's current snapshot: those of runs killed before their commit are not.
                String rows = "read_parquet("
                        + table.files(Expressions.alwaysTrue()).stream()
                                .map(f -> "'" + f.location().replaceFirst("^file:", "") + "'")
                                .collect(Collectors.joining(",", "[", "]"))
                        + ")";
                ResultSet r = sql.executeQuery(
                        "SELECT count(*), count(DISTINCT (kafka_partition, kafka_offset)), count(DISTINCT id) FROM "
                                + rows);
                r.next();
                assertThat(r.getLong(1))
                        .as("rows (every record sent, retries included), after kills at %s", killedAt)
                        .isEqualTo(sent.size());
                assertThat(r.getLong(2)).as("distinct offsets").isEqualTo(sent.size());
                assertThat(r.getLong(3)).isEqualTo(distinctEvents);

                BatchCommit announced = BatchCycleTestKit.latestCommit(KAFKA.bootstrapServers(), commits);
                Map<String, ViewDefinition> byName =
                        VIEWS.stream().collect(Collectors.toMap(ViewDefinition::name, Function.identity()));
                Snapshot snapshot = new Snapshot(
                        announced.run(), announced.cutMillis(), opened.views().announced(announced, byName));
                Map<String, Map<String, Double>> measures = BatchCycleTestKit.measures(snapshot);
                assertThat(measures).isEqualTo(BatchCycleTestKit.oracle(sent));

                // DuckDB's own GROUP BY over the lake (first append of each (source, id)) equals the batch view.
                ResultSet g = sql.executeQuery(
                        "SELECT source, epoch_ms(time_bucket(INTERVAL 1 minute, time)), count(*), sum(value),"
                                + " min(value), max(value) FROM (SELECT *, row_number() OVER (PARTITION BY source, id ORDER BY append_time,"
                                + " kafka_partition, kafka_offset) AS n FROM " + rows + ") WHERE n = 1 GROUP BY ALL");
                Map<String, Map<String, Double>> byDuck = new TreeMap<>();
                while (g.next()) {
                    Map<String, Double> m = new TreeMap<>();
                    m.put("count", (double) g.getLong(3));
                    m.put("sum", g.getObject(4) == null ? null : g.getDouble(4));
                    m.put("min", g.getObject(5) == null ? null : g.getDouble(5));
                    m.put("max", g.getObject(6) == null ? null : g.getDouble(6));
                    byDuck.put("events_per_source_1m|[" + g.getString(1) + "]|" + g.getLong(2), m);
                }
                Map<String, Map<String, Double>> fromSnapshot = new TreeMap<>();
                measures.forEach((cell, m) -> {
                    if (cell.startsWith("events_per_source_1m")) {
                        Map<String, Double> some = new TreeMap<>(m);
                        some.remove("p95");
                        fromSnapshot.put(cell, some);
                    }
                });
                assertThat(fromSnapshot).hasSameSizeAs(byDuck);
                fromSnapshot.forEach((cell, m) -> {
                    assertThat(byDuck).containsKey(cell);
                    assertThat(m.get("count")).isEqualTo(byDuck.get(cell).get("count"));
                    assertThat(m.get("min")).isEqualTo(byDuck.get(cell).get("min"));
                    assertThat(m.get("max")).isEqualTo(byDuck.get(cell).get("max"));
                    if (m.get("sum") == null) {
                        assertThat(byDuck.get(cell).get("sum")).isNull();
                    } else {
                        assertThat(m.get("sum")).isCloseTo(byDuck.get(cell).get("sum"), Offset.offset(1e-6));
                    }
                });
            }
        }
    }

    Process start(String registryUrl, String events, String commits, String crashAt) throws Exception {
        // Finds retry candidates with Flink's sort here; BatchCycleIT runs the in-memory hash set.
        return BatchCycleTestKit.batchProcess(
                KAFKA.bootstrapServers(),
                registryUrl,
                lake,
                events,
                commits,
                crashAt,
                "run",
                "--in-memory-rows-per-subtask",
                "0");
    }

    /** The process's output up to the banner of {@code point}; fails if it ends or takes 2 minutes first. */
    static String awaitBanner(Process process, String point) throws Exception {
        StringBuilder output = new StringBuilder();
        CompletableFuture<Boolean> reached = CompletableFuture.supplyAsync(() -> {
            try (BufferedReader in =
                    new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    output.append(line).append('\n');
                    if (line.equals(CrashPoints.BANNER + point)) {
                        return true;
                    }
                }
                return false;
            } catch (IOException e) {
                return false;
            }
        });
        boolean ok;
        try {
            ok = reached.get(120, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            ok = false;
        }
        if (!ok) {
            process.destroyForcibly();
            throw new AssertionError("the batch process never reached " + point + ":\n" + output);
        }
        return output.toString();
    }
}
