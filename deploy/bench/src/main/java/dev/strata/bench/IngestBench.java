package dev.strata.bench;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import dev.strata.schemas.net.LocalPorts;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code strata bench ingest}: Kafka's own producer performance tool against the broker, then the
 * gateway over HTTP (1 and 100 records per request) and MQTT QoS 1 (one client, many in flight),
 * and Mosquitto taking the same MQTT load as a reference for the MQTT stack. Each path runs twice:
 * saturated, for its maximum rate, then paced at half that rate, for latency measured from each
 * request's intended start. Figures are printed as ratios to the raw producer of the same run.
 */
@Command(name = "ingest", mixinStandardHelpOptions = true, description = "Benchmarks ingest against a running stack.")
public final class IngestBench implements Callable<Integer> {

    static final int EVENT_BYTES = 300;
    static final int PARTITIONS = 4;

    @Option(names = "--bootstrap-servers", required = true)
    String bootstrapServers;

    @Option(names = "--gateway-http", required = true)
    String gatewayHttp;

    @Option(names = "--gateway-mqtt-port", required = true)
    int gatewayMqttPort;

    @Option(names = "--token-file", required = true)
    Path tokenFile;

    @Option(
            names = "--duration",
            defaultValue = "PT10S",
            description = "Length of each measured run. Default: ${DEFAULT-VALUE}")
    Duration duration;

    @Option(
            names = "--warmup",
            defaultValue = "PT10S",
            description =
                    "Unmeasured saturated run of each gateway path before any is measured (JIT on 2 cores is slow). Default: ${DEFAULT-VALUE}")
    Duration warmup;

    @Option(
            names = "--mosquitto",
            defaultValue = "/usr/sbin/mosquitto",
            description = "Mosquitto binary (Debian's mosquitto)")
    Path mosquitto;

    @Option(names = "--report", description = "Also write the report (Markdown) to this file")
    Path report;

    private String token;

    @Override
    public Integer call() throws Exception {
        token = Files.readString(tokenFile).trim();
        int cores = Runtime.getRuntime().availableProcessors();
        List<String> out = new ArrayList<>();
        out.add("# strata bench ingest — " + Instant.now() + ", " + cores + " cores, JDK " + Runtime.version());
        out.add("");
        out.add("Events of " + EVENT_BYTES + " bytes (JSON; the raw producer sends " + EVENT_BYTES
                + "-byte records). Max: saturated for " + duration.toSeconds()
                + " s. Latency: paced at half the max rate for "
                + duration.toSeconds() + " s, from each request's intended start to its acknowledgement.");
        out.add("");

        createTopic("bench-raw");
        say("raw producer (kafka-producer-perf-test): saturated");
        double rawMax = producerPerf(-1, 600_000).eventsPerSecond();
        say("raw producer: paced at half its max");
        LoadResult raw = producerPerf(rawMax / 2, (long) (rawMax / 2 * duration.toSeconds()));

        List<Row> rows = new ArrayList<>();
        rows.add(new Row("Kafka producer (acks=all, idempotent)", rawMax, raw));

        Vertx vertx = Vertx.vertx();
        HttpClient http = vertx.createHttpClient(
                new HttpClientOptions().setKeepAlive(true).setConnectTimeout(5_000),
                new PoolOptions().setHttp1MaxSize(64).setMaxWaitQueueSize(-1));
        Mqtt5AsyncClient gatewayClient = mqttClient(gatewayMqttPort, token);
        say("warm-up of the gateway's paths, " + warmup.toSeconds() + " s each");
        OpenLoop.saturate(httpOperation(http, 1), 64, warmup);
        OpenLoop.saturate(httpOperation(http, 1, "/v1/noop"), 64, warmup);
        OpenLoop.saturate(httpOperation(http, 100), 8, warmup);
        OpenLoop.saturate(mqttOperation(gatewayClient), 1000, warmup);
        rows.add(measure("gateway HTTP, 1 event/request", httpOperation(http, 1), 1, 64));
        Row noop = measure(
                "gateway HTTP no-op POST, 1 event/request (reference: same server, token, body; nothing parsed or"
                        + " appended)",
                httpOperation(http, 1, "/v1/noop"),
                1,
                64);
        rows.add(measure("gateway HTTP, 100 events/request", httpOperation(http, 100), 100, 8));
        rows.add(measure("gateway MQTT QoS 1, one client", mqttOperation(gatewayClient), 1, 1000));
        gatewayClient.disconnect().join();

        Row mosquittoRow = null;
        if (Files.isExecutable(mosquitto)) {
            Process broker = startMosquitto();
            try {
                Mqtt5AsyncClient client = mqttClient(mosquittoPort, null);
                OpenLoop.saturate(mqttOperation(client), 1000, warmup);
                mosquittoRow = measure("Mosquitto 2 QoS 1, same client (reference)", mqttOperation(client), 1, 1000);
                client.disconnect().join();
                rows.add(mosquittoRow);
            } finally {
                broker.destroy();
                broker.waitFor(10, TimeUnit.SECONDS);
            }
        } else {
            out.add("Mosquitto reference skipped: " + mosquitto + " not found (apt-get install mosquitto).");
        }

        rows.add(noop);
        out.add("| path | max events/s | × raw max | p50 ms | p99 ms | p99.9 ms | p99 − raw p99 |");
        out.add("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (Row r : rows) {
            out.add(String.format(
                    Locale.ROOT,
                    "| %s | %,.0f | %.2f | %.2f | %.2f | %.2f | %+.2f ms |",
                    r.name,
                    r.max,
                    r.max / rawMax,
                    r.paced.p50(),
                    r.paced.p99(),
                    r.paced.p999(),
                    r.paced.p99() - raw.p99()));
        }
        out.add("");
        Row http1 = rows.get(1);
        Row http100 = rows.get(2);
        Row mqtt = rows.get(3);
        out.add(goal("HTTP at 100 events/request ≥ 60% of the raw producer", http100.max / rawMax, 0.60));
        out.add(goal("HTTP at 1 event/request ≥ 40% of the no-op POST", http1.max / noop.max, 0.40));
        out.add(goal("MQTT QoS 1 ≥ 40% of the raw producer", mqtt.max / rawMax, 0.40));
        if (mosquittoRow != null) {
            out.add(goal("MQTT QoS 1 ≥ 50% of Mosquitto's intake", mqtt.max / mosquittoRow.max, 0.50));
        }
        for (Row r : rows.subList(1, 4)) {
            double over = r.paced.p99() - raw.p99();
            out.add(String.format(
                    Locale.ROOT,
                    "- %s: p99 at half max %.2f ms vs raw %.2f ms + 5 ms: %s",
                    r.name,
                    r.paced.p99(),
                    raw.p99(),
                    over <= 5 ? "met" : "missed"));
        }
        for (Row r : rows) {
            if (r.paced.failures() > 0) {
                out.add("- " + r.name + ": " + r.paced.failures() + " requests failed during the paced run");
            }
        }
        vertx.close();
        String text = String.join("\n", out) + "\n";
        System.out.print(text);
        if (report != null) {
            Files.createDirectories(report.toAbsolutePath().getParent());
            Files.writeString(report, text);
        }
        return 0;
    }

