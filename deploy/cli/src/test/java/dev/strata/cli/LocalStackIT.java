package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.cli.stack.Component;
import dev.strata.schemas.net.LocalPorts;
import dev.strata.testing.Waits;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code strata up} as a user runs it: a CLI process that starts the broker and the registry as
 * processes of their own, stops them all on SIGTERM, and resumes from its data on the next start.
 */
class LocalStackIT {

    static final Duration STARTUP = Duration.ofSeconds(120);
    static final String SCHEMA_V1 = """
            {"type":"record","name":"Reading","fields":[{"name":"a","type":"string"}]}""";
    static final String SCHEMA_INCOMPATIBLE = """
            {"type":"record","name":"Reading","fields":[{"name":"a","type":"string"},{"name":"b","type":"int"}]}""";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path data;

    final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void upStartsTheStackStopsItWithoutOrphansAndResumesFromItsData() throws Exception {
        int kafkaPort = LocalPorts.free();
        int controllerPort = LocalPorts.free();
        int registryPort = LocalPorts.free();
        int gatewayPort = LocalPorts.free();
        int flinkPort = LocalPorts.free();
        int servingPort = LocalPorts.free();
        int speedMetricsPort = LocalPorts.free();
        int batchMetricsPort = LocalPorts.free();
        List<String> args = List.of(
                "up",
                "--data",
                data.toString(),
                "--kafka-port",
                Integer.toString(kafkaPort),
                "--kafka-controller-port",
                Integer.toString(controllerPort),
                "--registry-port",
                Integer.toString(registryPort),
                "--gateway-port",
                Integer.toString(gatewayPort),
                "--mqtt-port",
                Integer.toString(LocalPorts.free()),
                "--flink-web-port",
                Integer.toString(flinkPort),
                "--speed-metrics-port",
                Integer.toString(speedMetricsPort),
                "--batch-metrics-port",
                Integer.toString(batchMetricsPort),
                "--serving-port",
                Integer.toString(servingPort));
        List<String> status = List.of(
                "status",
                "--bootstrap-servers",
                "127.0.0.1:" + kafkaPort,
                "--registry",
                "http://127.0.0.1:" + registryPort,
                "--gateway",
                "http://127.0.0.1:" + gatewayPort,
                "--speed",
                "http://127.0.0.1:" + flinkPort,
                "--speed-metrics",
                "http://127.0.0.1:" + speedMetricsPort + "/metrics",
                "--batch-metrics",
                "http://127.0.0.1:" + batchMetricsPort + "/metrics",
                "--serving",
                "http://127.0.0.1:" + servingPort);
        String registry = "http://127.0.0.1:" + registryPort;

        int id;
        try (RunningCli first = RunningCli.start(args)) {
            first.awaitLine("Strata is up", STARTUP);
            assertThat(first.awaitLine("Kafka", Duration.ofSeconds(5))).contains("127.0.0.1:" + kafkaPort);
            List<ProcessHandle> components = first.process.descendants().toList();
            assertThat(components).hasSizeGreaterThanOrEqualTo(3);
            String token = Files.readString(data.resolve("local.token")).trim();
            assertThat(first.awaitLine("Gateway token", Duration.ofSeconds(5))).contains(token);

            assertThat(postToGateway(
                                    http,
                                    gatewayPort,
                                    token,
                                    "/v1/events",
                                    "application/json",
                                    "{\"source\":\"local-stack-it\",\"type\":\"t\"}")
                            .statusCode())
                    .isEqualTo(200);

            // Registry writes need the stack's registry token; without it a new schema is refused.
            assertThat(post(registry + "/subjects/readings-value/versions", SCHEMA_V1, null)
                            .statusCode())
                    .isEqualTo(401);
            String registryToken =
                    Files.readString(data.resolve("registry.token")).trim();
            HttpResponse<String> registered =
                    post(registry + "/subjects/readings-value/versions", SCHEMA_V1, registryToken);
            assertThat(registered.statusCode()).isEqualTo(200);
            id = JSON.readTree(registered.body()).get("id").asInt();

            first.terminate();
            // 143 = 128 + SIGTERM: the JVM's status after a signal-initiated, clean shutdown.
            assertThat(first.process.exitValue()).isIn(0, 143);
            for (ProcessHandle component : components) {
                assertThat(component.isAlive())
                        .as("component process %d still alive", component.pid())
                        .isFalse();
            }
            assertThat(Files.readString(data.resolve("logs/kafka.log"))).contains("READY kafka");
        }

        List<String> withDemo = new ArrayList<>(args);
        withDemo.add("--demo");
        try (RunningCli second = RunningCli.start(withDemo)) {
            second.awaitLine("Strata is up", STARTUP);
            // The demo's devices publish over MQTT through the gateway: its metrics count them.
            String accepted = "strata_gateway_records_total{outcome=\"accepted\",protocol=\"mqtt\",reason=\"ok\"}";
            Waits.await("the demo's MQTT events at the gateway", Duration.ofSeconds(60))
                    .untilAsserted(() -> assertThat(get("http://127.0.0.1:" + gatewayPort + "/metrics"))
                            .contains(accepted));

            // ...and flow through the speed job: its view folder has read records, and it runs.
            Waits.await("records read by the running speed job's view folder", Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        JsonNode jobs = JSON.readTree(get("http://127.0.0.1:" + flinkPort + "/jobs/overview"))
                                .get("jobs");
                        assertThat(jobs).as("the speed job").isNotEmpty();
                        JsonNode job = JSON.readTree(get("http://127.0.0.1:" + flinkPort + "/jobs/"
                                + jobs.get(0).get("jid").asText()));
                        assertThat(job.get("state").asText()).isEqualTo("RUNNING");
                        long folded = 0;
                        for (JsonNode vertex : job.get("vertices")) {
                            if (vertex.get("name").asText().contains("fold views")) {
                                folded = vertex.get("metrics")
                                        .get("read-records")
                                        .asLong();
                            }
                        }
                        assertThat(folded)
                                .as("records read by the speed job's view folder")
                                .isPositive();
                    });
            // ...and reach the serving layer's merged view (speed-views through its Kafka Streams store).
            String series = "http://127.0.0.1:" + servingPort + "/v1/views/events_per_source_1m?from="
                    + Instant.now().minus(Duration.ofHours(3)).toEpochMilli();
            Waits.await("events counted in the serving layer's merged view", Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        long merged = 0;
                        for (JsonNode point : JSON.readTree(get(series)).get("points")) {
                            merged += point.get("measures").get("count").asLong();
                        }
                        assertThat(merged).isPositive();
                    });

