package dev.strata.bench;

import dev.strata.batch.engine.Engine;
import dev.strata.batch.lake.Archiver;
import dev.strata.batch.views.BatchCycle;
import dev.strata.batch.views.Snapshot;
import dev.strata.lake.ArchiveRun;
import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import dev.strata.lake.ObjectStore;
import dev.strata.schemas.Event;
import dev.strata.schemas.cli.RegistryOptions;
import dev.strata.schemas.topics.StrataTopics;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventSerializer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code strata bench batch}: the batch layer side by side with references, in one run on one
 * broker and one set of Parquet files. Archive (the Flink batch job reading {@code events} into the
 * lake) against Kafka's own consumer performance tool reading the same records; the full recompute
 * (dedup + every view, the Flink batch job over the lake) against DuckDB computing the same views
 * with the same dedup over the same files. Figures as rows/s and ratios.
 */
@Command(name = "bench-batch", mixinStandardHelpOptions = true)
public final class BatchBench implements Callable<Integer> {

    @Option(names = "--bootstrap-servers", required = true)
    String bootstrapServers;

    @Option(names = "--registry-url", required = true)
    String registryUrl;

    @Option(names = "--registry-token-file", description = "A token of the registry's, to register the event schema")
    Path registryTokenFile;

    @Option(
            names = "--events",
            defaultValue = "1000000",
            description = "Events produced and archived. Default: ${DEFAULT-VALUE}")
    int events;

    @Option(names = "--lake", required = true, description = "The local lake's directory")
    Path lake;

    @Option(names = "--object-store-lake", description = "Also a lake on object storage: s3://BUCKET/PREFIX")
    String objectStoreLake;

    @Option(names = "--object-store-catalog", description = "Its catalog's JDBC URL")
    String objectStoreCatalog;

    @Option(names = "--s3-endpoint")
    String s3Endpoint;

    @Option(names = "--s3-access-key")
    String s3AccessKey;

    @Option(names = "--s3-secret-key")
    String s3SecretKey;

    @Option(
            names = "--racers",
            defaultValue = "4",
            description =
                    "Writers racing to commit archive runs, each in its own catalog connection. Default: ${DEFAULT-VALUE}")
    int racers;

    @Option(
            names = "--history-events",
            description =
                    "N of the history runs (two cycles of N new events over 0, 10 N and 100 N). Default: --events / 20")
    int historyEvents;

    @Option(names = "--report", description = "Also write the report (Markdown) to this file")
    Path report;

    /** A lake the bench runs on, and what it measured there. */
    private static final class Side {
        final String name;
        final Lake lake;
        final LakeConfig raceConfig;
        Archiver archiver;
        final double[] archiveRate = new double[2];
        final double[] recompute = new double[2];
        int cells;
        long rows;
        CommitRace.Racing racing;

        Side(String name, Lake lake, LakeConfig raceConfig) {
            this.name = name;
            this.lake = lake;
            this.raceConfig = raceConfig;
        }
    }

