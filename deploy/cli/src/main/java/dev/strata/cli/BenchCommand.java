package dev.strata.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code strata bench ...}: benchmarks against a stack of their own, started and stopped here. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Benchmarks (not tests): they print figures.",
        subcommands = {
            BenchCommand.Ingest.class,
            BenchCommand.Batch.class,
            BenchCommand.Serving.class,
            BenchCommand.FilesBench.class
        })
final class BenchCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        new picocli.CommandLine(this).usage(System.out);
        return 0;
    }

    @Command(
            name = "ingest",
            mixinStandardHelpOptions = true,
            description = {
                "Starts Kafka, the registry and the gateway (free ports, a fresh data directory), then measures:",
                "Kafka's own producer performance tool, the gateway over HTTP (1 and 100 events/request) and MQTT QoS 1,",
                "and Mosquitto taking the same MQTT load. Prints events/s and ack latency as ratios to the raw producer."
            })
    static final class Ingest implements Callable<Integer> {

        @Option(
                names = "--duration",
                defaultValue = "PT10S",
                description = "Each measured run. Default: ${DEFAULT-VALUE}")
        Duration duration;

        @Option(
                names = "--report",
                description = "Also write the report (Markdown) here. Default: data/bench/ingest-<time>.md")
        Path report;

        @Option(
                names = "--mosquitto",
                defaultValue = "/usr/sbin/mosquitto",
                description = "Mosquitto binary. Default: ${DEFAULT-VALUE}")
        Path mosquitto;

        @Override
        public Integer call() throws Exception {
            Run run = Run.of("ingest", report);
            Path home = run.home();
            Path dataDir = run.dataDir();
            Path reportFile = run.reportFile();
            String host = "127.0.0.1";
            int kafka = freePort();
            int registry = freePort();
            int http = freePort();
            int mqtt = freePort();
            Path token = dataDir.resolve("local.token");
            List<Supervisor.Launch> launches = new ArrayList<>(kafkaAndRegistry(dataDir, host, kafka, registry));
            launches.add(new Supervisor.Launch(
                    Component.GATEWAY,
                    List.of(
                            "--bootstrap-servers",
                            host + ":" + kafka,
                            "--registry-url",
                            "http://" + host + ":" + registry,
                            "--http-port",
                            Integer.toString(http),
                            "--mqtt-port",
                            Integer.toString(mqtt),
                            "--tokens",
                            dataDir.resolve("gateway-tokens.yaml").toString(),
                            "--create-token",
                            token.toString()),
                    "Gateway",
                    host,
                    List.of(http, mqtt)));
            List<String> args = List.of(
                    "--bootstrap-servers",
                    host + ":" + kafka,
                    "--gateway-http",
                    "http://" + host + ":" + http,
                    "--gateway-mqtt-port",
                    Integer.toString(mqtt),
                    "--token-file",
                    token.toString(),
                    "--duration",
                    duration.toString(),
                    "--mosquitto",
                    mosquitto.toString(),
                    "--report",
                    reportFile.toString());
            return runAgainst(home, dataDir, launches, Component.BENCH_INGEST, args, reportFile);
        }
    }

    @Command(
            name = "batch",
            mixinStandardHelpOptions = true,
            description = {
                "Starts Kafka and the registry (free ports, a fresh data directory), produces --events events, then measures:",
                "Kafka's own consumer performance tool and the archive (a Flink batch job) over the same records, and",
                "DuckDB and the full recompute (a Flink batch job) over the same Parquet files. Prints rows/s and ratios."
            })
    static final class Batch implements Callable<Integer> {

        @Option(names = "--events", defaultValue = "1000000", description = "Default: ${DEFAULT-VALUE}")
        int events;

        @Option(
                names = "--report",
                description = "Also write the report (Markdown) here. Default: data/bench/batch-<time>.md")
        Path report;

        @Override
        public Integer call() throws Exception {
            Run run = Run.of("batch", report);
            Path home = run.home();
            Path dataDir = run.dataDir();
            Path reportFile = run.reportFile();
            String host = "127.0.0.1";
            int kafka = freePort();
            int registry = freePort();
            List<String> args = List.of(
                    "--bootstrap-servers",
                    host + ":" + kafka,
                    "--registry-url",
                    "http://" + host + ":" + registry,
                    "--events",
                    Integer.toString(events),
                    "--lake",
                    dataDir.resolve("lake").toString(),
                    "--report",
                    reportFile.toString());
            return runAgainst(
                    home,
                    dataDir,
                    kafkaAndRegistry(dataDir, host, kafka, registry),
                    Component.BENCH_BATCH,
                    args,
                    reportFile);
        }
    }

    @Command(
            name = "serving",
            mixinStandardHelpOptions = true,
            description = {
                "Starts the whole stack (free ports, a fresh data directory; a batch cycle a minute with 10 s buckets),",
                "sends events to the gateway throughout, then measures merged queries against a no-op endpoint of the same",
                "server: maximum queries/s, and p50/p99 at --rate queries/s from each request's intended start."
            })
    static final class Serving implements Callable<Integer> {

        @Option(
                names = "--duration",
                defaultValue = "PT10S",
                description = "Each measured run. Default: ${DEFAULT-VALUE}")
        Duration duration;

        @Option(names = "--rate", defaultValue = "1000", description = "Paced queries/s. Default: ${DEFAULT-VALUE}")
        int rate;

        @Option(
                names = "--ingest-rate",
                defaultValue = "2000",
                description = "Events/s sent to the gateway meanwhile. Default: ${DEFAULT-VALUE}")
        int ingestRate;

        @Option(
                names = "--report",
                description = "Also write the report (Markdown) here. Default: data/bench/serving-<time>.md")
        Path report;

        @Override
        public Integer call() throws Exception {
            Run run = Run.of("serving", report);
            Path home = run.home();
            Path dataDir = run.dataDir();
            Path reportFile = run.reportFile();
            String host = "127.0.0.1";
            int kafka = freePort();
            int registry = freePort();
            int http = freePort();
            int servingPort = freePort();
            String bootstrap = host + ":" + kafka;
            String registryUrl = "http://" + host + ":" + registry;
            Path token = dataDir.resolve("local.token");
            List<Supervisor.Launch> launches = new ArrayList<>(kafkaAndRegistry(dataDir, host, kafka, registry));
            launches.add(new Supervisor.Launch(
                    Component.GATEWAY,
                    List.of(
                            "--bootstrap-servers",
                            bootstrap,
                            "--registry-url",
                            registryUrl,
                            "--http-port",
                            Integer.toString(http),
                            "--mqtt-port",
                            Integer.toString(freePort()),
                            "--tokens",
                            dataDir.resolve("gateway-tokens.yaml").toString(),
                            "--create-token",
                            token.toString()),
                    "Gateway",
                    host,
                    List.of(http)));
            int flinkPort = freePort();
            launches.add(new Supervisor.Launch(
                    Component.SPEED,
                    List.of(
                            "--bootstrap-servers",
                            bootstrap,
                            "--registry-url",
                            registryUrl,
                            "--data",
                            dataDir.resolve("speed").toString(),
                            "--web-port",
                            Integer.toString(flinkPort),
                            "--metrics-port",
                            Integer.toString(freePort()),
                            "--bucket",
                            "PT10S"),
                    "Speed job",
                    host,
                    List.of(flinkPort)));
            launches.add(new Supervisor.Launch(
                    Component.BATCH,
                    List.of(
                            "scheduler",
                            "--bootstrap-servers",
                            bootstrap,
                            "--registry-url",
                            registryUrl,
                            "--lake",
                            dataDir.resolve("lake").toString(),
                            "--interval",
                            "PT1M",
                            "--bucket",
                            "PT10S",
                            "--safety-margin",
                            "PT10S",
                            "--metrics-port",
                            "0"),
                    "Batch scheduler",
                    host,
                    List.of()));
            launches.add(new Supervisor.Launch(
                    Component.SERVING,
                    List.of(
                            "--bootstrap-servers",
                            bootstrap,
                            "--lake",
                            dataDir.resolve("lake").toString(),
                            "--data",
                            dataDir.resolve("serving").toString(),
                            "--port",
                            Integer.toString(servingPort),
                            "--noop-endpoint"),
                    "Serving",
                    host,
                    List.of(servingPort)));
            List<String> args = List.of(
                    "--gateway-http",
                    "http://" + host + ":" + http,
                    "--token-file",
                    token.toString(),
                    "--serving",
                    "http://" + host + ":" + servingPort,
                    "--duration",
                    duration.toString(),
                    "--rate",
                    Integer.toString(rate),
                    "--ingest-rate",
                    Integer.toString(ingestRate),
                    "--report",
                    reportFile.toString());
            return runAgainst(home, dataDir, launches, Component.BENCH_SERVING, args, reportFile);
        }
    }

    @Command(
            name = "files",
            mixinStandardHelpOptions = true,
            description = {
                "Starts Kafka and the registry (free ports, a fresh data directory), then uploads a --small-mb and a --large-mb CSV",
                "to the gateway's POST /v1/files (the gateway in the bench's JVM, heap capped at 96 MiB), measuring the live heap",
                "during each conversion, and DuckDB converting the same files to Parquet. Prints MB/s, ratios and the heap ratio."
            })
    static final class FilesBench implements Callable<Integer> {

        @Option(names = "--small-mb", defaultValue = "10", description = "Default: ${DEFAULT-VALUE}")
        int smallMb;

        @Option(names = "--large-mb", defaultValue = "1024", description = "Default: ${DEFAULT-VALUE}")
        int largeMb;

        @Option(
                names = "--report",
                description = "Also write the report (Markdown) here. Default: data/bench/files-<time>.md")
        Path report;

        @Override
        public Integer call() throws Exception {
            Run run = Run.of("files", report);
            String host = "127.0.0.1";
            int kafka = freePort();
            int registry = freePort();
            List<String> args = List.of(
                    "--bootstrap-servers",
                    host + ":" + kafka,
                    "--registry-url",
                    "http://" + host + ":" + registry,
                    "--lake",
                    run.dataDir().resolve("lake").toString(),
                    "--work",
                    run.dataDir().resolve("files").toString(),
                    "--small-mb",
                    Integer.toString(smallMb),
                    "--large-mb",
                    Integer.toString(largeMb),
                    "--report",
                    run.reportFile().toString());
            return runAgainst(
                    run.home(),
                    run.dataDir(),
                    kafkaAndRegistry(run.dataDir(), host, kafka, registry),
                    Component.BENCH_FILES,
                    args,
                    run.reportFile());
        }
    }

    /** Where one benchmark run keeps its stack's data (deleted afterwards) and writes its report. */
    record Run(Path home, Path dataDir, Path reportFile) {
        static Run of(String bench, Path report) {
            Path home = StrataCli.home();
            String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
            return new Run(
                    home,
                    home.resolve("data/bench/stack-" + stamp),
                    report != null ? report : home.resolve("data/bench/" + bench + "-" + stamp + ".md"));
        }
    }

    /**
     * Starts {@code launches} as a stack of the bench's own, runs the {@code driver} against it, then
     * stops the stack and deletes its data, whatever happens (Ctrl-C included).
     */
    static int runAgainst(
            Path home,
            Path dataDir,
            List<Supervisor.Launch> launches,
            Component driver,
            List<String> args,
            Path reportFile)
            throws Exception {
        Supervisor stack = new Supervisor(home, dataDir, launches, System.err);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            try {
                                stack.stop();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        "bench-shutdown"));
        try {
            stack.start();
            int code = new ProcessBuilder(driver.command(home, args))
                    .inheritIO()
                    .start()
                    .waitFor();
            if (code == 0) {
                System.err.println("strata: report written to " + reportFile);
            }
            return code;
        } catch (Supervisor.StartupFailure e) {
            System.err.println("strata: " + e.getMessage());
            return 1;
        } finally {
            stack.stop();
            deleteRecursively(dataDir);
        }
    }

    static List<Supervisor.Launch> kafkaAndRegistry(Path dataDir, String host, int kafka, int registry)
            throws IOException {
        return List.of(
                new Supervisor.Launch(
                        Component.KAFKA,
                        List.of(
                                "--data",
                                dataDir.resolve("kafka").toString(),
                                "--port",
                                Integer.toString(kafka),
                                "--controller-port",
                                Integer.toString(freePort())),
                        "Kafka",
                        host,
                        List.of(kafka)),
                new Supervisor.Launch(
                        Component.REGISTRY,
                        List.of("--bootstrap-servers", host + ":" + kafka, "--port", Integer.toString(registry)),
                        "Schema registry",
                        host,
                        List.of(registry)));
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