            // Two devices that number their own events alike: each one's event counts, and a retry of one once.
            String token = Files.readString(data.resolve("local.token")).trim();
            for (String source : List.of("lsi-a", "lsi-b", "lsi-a")) {
                assertThat(postToGateway(
                                        http,
                                        gatewayPort,
                                        token,
                                        "/v1/events",
                                        "application/json",
                                        "{\"id\":\"shared-1\",\"source\":\"" + source + "\",\"type\":\"t\"}")
                                .statusCode())
                        .isEqualTo(200);
            }
            for (String source : List.of("lsi-a", "lsi-b")) {
                Waits.await("one event of " + source + " in the merged view", Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(500))
                        .untilAsserted(() -> {
                            long count = 0;
                            for (JsonNode point : JSON.readTree(get(series + "&group=" + source))
                                    .get("points")) {
                                count += point.get("measures").get("count").asLong();
                            }
                            assertThat(count).as(source).isEqualTo(1);
                        });
            }

            // Every metric the alerts and the dashboard use is exported by some part of the stack.
            Set<String> exported = new TreeSet<>();
            for (String url : List.of(
                    "http://127.0.0.1:" + gatewayPort + "/metrics",
                    "http://127.0.0.1:" + servingPort + "/metrics",
                    "http://127.0.0.1:" + speedMetricsPort + "/metrics",
                    "http://127.0.0.1:" + batchMetricsPort + "/metrics")) {
                exported.addAll(PrometheusText.parse(get(url)).names());
            }
            assertThat(exported).containsAll(MonitoringFiles.metricsUsed());