    @Override
    public Integer call() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        List<String> out = new ArrayList<>();
        out.add("# strata bench batch — " + Instant.now() + ", " + cores + " cores, JDK " + Runtime.version());
        out.add("");
        LakeConfig local = LakeConfig.local(this.lake);
        Optional<LakeConfig> remote = Optional.ofNullable(objectStoreLake)
                .map(l -> LakeConfig.objectStore(
                        l, objectStoreCatalog, ObjectStore.pathStyle(s3Endpoint, s3AccessKey, s3SecretKey)));
        remote.ifPresent(r -> Engine.initFileSystems(r.flinkProperties()));
        List<Side> sides = new ArrayList<>();
        try (Engine engine = Engine.local(cores)) {
            sides.add(new Side(
                    "local disk",
                    Lake.open(local),
                    LakeConfig.local(this.lake.resolveSibling(this.lake.getFileName() + "-race"))));
            remote.ifPresent(r -> sides.add(new Side(
                    "S3 (" + s3Endpoint + ")",
                    Lake.open(r),
                    new LakeConfig(r.warehouse() + "-race", r.catalogUri() + "-race", Map.of(), r.store()))));
            return run(out, cores, engine, sides);
        } finally {
            for (Side side : sides) {
                side.lake.close();
            }
        }
    }

    private int run(List<String> out, int cores, Engine engine, List<Side> sides) throws Exception {
        int warmup = Math.max(10_000, events / 10);
        say(
                "warm-up: " + warmup
                        + " events archived untimed into each lake (starts the MiniCluster the batch layer keeps, warms the JIT)");
        produce(0, warmup);
        for (Side side : sides) {
            side.archiver =
                    new Archiver(side.lake.events(), engine, bootstrapServers, registryUrl, StrataTopics.EVENTS);
            side.archiver.archive(System.currentTimeMillis()).orElseThrow();
        }
        double consumerRate = 0;
        for (int i = 0; i < 2; i++) {
            say("producing " + events + " events (1% of them retried ids) into " + StrataTopics.EVENTS);
            produce(warmup + i * events, events);
            if (i == 0) {
                say("reference: Kafka's consumer performance tool reading " + events + " records of the same topic");
                consumerRate = KafkaTools.consumerRecordsPerSecond(bootstrapServers, StrataTopics.EVENTS, events);
            }
            for (Side side : sides) {
                say("archive, run " + (i + 1) + ": a Flink batch job (MiniCluster, parallelism " + cores + ") into "
                        + side.lake.config().describe());
                long t0 = System.nanoTime();
                ArchiveRun commit =
                        side.archiver.archive(System.currentTimeMillis()).orElseThrow();
                double archiveSeconds = (System.nanoTime() - t0) / 1e9;
                side.archiveRate[i] = commit.rows() / archiveSeconds;
                say(String.format(
                        "  %d rows in %.2f s: %.0f rows/s", commit.rows(), archiveSeconds, side.archiveRate[i]));
            }
        }
        for (Side side : sides) {
            EventsTable table = side.lake.events();
            side.rows = table.runs().stream().mapToLong(ArchiveRun::rows).sum();
            BatchCycle cycle = new BatchCycle(
                    table,
                    side.lake.views(),
                    side.archiver,
                    engine,
                    BatchCycle.Settings.of(ViewConfig.defaults()),
                    bootstrapServers,
                    StrataTopics.BATCH_COMMITS);
            for (int i = 0; i < 2; i++) {
                say("full recompute on the " + side.name
                        + " lake (Flink batch job: dedup by (source, id), fold every view), run " + (i + 1));
                long t = System.nanoTime();
                Snapshot replayed = cycle.replay();
                side.recompute[i] = (System.nanoTime() - t) / 1e9;
                side.cells = replayed.cells().size();
                say(String.format(
                        "  %d rows → %d cells in %.2f s: %.0f rows/s",
                        side.rows, side.cells, side.recompute[i], side.rows / side.recompute[i]));
            }
        }
        Side reference = sides.get(0);
        double[] duck = new double[2];
        double[] duckPlain = new double[2];
        int duckCells = 0;
        try (Connection connection = DriverManager.getConnection("jdbc:duckdb:");
                Statement sql = connection.createStatement()) {
            for (int i = 0; i < 2; i++) {
                say("DuckDB: the same views with the same dedup over the local lake's Parquet files, run " + (i + 1));
                long t = System.nanoTime();
                duckCells = DuckDbViews.run(sql, reference.lake.events(), true);
                duck[i] = (System.nanoTime() - t) / 1e9;
                say(String.format("  %d cells in %.2f s: %.0f rows/s", duckCells, duck[i], reference.rows / duck[i]));
                t = System.nanoTime();
                DuckDbViews.run(sql, reference.lake.events(), false);
                duckPlain[i] = (System.nanoTime() - t) / 1e9;
                say(String.format(
                        "  without the dedup: %.2f s: %.0f rows/s", duckPlain[i], reference.rows / duckPlain[i]));
            }
        }
        ResentCase.Result resent = ResentCase.measure(
                engine, reference.lake, reference.archiver, bootstrapServers, this::produce, warmup, events);
        int n = historyEvents > 0 ? historyEvents : Math.max(1_000, events / 20);
        List<HistoryCost.Result> history = HistoryCost.measure(
                engine,
                bootstrapServers,
                registryUrl,
                lake.resolveSibling(lake.getFileName() + "-history"),
                this::produce,
                n,
                List.of(0, 10 * n, 100 * n));
        for (Side side : sides) {
            say(racers + " writers racing to commit 5 archive runs each on a fresh " + side.name + " lake");
            side.racing = CommitRace.run(side.raceConfig, racers);
            say(String.format(
                    "  %d commits, %d conflicts (each re-planned): p50 %d ms, p99 %d ms, max %d ms",
                    side.racing.millis().size(),
                    side.racing.conflicts(),
                    side.racing.percentile(0.5),
                    side.racing.percentile(0.99),
                    side.racing.percentile(1.0)));
        }
        out.add("Twice " + events + " events archived and timed into each lake (after " + warmup
                + " archived untimed as a warm-up), of the demo's shape (" + SOURCES
                + " sources, 3 types, 2 hours of event time, 1% retried ids); Kafka `events` with "
                + StrataTopics.DEFAULT_PARTITIONS
                + " partitions; Iceberg tables of ZSTD Parquet files; recompute over all "
                + reference.rows + " rows of each lake, DuckDB over the local lake's files; the Flink MiniCluster the"
                + " batch layer keeps in its JVM (started before timing), parallelism " + cores + ". Lakes: "
                + sides.stream().map(x -> x.lake.config().describe()).collect(Collectors.joining("; ")) + ".");
        out.add("");
        out.add("| | rows/s | ratio | goal |");
        out.add("|---|---:|---:|---|");
        out.add(String.format("| Kafka consumer perf tool (reference) | %.0f | 1.00 | |", consumerRate));
        for (Side side : sides) {
            for (int i = 0; i < 2; i++) {
                out.add(String.format(
                        "| archive run %d, %s (Flink batch job: Kafka → Iceberg, incl. submission and commit) | %.0f | %.2f | ≥ 0.50 of the consumer |",
                        i + 1, side.name, side.archiveRate[i], side.archiveRate[i] / consumerRate));
            }
        }
        for (int i = 0; i < 2; i++) {
            out.add(String.format(
                    "| DuckDB, dedup + both views, run %d (reference) | %.0f | 1.00 | |",
                    i + 1, reference.rows / duck[i]));
            for (Side side : sides) {
                out.add(String.format(
                        "| full recompute, %s (Flink batch job, incl. job submission), run %d | %.0f | %.2f | ≥ 0.33 of DuckDB |",
                        side.name, i + 1, side.rows / side.recompute[i], duck[i] / side.recompute[i]));
            }
        }
        out.add(String.format(
                "| DuckDB, both views without dedup, run 2 (for scale) | %.0f | | |", reference.rows / duckPlain[1]));
        for (int i = 0; i < 2; i++) {
            out.add(String.format(
                    "| DuckDB, dedup + both views, every row resent once (%d rows), run %d (reference) | %.0f | 1.00 | |",
                    resent.rows(), i + 1, resent.rows() / resent.duck()[i]));
            out.add(String.format(
                    "| full recompute, local disk, every row resent once, run %d | %.0f | %.2f | ≥ 0.25 of DuckDB |",
                    i + 1, resent.rows() / resent.recompute()[i], resent.duck()[i] / resent.recompute()[i]));
        }
        out.add("");
        out.add("One cycle (archive, fold, commit, announce; Flink batch jobs on the same MiniCluster) of N = "
                + n + " new events (1% resent ids, of any earlier event) over a local lake already holding H events,"
                + " all within the dedup horizon, each its own topic and lake; two cycles timed one after the other"
                + " (the second over H + N), the faster kept:");
        out.add("");
        out.add("| history H | cycle 1 s | cycle 2 s | faster s | ratio to H = 0 | goal |");
        out.add("|---:|---:|---:|---:|---:|---|");
        for (HistoryCost.Result r : history) {
            out.add(String.format(
                    "| %d (%d N) | %.2f | %.2f | %.2f | %.2f | %s |",
                    r.history(),
                    r.history() / r.newEvents(),
                    r.first(),
                    r.second(),
                    r.seconds(),
                    r.seconds() / history.get(0).seconds(),
                    r.history() == 100L * n ? "≤ 2.00" : ""));
        }
        out.add("");
        out.add("Cells: "
                + sides.stream()
                        .map(x -> "recompute (" + x.name + ") " + x.cells)
                        .collect(Collectors.joining(", ")) + ", DuckDB " + duckCells + ".");
        out.add("");
        out.add("Racing commits: " + racers + " writers, each with its own catalog connection, commit 5 archive runs"
                + " each (100 rows) on one fresh lake; a writer that loses the compare-and-swap re-plans from the new"
                + " state. Time from plan to commit, re-plans included:");
        out.add("");
        out.add("| lake | commits | conflicts | p50 ms | p99 ms | max ms |");
        out.add("|---|---:|---:|---:|---:|---:|");
        for (Side side : sides) {
            out.add(String.format(
                    "| %s | %d | %d | %d | %d | %d |",
                    side.name,
                    side.racing.millis().size(),
                    side.racing.conflicts(),
                    side.racing.percentile(0.5),
                    side.racing.percentile(0.99),
                    side.racing.percentile(1.0)));
        }
        System.out.println();
        out.forEach(System.out::println);
        if (report != null) {
            Files.createDirectories(report.toAbsolutePath().getParent());
            Files.write(report, out);
        }
        return 0;
    }

    /**
     * The event the {@code i}-th record sent: its own, or for a retry (every hundredth record) the one
     * before it, so that a retry always resends an event that was sent (never an id first sent by it).
     */
    static int sent(int i) {
        return i % 100 == 99 ? i - 1 : i;
    }

    static final int SOURCES = 50;

    private long warmupAndEvents() {
        return 2L * events + Math.max(10_000, events / 10);
    }

    private void produce(int from, int count) throws Exception {
        produce(StrataTopics.EVENTS, from, count);
    }

    private void produce(String topic, int from, int count) throws Exception {
        EventSerializer serializer = new EventSerializer();
        Map<String, Object> serde = new HashMap<>(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registryUrl));
        RegistryOptions.token(registryTokenFile).ifPresent(t -> serde.put(AvroSerdeConfig.BEARER_AUTH_TOKEN, t));
        serializer.configure(serde, false);
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        props.put("acks", "all");
        props.put("linger.ms", "5");
        props.put("batch.size", "262144");
        props.put("compression.type", "lz4");
        Random random = new Random(7);
        Instant base = Instant.now().minus(Duration.ofHours(2));
        String[] types = {"temperature", "humidity", "pressure"};
        try (KafkaProducer<String, Event> producer = new KafkaProducer<>(props, new StringSerializer(), serializer)) {
            for (int i = from; i < from + count; i++) {
                int n = i % 100 == 99 ? sent(random.nextInt(i)) : i; // a retry of an earlier event
                String source = "dev-" + (n % SOURCES);
                Event e = Event.newBuilder()
                        .setId("bench-" + n)
                        .setSource(source)
                        .setType(types[n % 3])
                        .setTime(base.plusMillis((long) n * 7_200_000L / (warmupAndEvents())))
                        .setIngestTime(Instant.now())
                        .setValue(Math.round(random.nextGaussian() * 1000) / 100.0)
                        .setAttributes(Map.of("site", "s" + (n % 4)))
                        .build();
                producer.send(new ProducerRecord<>(topic, source, e));
            }
            producer.flush();
        }
    }

    static void say(String line) {
        System.err.println("[bench] " + line);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BatchBench()).execute(args));
    }
}
