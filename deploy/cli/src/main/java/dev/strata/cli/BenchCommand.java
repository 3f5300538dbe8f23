package dev.strata.cli;

import dev.strata.cli.stack.Component;
import dev.strata.cli.stack.StackSpec;
import dev.strata.schemas.views.CutSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code strata bench ...}: benchmarks against a stack of their own ({@link StackSpec} on free
 * ports, in a fresh data directory), started here and stopped and deleted afterwards.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Benchmarks (not tests): they print figures.",
        subcommands = {
            BenchCommand.Ingest.class,
            BenchCommand.Batch.class,
            BenchCommand.Speed.class,
            BenchCommand.Serving.class,
            BenchCommand.Freshness.class,
            BenchCommand.FilesBench.class,
            BenchCommand.TransformsBench.class
        })
final class BenchCommand implements Callable<Integer> {

    static final String HOST = "127.0.0.1";

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
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
            BenchRun run = BenchRun.of("ingest", report);
            return run.against(
                    stack -> stack.layers(StackSpec.Layers.INGEST).files(false),
                    Component.BENCH_INGEST,
                    stack -> List.of(
                            "--bootstrap-servers", stack.bootstrapServers(),
                            "--gateway-http", stack.gatewayUrl(),
                            "--gateway-mqtt-port",
                                    Integer.toString(stack.ports().mqtt()),
                            "--token-file", stack.tokenFile().toString(),
                            "--duration", duration.toString(),
                            "--mosquitto", mosquitto.toString()));
        }
    }

    @Command(
            name = "batch",
            mixinStandardHelpOptions = true,
            description = {
                "Starts Kafka and the registry (free ports, a fresh data directory), produces --events events, then measures:",
                "Kafka's own consumer performance tool and the archive (a Flink batch job) over the same records, and",
                "DuckDB and the full recompute (a Flink batch job) over the same Parquet files, also when every event was resent,",
                "and one batch cycle of N new events over 0, 10 N and 100 N events of history. Prints rows/s and ratios."
            })
    static final class Batch implements Callable<Integer> {

        @Option(names = "--events", defaultValue = "1000000", description = "Default: ${DEFAULT-VALUE}")
        int events;

        @Option(
                names = "--history-events",
                description =
                        "N of the history runs: one cycle of N new events over 0, 10 N and 100 N. Default: --events / 20")
        int historyEvents;

        @Option(
                names = "--report",
                description = "Also write the report (Markdown) here. Default: data/bench/batch-<time>.md")
        Path report;

        @Override
        public Integer call() throws Exception {
            BenchRun run = BenchRun.of("batch", report);
            return run.against(
                    stack -> stack.layers(StackSpec.Layers.KAFKA_AND_REGISTRY).objectStore(true),
                    Component.BENCH_BATCH,
                    stack -> List.of(
                            "--bootstrap-servers", stack.bootstrapServers(),
                            "--registry-url", stack.registryUrl(),
                            "--registry-token-file", stack.registryTokenFile().toString(),
                            "--events", Integer.toString(events),
                            "--history-events", Integer.toString(historyEvents),
                            "--lake", stack.dataDir().resolve("lake").toString(),
                            "--object-store-lake", stack.lake(),
                            "--object-store-catalog",
                                    "jdbc:sqlite:" + stack.dataDir().resolve("s3-catalog.db"),
                            "--s3-endpoint", stack.s3Url(),
                            "--s3-access-key", StackSpec.S3_ACCESS_KEY,
                            "--s3-secret-key", stack.s3SecretKey()));
        }
    }

    @Command(
            name = "speed",
            mixinStandardHelpOptions = true,
            description = {
                "Starts Kafka and the registry (free ports, a fresh data directory), produces --events events, then runs the",
                "speed job over them with RocksDB and checkpoints every 10 s, and with in-memory state and no checkpoints;",
                "then the update latency (append to upsert in speed-views) at half the RocksDB rate, measured after the job's",
                "first --latency-settle (reported apart). Prints events/s and ratios."
            })
    static final class Speed implements Callable<Integer> {

        @Option(names = "--events", defaultValue = "2000000", description = "Default: ${DEFAULT-VALUE}")
        int events;

        @Option(
                names = "--latency-duration",
                defaultValue = "PT40S",
                description = "The paced latency run. Default: ${DEFAULT-VALUE}")
        Duration latencyDuration;

        @Option(
                names = "--latency-settle",
                defaultValue = "PT20S",
                description =
                        "The paced run's first part after the job starts, reported apart. Default: ${DEFAULT-VALUE}")
        Duration latencySettle;

        @Option(
                names = "--checkpoint-interval",
                defaultValue = "PT10S",
                description = "The RocksDB runs' checkpoint interval (strata speed's). Default: ${DEFAULT-VALUE}")
        Duration checkpointInterval;

        @Option(
                names = "--latency-rate",
                description = "Only the paced latency run, at this many events/s (to look into the latency; no report)")
        Double latencyRate;

        @Option(
                names = "--report",
                description = "Also write the report (Markdown) here. Default: data/bench/speed-<time>.md")
        Path report;

        @Override
        public Integer call() throws Exception {
            BenchRun run = BenchRun.of("speed", report);
            return run.against(
                    stack -> stack.layers(StackSpec.Layers.KAFKA_AND_REGISTRY), Component.BENCH_SPEED, stack -> {
                        List<String> args = new ArrayList<>(List.of(
                                "--bootstrap-servers", stack.bootstrapServers(),
                                "--registry-url", stack.registryUrl(),
                                "--registry-token-file",
                                        stack.registryTokenFile().toString(),
                                "--events", Integer.toString(events),
                                "--latency-duration", latencyDuration.toString(),
                                "--latency-settle", latencySettle.toString(),
                                "--checkpoint-interval", checkpointInterval.toString(),
                                "--data", stack.dataDir().resolve("bench-speed").toString()));
                        if (latencyRate != null) {
                            args.addAll(List.of("--latency-rate", latencyRate.toString()));
                        }
                        return args;
                    });
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
            BenchRun run = BenchRun.of("serving", report);
            Duration bucket = Duration.ofSeconds(10);
            return run.against(
                    stack -> stack.files(false)
                            .cut(new CutSettings(bucket, CutSettings.DEFAULTS.dedupHorizon()), bucket)
                            .batchInterval(Duration.ofMinutes(1))
                            .servingNoopEndpoint(true),
                    Component.BENCH_SERVING,
                    stack -> List.of(
                            "--gateway-http", stack.gatewayUrl(),
                            "--token-file", stack.tokenFile().toString(),
                            "--serving", stack.servingUrl(),
                            "--duration", duration.toString(),
                            "--rate", Integer.toString(rate),
                            "--ingest-rate", Integer.toString(ingestRate)));
        }
    }

    @Command(
            name = "freshness",
            mixinStandardHelpOptions = true,
            description = {
                "Starts the whole stack (free ports, a fresh data directory; a batch cycle a minute with 10 s buckets), then",
                "POSTs one event at a time and polls the merged view until it shows it: p50/p99/max on the idle stack and with",
                "--ingest-rate events/s of other ingest, and where the time goes (gateway, speed job, speed-views, serving)."
            })
    static final class Freshness implements Callable<Integer> {

        @Option(names = "--samples", defaultValue = "200", description = "Per run. Default: ${DEFAULT-VALUE}")
        int samples;

        @Option(
                names = "--ingest-rate",
                defaultValue = "2000",
                description = "Events/s of other ingest in the loaded run. Default: ${DEFAULT-VALUE}")
        int ingestRate;

        @Option(
                names = "--report",
                description = "Also write the report (Markdown) here. Default: data/bench/freshness-<time>.md")
        Path report;

        @Override
        public Integer call() throws Exception {
            BenchRun run = BenchRun.of("freshness", report);
            Duration bucket = Duration.ofSeconds(10);
            return run.against(
                    stack -> stack.files(false)
                            .cut(new CutSettings(bucket, CutSettings.DEFAULTS.dedupHorizon()), bucket)
                            .batchInterval(Duration.ofMinutes(1)),
                    Component.BENCH_FRESHNESS,
                    stack -> List.of(
                            "--gateway-http", stack.gatewayUrl(),
                            "--token-file", stack.tokenFile().toString(),
                            "--serving", stack.servingUrl(),
                            "--bootstrap-servers", stack.bootstrapServers(),
                            "--samples", Integer.toString(samples),
                            "--ingest-rate", Integer.toString(ingestRate)));
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
            BenchRun run = BenchRun.of("files", report);
            return run.against(
                    stack -> stack.layers(StackSpec.Layers.KAFKA_AND_REGISTRY),
                    Component.BENCH_FILES,
                    stack -> List.of(
                            "--bootstrap-servers", stack.bootstrapServers(),
                            "--registry-url", stack.registryUrl(),
                            "--registry-token-file", stack.registryTokenFile().toString(),
                            "--lake", stack.lake().toString(),
                            "--work", stack.dataDir().resolve("files").toString(),
                            "--small-mb", Integer.toString(smallMb),
                            "--large-mb", Integer.toString(largeMb)));
        }
    }

    @Command(
            name = "transforms",
            mixinStandardHelpOptions = true,
            description = {
                "Archives --events events into a fresh lake, then runs the demo's incremental transform over them and",
                "over --events/10 new ones, each beside DuckDB running the same query over the same files. Prints rows/s",
                "and ratios."
            })
    static final class TransformsBench implements Callable<Integer> {

        @Option(names = "--events", defaultValue = "2000000", description = "Default: ${DEFAULT-VALUE}")
        int events;

        @Option(
                names = "--report",
                description = "Also write the report (Markdown) here. Default: data/bench/transforms-<time>.md")
        Path report;

        @Override
        public Integer call() throws Exception {
            BenchRun run = BenchRun.of("transforms", report);
            return run.against(
                    stack -> stack.layers(StackSpec.Layers.KAFKA_AND_REGISTRY),
                    Component.BENCH_TRANSFORMS,
                    stack -> List.of(
                            "--lake", stack.dataDir().resolve("transforms").toString(),
                            "--events", Integer.toString(events)));
        }
    }
}