            // strata status: every layer answers and is healthy.
            List<String> patient = new ArrayList<>(status);
            patient.addAll(
                    List.of("--timeout", "PT20S")); // a loaded machine answers slowly; a wrong answer still fails
            try (RunningCli healthy = RunningCli.start(patient)) {
                assertThat(healthy.process.waitFor(150, TimeUnit.SECONDS)).isTrue();
                String report = healthy.output();
                assertThat(healthy.process.exitValue()).as(report).isZero();
                assertThat(report)
                        .contains("speed     OK")
                        .contains("job RUNNING")
                        .contains("serving   OK")
                        .endsWith("healthy\n");
            }

            // A file through the gateway and one dropped in the landing folder become a dataset of
            // the lake, in the catalog and queryable with SQL on the serving layer.
            assertThat(postToGateway(
                                    http,
                                    gatewayPort,
                                    token,
                                    "/v1/files/meters",
                                    "text/csv",
                                    "meter,kwh\nm1,1.5\nm2,2.5\n")
                            .statusCode())
                    .isEqualTo(201);
            Path landed = data.resolve("landing/meters/more.ndjson.tmp");
            Files.createDirectories(landed.getParent());
            Files.writeString(landed, "{\"meter\":\"m3\",\"kwh\":3}\n");
            Files.move(landed, landed.resolveSibling("more.ndjson"));
            Waits.await("both files' rows through SQL", Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        HttpResponse<String> answer = http.send(
                                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + servingPort + "/v1/sql"))
                                        .header("Content-Type", "text/plain")
                                        .POST(HttpRequest.BodyPublishers.ofString(
                                                "SELECT count(*), sum(kwh) FROM meters"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
                        assertThat(JSON.readTree(answer.body()).get("rows").toString())
                                .isEqualTo("[[3,7.0]]");
                    });

            // strata catalog: the lake's datasets and views, from the serving layer.
            try (RunningCli catalog =
                    RunningCli.start(List.of("catalog", "--serving", "http://127.0.0.1:" + servingPort))) {
                assertThat(catalog.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
                String listing = catalog.output();
                assertThat(catalog.process.exitValue()).as(listing).isZero();
                assertThat(listing)
                        .startsWith("NAME")
                        .contains("\nevents ")
                        .contains("\nevents_per_source_1m ")
                        .contains("\nmeters ")
                        .contains("lake: ");
            }

            HttpResponse<String> lookedUp = post(registry + "/subjects/readings-value", SCHEMA_V1, null);
            assertThat(lookedUp.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(lookedUp.body()).get("id").asInt()).isEqualTo(id);

            HttpResponse<String> refused = post(
                    registry + "/subjects/readings-value/versions",
                    SCHEMA_INCOMPATIBLE,
                    Files.readString(data.resolve("registry.token")).trim());
            assertThat(refused.statusCode()).isEqualTo(409);
            assertThat(JSON.readTree(refused.body()).get("message").asText())
                    .startsWith(
                            "Schema being registered is incompatible with an earlier schema for subject \"readings-value\"");
            second.terminate();
        }
        // ...and with the stack stopped, status names what is down and exits 1.
        List<String> quick = new ArrayList<>(status);
        quick.addAll(List.of("--timeout", "PT3S"));
        try (RunningCli down = RunningCli.start(quick)) {
            assertThat(down.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String report = down.output();
            assertThat(down.process.exitValue()).as(report).isEqualTo(1);
            assertThat(report)
                    .contains("gateway   FAIL  http://127.0.0.1:" + gatewayPort + "/ready: connection refused")
                    .contains("UNHEALTHY: 6 layer(s) failing");
        }
    }

