package dev.strata.speed.bench;

import dev.strata.schemas.topics.StrataTopics;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.Measure;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.speed.SpeedMain;
import dev.strata.speed.job.EventRecordDeserializer;
import dev.strata.speed.job.KafkaWiring;
import dev.strata.speed.job.SpeedLayerJob;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.commons.io.FileUtils;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code strata bench speed}: the speed job (the production job, reading and writing Kafka) over
 * the same events twice in one invocation: with RocksDB and checkpoints every 10 s, and on
 * in-memory state without checkpoints (the reference). Then the update latency, from each event's
 * intended send time to the upsert that shows it in {@code speed-views}, at half the RocksDB rate.
 *
 * <p>Throughput is events over the time from the first event read to the end of the job (bounded
 * sources; the job ends at the last event without a final checkpoint). Latency uses probe events:
 * one in {@value #PROBE_EVERY} carries a unique id that a probe view groups by, so the first upsert
 * of its key is exactly when that event became visible; the other events load the default views.
 * The paced run is preceded by one at the same rate that is not counted (the JVM warmed to the paced
 * path), and its first part after the job starts (fresh RocksDB, fresh topics) is reported apart, so
 * the measured figures are those of a running speed layer.
 */
@Command(name = "bench-speed", mixinStandardHelpOptions = true)
public final class SpeedBench implements Callable<Integer> {

    static final int PROBE_EVERY = 50;
    static final String PROBE_VIEW = "bench_probe";

    @Option(names = "--bootstrap-servers", required = true)
    String bootstrapServers;

    @Option(names = "--registry-url", required = true)
    String registryUrl;

    @Option(names = "--registry-token-file", description = "A token of the registry's, to register the event schema")
    Path registryTokenFile;

    @Option(
            names = "--events",
            defaultValue = "2000000",
            description = "Events per throughput run. Default: ${DEFAULT-VALUE}")
    int events;

    @Option(names = "--sources", defaultValue = "1000", description = "Distinct sources. Default: ${DEFAULT-VALUE}")
    int sources;

    @Option(
            names = "--parallelism",
            defaultValue = "2",
            description = "The job's parallelism. Default: ${DEFAULT-VALUE}")
    int parallelism;

    @Option(names = "--checkpoint-interval", defaultValue = "PT10S", description = "Default: ${DEFAULT-VALUE}")
    Duration checkpointInterval;

    @Option(
            names = "--latency-duration",
            defaultValue = "PT40S",
            description = "The paced run at half the RocksDB rate. Default: ${DEFAULT-VALUE}")
    Duration latencyDuration;

    @Option(
            names = "--latency-settle",
            defaultValue = "PT20S",
            description = "The paced run's first part after the job starts, reported apart and not in the"
                    + " measured figures. Default: ${DEFAULT-VALUE}")
    Duration latencySettle;

    @Option(
            names = "--latency-rate",
            description = "Only the paced run, at this many events/s (to look into the latency; no report)")
    Double latencyRate;

    @Option(names = "--data", required = true, description = "RocksDB and checkpoint directories (deleted after)")
    Path data;

    @Option(names = "--report", description = "Also write the report (Markdown) to this file")
    Path report;

    final List<ViewDefinition> views = new ArrayList<>();
    int partitions;
    BenchEvents workload;

    @Override
    public Integer call() throws Exception {
        workload = new BenchEvents(bootstrapServers, registryUrl, registryTokenFile, sources);
        views.addAll(ViewConfig.defaults());
        views.add(new ViewDefinition(
                PROBE_VIEW,
                Set.of(),
                Map.of("probe", "1"),
                List.of("attributes.probe_id"),
                Duration.ofHours(1),
                List.of(Measure.parse("count"))));
        int cores = Runtime.getRuntime().availableProcessors();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers))) {
            partitions = admin.describeTopics(List.of(StrataTopics.EVENTS))
                    .allTopicNames()
                    .get()
                    .get(StrataTopics.EVENTS)
                    .partitions()
                    .size();
        }
        if (latencyRate != null) {
            say("latency: a first run to warm up (not counted)");
            new PacedLatency(this).run(latencyRate);
            PacedLatency.Result only = new PacedLatency(this).run(latencyRate);
            say(String.format(
                    Locale.ROOT,
                    "latency at %,.0f events/s (after the first %d s): p50 %d ms, p99 %d ms, max %d ms",
                    latencyRate,
                    latencySettle.toSeconds(),
                    only.histogram().getValueAtPercentile(50),
                    only.histogram().getValueAtPercentile(99),
                    only.histogram().getMaxValue()));
            return 0;
        }
        say("producing " + events + " events (" + sources + " sources, 1% resent) to " + StrataTopics.EVENTS + " ("
                + partitions + " partitions)");
        workload.produce(StrataTopics.EVENTS, events);

        // Alternated twice, each side's best kept: the broker and the JIT warm up during the first
        // run, and a compaction or a collection in one run only would otherwise decide the ratio.
        List<Run> runs = new ArrayList<>();
        runs.add(throughput("warm-up (in-memory)", false));
        String rocksLabel = "RocksDB, checkpoints every " + checkpointInterval.toSeconds() + " s";
        String memoryLabel = "in-memory, no checkpoints";
        for (int round = 1; round <= 2; round++) {
            runs.add(throughput(rocksLabel + ", round " + round, true));
            runs.add(throughput(memoryLabel + ", round " + round, false));
        }
        Run rocks = best(runs, rocksLabel);
        Run memory = best(runs, memoryLabel);
        double rate = Math.floor(rocks.eventsPerSecond() / 2);
        // A paced run at the same rate first, not counted (as with --latency-rate): after five replays
        // in this JVM the first paced job's first half minute measures the JIT and the heap, not a
        // speed job that has been running; its figures are reported beside.
        say("latency: a first paced run at the same rate to warm up (not counted)");
        PacedLatency.Result warmUp = new PacedLatency(this).run(rate);
        PacedLatency.Result latency = new PacedLatency(this).run(rate);

        double ratio = rocks.eventsPerSecond() / memory.eventsPerSecond();
        double perCore = rocks.eventsPerSecond() / cores;
        List<String> lines = new ArrayList<>();
        lines.add("# bench speed, " + LocalDateTime.now().withNano(0));
        lines.add("");
        lines.add("Machine: " + cores + " cores; job parallelism " + parallelism + "; " + events + " events, " + sources
                + " sources, views: "
                + ViewConfig.defaults().stream().map(ViewDefinition::name).toList()
                + " (+ the probe view in the latency run).");
        lines.add("");
        lines.add(String.format(
                Locale.ROOT,
                "Best of each: RocksDB %,.0f events/s, in-memory %,.0f events/s; ratio %.2f; %,.0f events/s per core with RocksDB.",
                rocks.eventsPerSecond(),
                memory.eventsPerSecond(),
                ratio,
                perCore));
        lines.add("");
        lines.add("| run | events/s | seconds | ratio to the best in-memory |");
        lines.add("| --- | ---: | ---: | ---: |");
        for (Run r : runs) {
            lines.add(String.format(
                    Locale.ROOT,
                    "| %s | %,.0f | %.1f | %.2f |",
                    r.label(),
                    r.eventsPerSecond(),
                    r.seconds(),
                    r.eventsPerSecond() / memory.eventsPerSecond()));
        }
        lines.add("");
        lines.add(String.format(
                Locale.ROOT,
                "Update latency (append → upsert read from speed-views), RocksDB, at %,.0f events/s (half the RocksDB"
                        + " rate), measured for %d s after the job's first %d s: %d probes (%d never seen): p50 %d ms,"
                        + " p99 %d ms, max %d ms, from each event's intended send time. The first %d s after the job"
                        + " started (fresh state and topics; not in those figures): p50 %d ms, p99 %d ms, max %d ms.",
                rate,
                latencyDuration.toSeconds(),
                latencySettle.toSeconds(),
                latency.histogram().getTotalCount(),
                latency.missing(),
                latency.histogram().getValueAtPercentile(50),
                latency.histogram().getValueAtPercentile(99),
                latency.histogram().getMaxValue(),
                latencySettle.toSeconds(),
                latency.settling().getValueAtPercentile(50),
                latency.settling().getValueAtPercentile(99),
                latency.settling().getMaxValue()));
        lines.add("The slowest probe of each 5 s of that run, the first " + latencySettle.toSeconds()
                + " s included, in order (ms): " + latency.slowestPerWindow() + ".");
        lines.add(String.format(
                Locale.ROOT,
                "Before it, the warm-up paced run at the same rate (not counted): p50 %d ms, p99 %d ms, max %d ms"
                        + " after its first %d s; its slowest probe of each 5 s (ms): %s.",
                warmUp.histogram().getValueAtPercentile(50),
                warmUp.histogram().getValueAtPercentile(99),
                warmUp.histogram().getMaxValue(),
                latencySettle.toSeconds(),
                warmUp.slowestPerWindow()));
        lines.add("");
        lines.add(String.format(
                Locale.ROOT,
                "Goals: RocksDB ≥ 50%% of in-memory: %.2f (%s); ≥ 25,000 events/s per core: %,.0f (%s); p99 ≤ 1 s: %d ms"
                        + " (%s).",
                ratio,
                ratio >= 0.5 ? "met" : "missed",
                perCore,
                perCore >= 25_000 ? "met" : "missed",
                latency.histogram().getValueAtPercentile(99),
                latency.histogram().getValueAtPercentile(99) <= 1000 && latency.missing() == 0 ? "met" : "missed"));
        lines.forEach(System.out::println);
        if (report != null) {
            Files.createDirectories(report.toAbsolutePath().getParent());
            Files.write(report, lines, StandardCharsets.UTF_8);
        }
        FileUtils.deleteQuietly(data.toFile());
        return 0;
    }

    record Run(String label, double eventsPerSecond, double seconds) {}

    private static Run best(List<Run> runs, String label) {
        return runs.stream()
                .filter(r -> r.label().startsWith(label))
                .max(Comparator.comparingDouble(Run::eventsPerSecond))
                .orElseThrow();
    }

    /** Runs the job over every event of {@code events} (bounded) and times it from its first event read. */
    private Run throughput(String label, boolean rocksDb) throws Exception {
        Path dir = data.resolve(UUID.randomUUID().toString());
        Configuration conf = rocksDb ? SpeedMain.localConfiguration(dir, checkpointInterval) : new Configuration();
        if (!rocksDb) {
            conf.setString("state.backend.type", "hashmap");
        }
        // The job ends at its last event: no final checkpoint to wait for.
        conf.setString("execution.checkpointing.checkpoints-after-tasks-finish", "false");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(conf);
        env.setParallelism(parallelism);
        KafkaWiring wiring = wiring(StrataTopics.EVENTS, StrataTopics.SPEED_VIEWS, "bench-" + UUID.randomUUID());
        FirstRead.reset();
        new SpeedLayerJob(
                        wiring.eventsSource()
                                .setDeserializer(new FirstRead(new EventRecordDeserializer(registryUrl)))
                                .setBounded(OffsetsInitializer.latest())
                                .build(),
                        wiring.commitsSource()
                                .setBounded(OffsetsInitializer.latest())
                                .build(),
                        wiring.views(),
                        wiring.deadLetters(),
                        new SpeedLayerJob.Settings(
                                views, CutSettings.DEFAULTS, Duration.parse(SpeedLayerJob.DEFAULT_EMIT_INTERVAL)))
                .build(env);
        say(label + ": running");
        long submitted = System.nanoTime();
        JobClient job = env.executeAsync("bench-speed");
        job.getJobExecutionResult().get(30, TimeUnit.MINUTES);
        long end = System.nanoTime();
        long first = FirstRead.nanos.get();
        double seconds = (end - first) / 1e9;
        Run run = new Run(label, events / seconds, seconds);
        say(String.format(
                Locale.ROOT,
                "%s: %,.0f events/s (%.1f s from the first event read; %.1f s from submission)",
                label,
                run.eventsPerSecond(),
                seconds,
                (end - submitted) / 1e9));
        FileUtils.deleteQuietly(dir.toFile());
        return run;
    }

    KafkaWiring wiring(String eventsTopic, String viewsTopic, String group) {
        return new KafkaWiring(
                bootstrapServers,
                registryUrl,
                eventsTopic,
                StrataTopics.BATCH_COMMITS,
                viewsTopic,
                StrataTopics.EVENTS_DLQ,
                group);
    }

    static void say(String line) {
        System.err.println("[bench] " + line);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new SpeedBench()).execute(args));
    }
}
