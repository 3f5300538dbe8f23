package dev.strata.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.schemas.cli.KafkaOptions;
import dev.strata.schemas.cli.RegistryOptions;
import dev.strata.schemas.kafka.KafkaClients;
import dev.strata.schemas.net.StrataPorts;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code strata status}: one line per layer of a running stack, local or remote — whether it
 * answers and is healthy, its freshness, the speed job's consumer lag, the cut and the last batch
 * run, dead-letter counts — read from the same endpoints an operator's Prometheus scrapes (the
 * services' /health, /ready and /metrics, Flink's REST API) and from the brokers. Exits 1 when
 * any layer is down or unhealthy.
 */
@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        description = {
            "Prints each layer's health, freshness, consumer lag, the cut, the last batch run and DLQ counts.",
            "Exits 1 when something is unhealthy. Defaults are the local stack's ports."
        })
final class StatusCommand implements Callable<Integer> {

    static final String SPEED_JOB = "strata-speed-layer";
    static final String SPEED_GROUP = "strata-speed-layer";

    @Mixin
    KafkaOptions kafka;

    @Option(
            names = "--registry",
            defaultValue = "${env:STRATA_REGISTRY_URL:-" + RegistryOptions.DEFAULT_REGISTRY_URL + "}",
            description = "Schema registry URL. Default: ${DEFAULT-VALUE}")
    String registry;

    @Option(
            names = "--gateway",
            defaultValue = "${env:STRATA_GATEWAY_URL:-http://127.0.0.1:" + StrataPorts.GATEWAY_HTTP + "}",
            description = "Gateway URL. Default: ${DEFAULT-VALUE}")
    String gateway;

    @Option(
            names = "--speed",
            defaultValue = "${env:STRATA_FLINK_URL:-http://127.0.0.1:" + StrataPorts.FLINK_WEB + "}",
            description =
                    "The speed job's Flink REST URL (MiniCluster web UI or JobManager). Default: ${DEFAULT-VALUE}")
    String speed;

    @Option(
            names = "--speed-metrics",
            defaultValue =
                    "${env:STRATA_SPEED_METRICS_URL:-http://127.0.0.1:" + StrataPorts.SPEED_METRICS + "/metrics}",
            description = "The speed job's Prometheus reporter. Default: ${DEFAULT-VALUE}")
    String speedMetrics;

    @Option(
            names = "--batch-metrics",
            defaultValue =
                    "${env:STRATA_BATCH_METRICS_URL:-http://127.0.0.1:" + StrataPorts.BATCH_METRICS + "/metrics}",
            description = "The batch scheduler's metrics. Default: ${DEFAULT-VALUE}")
    String batchMetrics;

    @Option(
            names = "--serving",
            defaultValue = "${env:STRATA_SERVING_URL:-http://127.0.0.1:" + StrataPorts.SERVING + "}",
            description = "Serving layer URL. Default: ${DEFAULT-VALUE}")
    String serving;

    @Option(
            names = "--max-lag",
            defaultValue = "10000",
            description = "Speed consumer lag above which it is unhealthy. Default: ${DEFAULT-VALUE}")
    long maxLag;

    @Option(names = "--timeout", defaultValue = "PT5S", description = "Per request. Default: ${DEFAULT-VALUE}")
    Duration timeout;

    static final ObjectMapper JSON = new ObjectMapper();

    /** One layer's line: OK, WARN (works, but look) or FAIL (down or unhealthy). */
    record Line(String layer, String state, String detail) {}

    private HttpClient http;
    /** The speed job's consumer-group lag, from the kafka check (which runs first); null if unknown. */
    private Long speedLag;

    @Override
    public Integer call() {
        http = HttpClient.newBuilder().connectTimeout(timeout).build();
        List<Line> lines = new ArrayList<>();
        lines.add(check("kafka", () -> {
            try {
                return kafka();
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                throw new IOException(
                        kafka.bootstrapServers() + ": "
                                + (cause instanceof org.apache.kafka.common.errors.TimeoutException
                                                || cause instanceof java.util.concurrent.TimeoutException
                                        ? "no broker answered within " + timeout.toMillis() + " ms"
                                        : cause.toString()),
                        e);
            }
        }));
        lines.add(check("registry", () -> {
            get(registry + "/subjects");
            return new Line("registry", "OK", registry);
        }));
        lines.add(check("gateway", this::gateway));
        lines.add(check("speed", this::speed));
        lines.add(check("batch", this::batch));
        lines.add(check("serving", this::serving));
        print(lines, System.out);
        return lines.stream().anyMatch(l -> l.state().equals("FAIL")) ? 1 : 0;
    }

