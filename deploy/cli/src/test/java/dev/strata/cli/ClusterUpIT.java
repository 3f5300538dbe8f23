package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.strata.cli.LocalStackIT.RunningCli;
import dev.strata.schemas.net.LocalPorts;
import dev.strata.testing.Waits;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code strata up --cluster} as a user runs it: three Kafka broker processes, a Flink JobManager
 * and TaskManager from Flink's entry points, the speed job submitted to them, the batch cycle's
 * jobs run on them, the services pointed at them; {@code strata status} healthy; SIGTERM stops every
 * process; the next start resumes the speed job from its retained checkpoint.
 */
class ClusterUpIT {

    static final Duration STARTUP = Duration.ofSeconds(240);

    @TempDir
    Path data;

    final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void upClusterRunsTheJobsOnTheFlinkClusterAndResumesTheSpeedJobAfterARestart() throws Exception {
        int kafkaBase = freeRange(6); // brokers on base, +2, +4; controllers on base+1, +3, +5
        int flinkPort = LocalPorts.free();
        int gatewayPort = LocalPorts.free();
        int servingPort = LocalPorts.free();
        int speedMetricsPort = LocalPorts.free();
        int batchMetricsPort = LocalPorts.free();
        List<String> args = List.of(
                "up",
                "--cluster",
                "--data",
                data.toString(),
                "--kafka-port",
                Integer.toString(kafkaBase),
                "--kafka-controller-port",
                Integer.toString(kafkaBase + 1),
                "--registry-port",
                Integer.toString(LocalPorts.free()),
                "--gateway-port",
                Integer.toString(gatewayPort),
                "--mqtt-port",
                Integer.toString(LocalPorts.free()),
                "--flink-web-port",
                Integer.toString(flinkPort),
                "--flink-rpc-port",
                Integer.toString(LocalPorts.free()),
                "--flink-jobmanager-metrics-port",
                Integer.toString(LocalPorts.free()),
                "--speed-metrics-port",
                Integer.toString(speedMetricsPort),
                "--batch-metrics-port",
                Integer.toString(batchMetricsPort),
                "--serving-port",
                Integer.toString(servingPort),
                "--batch-interval",
                "PT30S",
                "--bucket",
                "PT10S",
                "--safety-margin",
                "PT10S");
        String jobManager = "http://127.0.0.1:" + flinkPort;

        try (RunningCli first = RunningCli.start(args)) {
            first.awaitLine("Strata is up", STARTUP);
            List<ProcessHandle> processes = first.process.descendants().toList();
            String endpoints = first.awaitLine("Serving API", Duration.ofSeconds(5));
            assertThat(first.transcript())
                    .contains("Kafka broker 3     127.0.0.1:" + (kafkaBase + 4))
                    .contains("Flink TaskManager  taskmanager-1")
                    .contains("with empty state");
            assertThat(endpoints).contains("http://127.0.0.1:" + servingPort);

            // The TaskManager is its own process with the memory flags Flink's BashJavaUtils derived
            // (the command lines' beginnings: the system truncates long ones).
            assertThat(processes.stream().map(p -> p.info().commandLine().orElse("")))
                    .anyMatch(c -> c.contains("-Dstrata.component=flink-taskmanager")
                            && c.contains("-XX:MaxDirectMemorySize="))
                    .anyMatch(c -> c.contains("-Dstrata.component=flink-jobmanager") && c.contains("-Xmx"))
                    .filteredOn(c -> c.contains("-Dstrata.component=kafka "))
                    .hasSize(3);

            // An event through the gateway is counted in the merged view (speed job on the cluster).
            String token = Files.readString(data.resolve("local.token")).trim();
            assertThat(LocalStackIT.postToGateway(
                                    http,
                                    gatewayPort,
                                    token,
                                    "/v1/events",
                                    "application/json",
                                    "{\"source\":\"cluster-up-it\",\"type\":\"t\"}")
                            .statusCode())
                    .isEqualTo(200);
            String series =
                    "http://127.0.0.1:" + servingPort + "/v1/views/events_per_source_1m?group=cluster-up-it&from="
                            + Instant.now().minus(Duration.ofHours(1)).toEpochMilli();
            assertThat(awaitCount(series, Duration.ofSeconds(90)))
                    .as("the event in the merged view")
                    .isEqualTo(1);

            // The batch cycle's archive job ran on the session cluster, next to the speed job.
            List<String> jobs = awaitJobs(jobManager, j -> j.startsWith("strata archive run"), Duration.ofSeconds(150));
            assertThat(jobs)
                    .anyMatch(j -> j.startsWith("strata-speed-layer RUNNING"))
                    .anyMatch(j -> j.startsWith("strata archive run") && j.endsWith("FINISHED"));

            try (RunningCli status = RunningCli.start(List.of(
                    "status",
                    "--bootstrap-servers",
                    "127.0.0.1:" + kafkaBase + ",127.0.0.1:" + (kafkaBase + 2),
                    "--registry",
                    "http://127.0.0.1:" + args.get(args.indexOf("--registry-port") + 1),
                    "--gateway",
                    "http://127.0.0.1:" + gatewayPort,
                    "--speed",
                    jobManager,
                    "--speed-metrics",
                    "http://127.0.0.1:" + speedMetricsPort + "/metrics",
                    "--batch-metrics",
                    "http://127.0.0.1:" + batchMetricsPort + "/metrics",
                    "--serving",
                    "http://127.0.0.1:" + servingPort,
                    "--timeout",
                    "PT20S"))) {
                assertThat(status.process.waitFor(150, TimeUnit.SECONDS)).isTrue();
                String report = status.output();
                assertThat(status.process.exitValue()).as(report).isZero();
                assertThat(report).contains("3 broker(s)").contains("job RUNNING");
            }
            awaitCheckpoint(data.resolve("flink/checkpoints"), Duration.ofSeconds(60));

            first.terminate();
            for (ProcessHandle p : processes) {
                assertThat(p.isAlive())
                        .as(
                                "process %d still alive: %s",
                                p.pid(), p.info().commandLine().orElse(""))
                        .isFalse();
            }
        }

        try (RunningCli second = RunningCli.start(args)) {
            second.awaitLine("Strata is up", STARTUP);
            assertThat(second.transcript()).contains("resuming from " + data.resolve("flink/checkpoints"));
            // The restored state still counts the event of the first run, once.
            String series =
                    "http://127.0.0.1:" + servingPort + "/v1/views/events_per_source_1m?group=cluster-up-it&from="
                            + Instant.now().minus(Duration.ofHours(1)).toEpochMilli();
            assertThat(awaitCount(series, Duration.ofSeconds(60))).isEqualTo(1);
            second.terminate();
        }
    }