    @Test
    void aBusyPortStopsStartupWithALineNamingIt() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                RunningCli cli = RunningCli.start(List.of(
                        "up",
                        "--data",
                        data.toString(),
                        "--kafka-port",
                        Integer.toString(taken.getLocalPort()),
                        "--kafka-controller-port",
                        Integer.toString(LocalPorts.free()),
                        "--registry-port",
                        Integer.toString(LocalPorts.free()),
                        "--gateway-port",
                        Integer.toString(LocalPorts.free()),
                        "--mqtt-port",
                        Integer.toString(LocalPorts.free()),
                        "--flink-web-port",
                        Integer.toString(LocalPorts.free()),
                        "--serving-port",
                        Integer.toString(LocalPorts.free())))) {
            assertThat(cli.awaitLine("is in use", Duration.ofSeconds(60)))
                    .contains("port " + taken.getLocalPort() + " (Kafka) is in use");
            assertThat(cli.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(cli.process.exitValue()).isEqualTo(1);
        }
    }

    /** A schema POSTed to the registry, with {@code token} if not null. */
    HttpResponse<String> post(String url, String schema, String token) throws IOException, InterruptedException {
        String body = JSON.createObjectNode().put("schema", schema).toString();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    String get(String url) throws IOException, InterruptedException {
        return get(http, url);
    }

    /** A POST to the gateway with the token; the answer (its body is the assertion's description). */
    static HttpResponse<String> postToGateway(
            HttpClient http, int gatewayPort, String token, String path, String contentType, String body)
            throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gatewayPort + path))
                        .header("Authorization", "Bearer " + token)
                        .header("Content-Type", contentType)
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The body of a 200 answer to GET {@code url}; any other answer fails, saying what it was. */
    static String get(HttpClient http, String url) throws IOException, InterruptedException {
        HttpResponse<String> answer = http.send(
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as("GET " + url + ": " + answer.body()).isEqualTo(200);
        return answer.body();
    }

    /** The strata CLI as its own JVM, launched with the classpath the build wrote. */
    static final class RunningCli implements AutoCloseable {
        final Process process;
        /** Every line the process printed so far. */
        final List<String> lines = new CopyOnWriteArrayList<>();
        /** Lines before this one have been looked at by {@link #awaitLine}. */
        private int seen;

        private volatile boolean readerDone;

        private RunningCli(Process process) {
            this.process = process;
            Thread reader = new Thread(
                    () -> {
                        try (BufferedReader in = new BufferedReader(
                                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                            String line;
                            while ((line = in.readLine()) != null) {
                                lines.add(line);
                            }
                        } catch (IOException ignored) {
                            // the process is gone
                        } finally {
                            readerDone = true;
                        }
                    },
                    "strata-cli-output");
            reader.setDaemon(true);
            reader.start();
        }

        static RunningCli start(List<String> args) throws IOException {
            Path home = StrataCli.home();
            Path cli = home.resolve("deploy/cli");
            String classpath = cli.resolve("target/classes")
                    + File.pathSeparator
                    + Files.readString(cli.resolve("target/runtime-classpath.txt"))
                            .trim();
            List<String> command = new ArrayList<>(List.of(
                    Component.javaExecutable(), "-Dstrata.home=" + home, "-cp", classpath, StrataCli.class.getName()));
            command.addAll(args);
            return new RunningCli(
                    new ProcessBuilder(command).redirectErrorStream(true).start());
        }

        /** Waits for a line (after the last one found) containing {@code text}; returns it. */
        String awaitLine(String text, Duration timeout) {
            int line = Waits.await("a line containing '" + text + "'", timeout)
                    .until(
                            () -> {
                                for (int i = seen; i < lines.size(); i++) {
                                    if (lines.get(i).contains(text)) {
                                        return i;
                                    }
                                }
                                return -1;
                            },
                            i -> i >= 0 || !process.isAlive());
            if (line < 0) {
                throw new AssertionError(
                        "the process ended without a line containing '" + text + "'; its output:\n" + transcript());
            }
            seen = line + 1;
            return lines.get(line);
        }

        /** The output so far. */
        String transcript() {
            return String.join("\n", lines) + "\n";
        }

        /** All the output of a process that has ended. */
        String output() throws InterruptedException {
            process.waitFor(30, TimeUnit.SECONDS);
            Waits.await("the output of the ended process", Duration.ofSeconds(5))
                    .until(() -> readerDone);
            return transcript();
        }

        /** SIGTERM, as Ctrl-C or a service manager would send, then wait for a clean exit. */
        void terminate() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(90, TimeUnit.SECONDS)) {
                throw new AssertionError("strata up did not stop within 90 s of SIGTERM");
            }
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                List<ProcessHandle> descendants = process.descendants().toList();
                process.destroyForcibly();
                descendants.forEach(ProcessHandle::destroyForcibly);
                process.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }
}