    static void print(List<Line> lines, PrintStream out) {
        for (Line l : lines) {
            out.printf("%-9s %-5s %s%n", l.layer(), l.state(), l.detail());
        }
        long failed = lines.stream().filter(l -> l.state().equals("FAIL")).count();
        out.println(failed == 0 ? "healthy" : "UNHEALTHY: " + failed + " layer(s) failing");
    }

    interface Check {
        Line run() throws Exception;
    }

    private static Line check(String layer, Check check) {
        try {
            return check.run();
        } catch (Exception e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return new Line(layer, "FAIL", why.lines().findFirst().orElse(why));
        }
    }

    private Line kafka() throws Exception {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        KafkaClients.secure(props);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(timeout.toMillis()));
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(timeout.toMillis()));
        try (Admin admin = Admin.create(props)) {
            int brokers = admin.describeCluster()
                    .nodes()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .size();
            Map<TopicPartition, Long> eventsEnd = endOffsets(admin, "events");
            long events = total(eventsEnd);
            Map<TopicPartition, Long> dlqEnd = endOffsets(admin, "events.dlq");
            Map<TopicPartition, Long> dlqStart = offsets(admin, dlqEnd.keySet(), OffsetSpec.earliest());
            long deadLetters = total(dlqEnd) - total(dlqStart);
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(SPEED_GROUP)
                    .partitionsToOffsetAndMetadata()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            long lag = 0;
            for (Map.Entry<TopicPartition, Long> e : eventsEnd.entrySet()) {
                OffsetAndMetadata c = committed.get(e.getKey());
                lag += e.getValue() - (c == null ? 0 : c.offset());
            }
            speedLag = lag;
            String detail = String.format(
                    Locale.ROOT,
                    "%s: %d broker(s), %,d events, %,d dead letters in events.dlq, speed group lag %,d"
                            + " (offsets committed at checkpoints)",
                    kafka.bootstrapServers(),
                    brokers,
                    events,
                    deadLetters,
                    lag);
            return new Line("kafka", "OK", detail);
        }
    }

    private Map<TopicPartition, Long> endOffsets(Admin admin, String topic) throws Exception {
        List<TopicPartition> partitions = admin
                .describeTopics(List.of(topic))
                .allTopicNames()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .get(topic)
                .partitions()
                .stream()
                .map(p -> new TopicPartition(topic, p.partition()))
                .toList();
        return offsets(admin, partitions, OffsetSpec.latest());
    }

    private Map<TopicPartition, Long> offsets(Admin admin, Collection<TopicPartition> partitions, OffsetSpec spec)
            throws Exception {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        partitions.forEach(p -> request.put(p, spec));
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> result =
                admin.listOffsets(request).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        Map<TopicPartition, Long> offsets = new HashMap<>();
        result.forEach((p, info) -> offsets.put(p, info.offset()));
        return offsets;
    }

    private static long total(Map<TopicPartition, Long> offsets) {
        return offsets.values().stream().mapToLong(Long::longValue).sum();
    }

    private Line gateway() throws Exception {
        HttpResponse<String> ready = request(gateway + "/ready");
        PrometheusText m = PrometheusText.parse(get(gateway + "/metrics"));
        String detail = String.format(
                Locale.ROOT,
                "%s: records accepted %,.0f, refused %,.0f, dead-lettered %,.0f, not acknowledged by Kafka %,.0f",
                gateway,
                m.sum("strata_gateway_records_total", "outcome", "accepted"),
                m.sum("strata_gateway_records_total", "outcome", "rejected"),
                m.sum("strata_gateway_records_total", "outcome", "dead_lettered"),
                m.sum("strata_gateway_records_total", "outcome", "failed"));
        if (ready.statusCode() != 200) {
            return new Line(
                    "gateway",
                    "FAIL",
                    "not ready (" + ready.statusCode() + " " + ready.body().strip() + "); " + detail);
        }
        return new Line("gateway", "OK", detail);
    }

    private Line speed() throws Exception {
        JsonNode jobs = JSON.readTree(get(speed + "/jobs/overview")).path("jobs");
        JsonNode job = null;
        for (JsonNode j : jobs) {
            if (j.path("name").asText().equals(SPEED_JOB)
                    && (job == null
                            || j.path("start-time").asLong()
                                    > job.path("start-time").asLong())) {
                job = j;
            }
        }
        if (job == null) {
            return new Line("speed", "FAIL", speed + ": no job named " + SPEED_JOB);
        }
        String state = job.path("state").asText();
        StringBuilder detail = new StringBuilder(speed + ": job " + state);
        boolean lagging = speedLag != null && speedLag > maxLag;
        try {
            PrometheusText m = PrometheusText.parse(get(speedMetrics));
            detail.append(String.format(
                    Locale.ROOT,
                    ", pending records %,.0f, append→fold p99 %,.0f ms, dead letters %,.0f",
                    m.sum("flink_taskmanager_job_task_operator_pendingRecords"),
                    m.max("flink_taskmanager_job_task_operator_appendToFoldMillis", "quantile", "0.99"),
                    m.sum("flink_taskmanager_job_task_operator_deadLetters")));
        } catch (Exception e) {
            detail.append(", metrics unavailable (").append(e.getMessage()).append(')');
        }
        try {
            // The JobManager's metric (the TaskManagers' reporters, in cluster mode, do not have it).
            JsonNode restarts =
                    JSON.readTree(get(speed + "/jobs/" + job.path("jid").asText() + "/metrics?get=numRestarts"));
            detail.append(", restarts ").append(restarts.path(0).path("value").asText("?"));
        } catch (Exception e) {
            detail.append(", restarts unknown (").append(e.getMessage()).append(')');
        }
        if (!state.equals("RUNNING")) {
            return new Line("speed", "FAIL", detail.toString());
        }
        if (lagging) {
            return new Line(
                    "speed",
                    "FAIL",
                    detail + String.format(Locale.ROOT, "; consumer lag %,d over %,d", speedLag, maxLag));
        }
        return new Line("speed", "OK", detail.toString());
    }

    private Line batch() throws Exception {
        PrometheusText m = PrometheusText.parse(get(batchMetrics));
        double run = m.max("strata_batch_run");
        double cut = m.max("strata_batch_cut_timestamp_seconds");
        double age = m.max("strata_batch_cut_age_seconds");
        double limit = m.max("strata_batch_cut_age_normal_max_seconds") + m.max("strata_batch_interval_seconds");
        double failed = m.sum("strata_batch_cycles_total", "outcome", "failed");
        String detail = String.format(
                Locale.ROOT,
                "%s: run %s, cut %s, cut age %s (limit %.0f s), cycles committed %,.0f, nothing new %,.0f, failed %,.0f",
                batchMetrics,
                Double.isNaN(run) ? "none yet" : String.format(Locale.ROOT, "%.0f", run),
                Double.isNaN(cut)
                        ? "none yet"
                        : Instant.ofEpochMilli((long) (cut * 1000)).toString(),
                Double.isNaN(age) ? "-" : String.format(Locale.ROOT, "%.0f s", age),
                limit,
                m.sum("strata_batch_cycles_total", "outcome", "committed"),
                m.sum("strata_batch_cycles_total", "outcome", "nothing_new"),
                failed);
        if (!Double.isNaN(age) && age > limit) {
            return new Line("batch", "FAIL", "the cut is more than two cycles old; " + detail);
        }
        return new Line("batch", failed > 0 ? "WARN" : "OK", detail);
    }

    private Line serving() throws Exception {
        HttpResponse<String> ready = request(serving + "/ready");
        PrometheusText m = PrometheusText.parse(get(serving + "/metrics"));
        double speedAge = m.max("strata_serving_speed_update_age_seconds");
        String detail = String.format(
                Locale.ROOT,
                "%s: batch run %s, cut age %s, newest speed update %s ago, speed store lag %,.0f, batch load failures %,.0f",
                serving,
                fmt(m.max("strata_serving_batch_run"), "%.0f"),
                fmt(m.max("strata_serving_cut_age_seconds"), "%.0f s"),
                fmt(speedAge, "%.1f s"),
                m.max("strata_serving_speed_lag_records"),
                m.sum("strata_serving_batch_load_failures"));
        if (ready.statusCode() != 200) {
            return new Line("serving", "FAIL", "not ready (" + ready.statusCode() + "); " + detail);
        }
        return new Line("serving", "OK", detail);
    }

    private static String fmt(double value, String format) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, format, value);
    }

    private HttpResponse<String> request(String url) throws Exception {
        try {
            return http.send(
                    HttpRequest.newBuilder(URI.create(url)).timeout(timeout).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw new IOException(url + ": connection refused", e);
        } catch (HttpTimeoutException e) {
            throw new IOException(url + ": no answer within " + timeout.toMillis() + " ms", e);
        }
    }

    private String get(String url) throws Exception {
        HttpResponse<String> response = request(url);
        if (response.statusCode() != 200) {
            throw new IOException(url + " answered " + response.statusCode());
        }
        return response.body();
    }
}