    /** The merged count of the series once it is non-zero (a timeout says the last count seen). */
    long awaitCount(String url, Duration timeout) {
        return Waits.await("a count in " + url, timeout)
                .pollInterval(Duration.ofMillis(500))
                .ignoreExceptions()
                .until(
                        () -> {
                            long count = 0;
                            for (JsonNode point : LocalStackIT.JSON
                                    .readTree(LocalStackIT.get(http, url))
                                    .get("points")) {
                                count += point.get("measures").get("count").asLong();
                            }
                            return count;
                        },
                        count -> count > 0);
    }

    /** "name STATE" of every job on the JobManager, once a wanted one has FINISHED. */
    List<String> awaitJobs(String jobManager, Predicate<String> wanted, Duration timeout) {
        return Waits.await("a FINISHED job on " + jobManager, timeout)
                .pollInterval(Duration.ofSeconds(1))
                .until(
                        () -> {
                            List<String> jobs = new ArrayList<>();
                            for (JsonNode job : LocalStackIT.JSON
                                    .readTree(LocalStackIT.get(http, jobManager + "/jobs/overview"))
                                    .get("jobs")) {
                                jobs.add(job.get("name").asText() + " "
                                        + job.get("state").asText());
                            }
                            return jobs;
                        },
                        jobs -> jobs.stream().anyMatch(j -> wanted.test(j) && j.endsWith("FINISHED")));
    }

    static void awaitCheckpoint(Path checkpoints, Duration timeout) {
        Waits.await("a completed checkpoint in " + checkpoints, timeout)
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> {
                    try (var files = Files.walk(checkpoints, 3)) {
                        return files.anyMatch(p -> p.getFileName().toString().equals("_metadata"));
                    }
                });
    }

    /** The first of {@code n} consecutive loopback ports that are all free now. */
    static int freeRange(int n) throws IOException {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(20_000, 30_000);
            boolean free = true;
            for (int port = base; port < base + n && free; port++) {
                try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                    s.setReuseAddress(true);
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new IOException("no " + n + " consecutive free ports");
    }
}
