package dev.strata.verify;

import static dev.strata.verify.VerifyMain.say;

import com.fasterxml.jackson.databind.JsonNode;
import dev.strata.schemas.topics.DeadLetters;
import dev.strata.schemas.topics.StrataTopics;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.ViewDefinition;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** What a run checks besides the oracle, against the running stack and its topics. */
final class Checks {

    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Checks() {}

    /**
     * Waits until {@code batch-commits} announces a cut at or after {@code millis}; returns the
     * problem if none does within {@code timeout}.
     */
    static Optional<String> awaitBatchCommit(Stack stack, long millis, Duration timeout) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.spec.bootstrapServers());
        long newest = Long.MIN_VALUE;
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(StrataTopics.BATCH_COMMITS, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    if (record.value() != null) {
                        newest = Math.max(
                                newest, BatchCommit.decode(record.value()).cutMillis());
                    }
                }
                if (newest >= millis) {
                    say("a batch commit's cut (" + Instant.ofEpochMilli(newest) + ") covers the run");
                    return Optional.empty();
                }
            }
        }
        return Optional.of("no batch commit's cut reached the last acknowledgement (" + Instant.ofEpochMilli(millis)
                + ") within " + timeout.toSeconds() + " s; the newest: "
                + (newest == Long.MIN_VALUE ? "none" : Instant.ofEpochMilli(newest)));
    }

    /**
     * Every unreadable record written straight to Kafka must be in {@code events.dlq} with its bytes
     * and a reason header. Returns what is missing when the deadline passes.
     */
    static List<String> missingDeadLetters(Stack stack, List<String> poison, Duration timeout) {
        Set<String> missing = new TreeSet<>(poison);
        List<String> problems = new ArrayList<>();
        if (missing.isEmpty()) {
            return problems;
        }
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.spec.bootstrapServers());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(StrataTopics.EVENTS_DLQ).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!missing.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    String value = record.value() == null ? "" : new String(record.value(), StandardCharsets.UTF_8);
                    if (missing.contains(value)) {
                        if (record.headers().lastHeader(DeadLetters.REASON) == null) {
                            problems.add("dead letter " + value + " has no reason header");
                        }
                        missing.remove(value);
                    }
                }
            }
        }
        missing.forEach(
                value -> problems.add("unreadable record " + value + " never reached " + StrataTopics.EVENTS_DLQ));
        return problems;
    }

    /**
     * Cluster mode: the speed job must be running on the session cluster and, once its TaskManager
     * was killed, must have been restarted from a checkpoint (else the fault did not hit it).
     */
    static List<String> speedJobRecovered(Stack stack, RunResult result) throws Exception {
        HttpClient http = HTTP;
        JsonNode jobs = Workload.JSON
                .readTree(http.send(
                                HttpRequest.newBuilder(URI.create(stack.spec.flinkUrl() + "/jobs/overview"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body())
                .path("jobs");
        for (JsonNode job : jobs) {
            if (!job.path("name").asText().equals("strata-speed-layer")) {
                continue;
            }
            if (!job.path("state").asText().equals("RUNNING")) {
                return List.of("the speed job is " + job.path("state").asText() + " on the cluster");
            }
            JsonNode checkpoints = Workload.JSON.readTree(http.send(
                            HttpRequest.newBuilder(URI.create(stack.spec.flinkUrl() + "/jobs/"
                                            + job.path("jid").asText() + "/checkpoints"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body());
            JsonNode restored = checkpoints.path("latest").path("restored");
            boolean taskManagerKilled;
            synchronized (result.faults) {
                taskManagerKilled = result.faults.contains("SIGKILL flink-taskmanager");
            }
            if (taskManagerKilled && (restored.isMissingNode() || restored.isNull())) {
                return List.of("the TaskManager was killed but the speed job never restored from a checkpoint");
            }
            say("the speed job runs on the cluster; "
                    + (restored.isObject()
                            ? "last restored from checkpoint "
                                    + restored.path("id").asLong() + " ("
                                    + restored.path("external_path").asText() + ")"
                            : "never restored")
                    + ", " + checkpoints.path("counts").path("completed").asLong() + " checkpoints completed");
            return List.of();
        }
        return List.of("no speed job on the cluster");
    }

    /**
     * Waits until the transform's output ({@link Stack#TRANSFORM}, run by the batch scheduler) holds
     * each record of the lake's {@code events} exactly once (the raw records, a client's retries
     * included: as many rows per (source, id) as {@code events} has) and every acknowledged event
     * ({@code expected} distinct (source, id)); returns the problem if it does not within {@code timeout}.
     */
    static Optional<String> transformApplied(Stack stack, long expected, Duration timeout) throws Exception {
        String query = "WITH t AS (SELECT source, id, count(*) AS c FROM " + Stack.TRANSFORM + " GROUP BY ALL),"
                + " e AS (SELECT source, id, count(*) AS c FROM events GROUP BY ALL)"
                + " SELECT (SELECT sum(c) FROM t), (SELECT count(*) FROM t), (SELECT sum(c) FROM e),"
                + " (SELECT count(*) FROM t FULL JOIN e USING (source, id) WHERE t.c IS DISTINCT FROM e.c)";
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (true) {
            HttpResponse<String> response = HTTP.send(
                    HttpRequest.newBuilder(URI.create(stack.spec.servingUrl() + "/v1/sql"))
                            .timeout(Duration.ofSeconds(30))
                            .header("Content-Type", "text/plain")
                            .POST(HttpRequest.BodyPublishers.ofString(query))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 200) {
                JsonNode row =
                        Workload.JSON.readTree(response.body()).get("rows").get(0);
                long rows = row.get(0).asLong();
                long distinct = row.get(1).asLong();
                long events = row.get(2).asLong();
                long differing = row.get(3).asLong();
                last = String.format(
                        "%d rows, %d distinct (source, id); events %d rows; %d (source, id) with another count",
                        rows, distinct, events, differing);
                if (differing == 0 && distinct == expected) {
                    say("transform " + Stack.TRANSFORM + ": each record of events once (" + last + ")");
                    return Optional.empty();
                }
            } else {
                last = response.statusCode() + " " + response.body();
            }
            if (System.nanoTime() > deadline) {
                return Optional.of("transform " + Stack.TRANSFORM + " does not hold each record of events once and"
                        + " the " + expected + " acknowledged events after " + timeout + ": " + last);
            }
            Thread.sleep(2_000);
        }
    }

    /** The serving layer's merged points of every view over the whole time range: "view|group|start" → measures. */
    /**
     * The serving layer's merged points of every view the stack runs, over the whole time range of
     * the expected cells, each view asked in its own windows: "view|group|start" → measures.
     */
    static Map<String, JsonNode> merged(Stack stack, Map<String, Oracle.Cell> expected) throws Exception {
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (String key : expected.keySet()) {
            long start = Long.parseLong(key.substring(key.lastIndexOf('|') + 1));
            min = Math.min(min, start);
            max = Math.max(max, start);
        }
        Map<String, JsonNode> merged = new TreeMap<>();
        for (ViewDefinition view : VerifyMain.VIEWS) {
            long from = view.windowStartMillis(min);
            long to = view.windowStartMillis(max) + view.window().toMillis();
            HttpResponse<String> response = HTTP.send(
                    HttpRequest.newBuilder(URI.create(stack.spec.servingUrl() + "/v1/views/" + view.name() + "?from="
                                    + from + "&to=" + to))
                            .timeout(Duration.ofSeconds(30))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("serving answered " + response.statusCode() + ": " + response.body());
            }
            for (JsonNode p : Workload.JSON.readTree(response.body()).get("points")) {
                List<String> group = new ArrayList<>();
                p.get("group").forEach(g -> group.add(g.asText()));
                merged.put(Oracle.key(view.name(), group, p.get("startMillis").asLong()), p.get("measures"));
            }
        }
        return merged;
    }
}