    record Row(String name, double max, LoadResult paced) {}

    static String goal(String goal, double ratio, double target) {
        return String.format(Locale.ROOT, "- %s: %.0f%% — %s", goal, ratio * 100, ratio >= target ? "met" : "missed");
    }

    private Row measure(String name, LongFunction<CompletableFuture<Boolean>> operation, int eventsPerOp, int window)
            throws InterruptedException {
        say(name + ": saturated");
        double max = OpenLoop.saturate(operation, window, duration) * eventsPerOp;
        say(String.format(Locale.ROOT, "%s: %,.0f events/s; paced at half", name, max));
        LoadResult paced = OpenLoop.paced(name, operation, max / 2 / eventsPerOp, eventsPerOp, window * 4, duration);
        return new Row(name, max, paced);
    }

    // ---- the raw reference: Kafka's own tool, in a JVM of its own ----

    static final Pattern PERF_SUMMARY = Pattern.compile(
            "(\\d+) records sent, ([\\d.]+) records/sec .*?, ([\\d.]+) ms avg latency, ([\\d.]+) ms max latency, "
                    + "(\\d+) ms 50th, (\\d+) ms 95th, (\\d+) ms 99th, (\\d+) ms 99.9th");

    private LoadResult producerPerf(double throughput, long records) throws IOException, InterruptedException {
        List<String> command = KafkaTools.kafkaTool(
                "org.apache.kafka.tools.ProducerPerformance",
                "--topic",
                "bench-raw",
                "--num-records",
                Long.toString(records),
                "--record-size",
                Integer.toString(EVENT_BYTES),
                "--throughput",
                throughput < 0 ? "-1" : Long.toString((long) throughput),
                "--producer-props",
                "bootstrap.servers=" + bootstrapServers,
                "acks=all",
                "enable.idempotence=true",
                "linger.ms=2",
                "batch.size=131072",
                "compression.type=lz4");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String summary = null;
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (PERF_SUMMARY.matcher(line).find()) {
                    summary = line;
                }
            }
        }
        process.waitFor(120, TimeUnit.SECONDS);
        if (summary == null) {
            throw new IllegalStateException(
                    "kafka-producer-perf-test printed no summary (exit " + process.exitValue() + ")");
        }
        say("  " + summary);
        Matcher m = PERF_SUMMARY.matcher(summary);
        m.find();
        // The tool measures each send from its call, paced by its own throttle, in whole milliseconds.
        return new LoadResult(
                "raw",
                Double.parseDouble(m.group(2)),
                Double.parseDouble(m.group(5)),
                Double.parseDouble(m.group(7)),
                Double.parseDouble(m.group(8)),
                0);
    }

    // ---- the gateway's paths ----

    private LongFunction<CompletableFuture<Boolean>> httpOperation(HttpClient http, int eventsPerRequest) {
        return httpOperation(http, eventsPerRequest, "/v1/events");
    }

    private LongFunction<CompletableFuture<Boolean>> httpOperation(HttpClient http, int eventsPerRequest, String path) {
        URI uri = URI.create(gatewayHttp + path);
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setHost(uri.getHost())
                .setPort(uri.getPort())
                .setURI(uri.getPath())
                .putHeader("Authorization", "Bearer " + token)
                .putHeader("Content-Type", "application/x-ndjson");
        return i -> {
            StringBuilder body = new StringBuilder(eventsPerRequest * (EVENT_BYTES + 1));
            for (int e = 0; e < eventsPerRequest; e++) {
                body.append(event("h" + eventsPerRequest + "-" + i + "-" + e, "bench-device-" + (i % 100)))
                        .append('\n');
            }
            return http.request(options)
                    .compose(request -> request.send(Buffer.buffer(body.toString())))
                    .compose(response -> response.body().map(b -> response.statusCode() == 200))
                    .toCompletionStage()
                    .toCompletableFuture()
                    .exceptionally(e -> false);
        };
    }

    private static LongFunction<CompletableFuture<Boolean>> mqttOperation(Mqtt5AsyncClient client) {
        return i -> {
            String source = "bench-device-" + (i % 100);
            byte[] payload = event("m-" + i, source).getBytes(StandardCharsets.UTF_8);
            return client.publishWith()
                    .topic("strata/events/" + source)
                    .qos(MqttQos.AT_LEAST_ONCE)
                    .payload(payload)
                    .send()
                    .thenApply(r -> r.getError().isEmpty())
                    .exceptionally(e -> false);
        };
    }

    /** A JSON event of {@link #EVENT_BYTES} bytes. */
    static String event(String id, String source) {
        String head = "{\"id\":\"" + id + "\",\"source\":\"" + source + "\",\"type\":\"temperature\",\"time\":"
                + System.currentTimeMillis()
                + ",\"value\":21.5,\"attributes\":{\"site\":\"north\",\"unit\":\"C\",\"pad\":\"";
        int pad = Math.max(0, EVENT_BYTES - head.length() - 3);
        return head + "x".repeat(pad) + "\"}}";
    }

    private Mqtt5AsyncClient mqttClient(int port, String password) {
        var builder = MqttClient.builder()
                .useMqttVersion5()
                .identifier("bench-" + port)
                .serverHost("127.0.0.1")
                .serverPort(port);
        Mqtt5BlockingClient client = builder.buildBlocking();
        var connect = client.connectWith();
        if (password != null) {
            connect.simpleAuth()
                    .username("bench")
                    .password(password.getBytes(StandardCharsets.UTF_8))
                    .applySimpleAuth();
        }
        connect.send();
        return client.toAsync();
    }

    // ---- the Mosquitto reference ----

    private int mosquittoPort;

    private Process startMosquitto() throws IOException, InterruptedException {
        mosquittoPort = LocalPorts.free();
        Path conf = Files.createTempFile("strata-bench-mosquitto", ".conf");
        Files.writeString(
                conf,
                "listener " + mosquittoPort + " 127.0.0.1\nallow_anonymous true\npersistence false\n"
                        + "max_inflight_messages 1000\nmax_queued_messages 100000\nlog_type error\n");
        Process process = new ProcessBuilder(mosquitto.toString(), "-c", conf.toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectErrorStream(true)
                .start();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket("127.0.0.1", mosquittoPort)) {
                return process;
            } catch (IOException notYet) {
                TimeUnit.MILLISECONDS.sleep(50);
            }
        }
        process.destroyForcibly();
        throw new IllegalStateException("mosquitto did not listen on " + mosquittoPort);
    }

    private void createTopic(String name) throws Exception {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        try (Admin admin = Admin.create(props)) {
            if (!admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(name)) {
                admin.createTopics(List.of(new NewTopic(name, PARTITIONS, (short) 1)
                                .configs(Map.of("message.timestamp.type", "LogAppendTime"))))
                        .all()
                        .get(30, TimeUnit.SECONDS);
            }
        }
    }

    static void say(String line) {
        System.err.println("bench: " + line);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new IngestBench()).execute(args));
    }
}
