package dev.strata.bench;

import dev.strata.batch.engine.Engine;
import dev.strata.batch.lake.Archiver;
import dev.strata.batch.views.BatchCycle;
import dev.strata.batch.views.Snapshot;
import dev.strata.lake.ArchiveRun;
import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import dev.strata.schemas.Event;
import dev.strata.schemas.topics.StrataTopics;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventSerializer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.iceberg.expressions.Expressions;
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

    @Option(
            names = "--events",
            defaultValue = "1000000",
            description = "Events produced and archived. Default: ${DEFAULT-VALUE}")
    int events;

    @Option(names = "--lake", required = true)
    Path lake;

    @Option(names = "--report", description = "Also write the report (Markdown) to this file")
    Path report;

    @Override
    public Integer call() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        List<String> out = new ArrayList<>();
        out.add("# strata bench batch — " + Instant.now() + ", " + cores + " cores, JDK " + Runtime.version());
        out.add("");
        try (Engine engine = Engine.local(cores);
                Lake opened = Lake.open(LakeConfig.local(this.lake))) {
            return run(out, cores, engine, opened);
        }
    }

    private int run(List<String> out, int cores, Engine engine, Lake lake) throws Exception {
        EventsTable table = lake.events();
        Archiver archiver = new Archiver(table, engine, bootstrapServers, registryUrl, StrataTopics.EVENTS);
        int warmup = Math.max(10_000, events / 10);
        say("warm-up: " + warmup
                + " events archived untimed (starts the MiniCluster the batch layer keeps, warms the JIT)");
        produce(0, warmup);
        archiver.archive(System.currentTimeMillis()).orElseThrow();

        double[] archiveRate = new double[2];
        ArchiveRun commit = null;
        double consumerRate = 0;
        for (int i = 0; i < 2; i++) {
            say("producing " + events + " events (1% of them retried ids) into " + StrataTopics.EVENTS);
            produce(warmup + i * events, events);
            if (i == 0) {
                say("reference: Kafka's consumer performance tool reading " + events + " records of the same topic");
                consumerRate = consumerPerf();
            }
            say("archive, run " + (i + 1) + ": a Flink batch job (MiniCluster, parallelism " + cores + ") into "
                    + lake.config().describe());
            long t0 = System.nanoTime();
            commit = archiver.archive(System.currentTimeMillis()).orElseThrow();
            double archiveSeconds = (System.nanoTime() - t0) / 1e9;
            archiveRate[i] = commit.rows() / archiveSeconds;
            say(String.format("  %d rows in %.2f s: %.0f rows/s", commit.rows(), archiveSeconds, archiveRate[i]));
        }

        long lakeRows = table.runs().stream().mapToLong(ArchiveRun::rows).sum();
        BatchCycle cycle = new BatchCycle(
                table,
                lake.views(),
                archiver,
                engine,
                BatchCycle.Settings.of(ViewConfig.defaults()),
                bootstrapServers,
                StrataTopics.BATCH_COMMITS);
        double[] recompute = new double[2];
        int cells = 0;
        for (int i = 0; i < 2; i++) {
            say("full recompute (Flink batch job: dedup by id, fold every view), run " + (i + 1));
            long t = System.nanoTime();
            Snapshot replayed = cycle.replay();
            recompute[i] = (System.nanoTime() - t) / 1e9;
            cells = replayed.cells().size();
            say(String.format(
                    "  %d rows → %d cells in %.2f s: %.0f rows/s",
                    lakeRows, cells, recompute[i], lakeRows / recompute[i]));
        }
        double[] duck = new double[2];
        double[] duckPlain = new double[2];
        int duckCells = 0;
        try (Connection connection = DriverManager.getConnection("jdbc:duckdb:");
                Statement sql = connection.createStatement()) {
            for (int i = 0; i < 2; i++) {
                say("DuckDB: the same views with the same dedup over the same Parquet files, run " + (i + 1));
                long t = System.nanoTime();
                duckCells = duckDb(sql, table, true);
                duck[i] = (System.nanoTime() - t) / 1e9;
                say(String.format("  %d cells in %.2f s: %.0f rows/s", duckCells, duck[i], lakeRows / duck[i]));
                t = System.nanoTime();
                duckDb(sql, table, false);
                duckPlain[i] = (System.nanoTime() - t) / 1e9;
                say(String.format("  without the dedup: %.2f s: %.0f rows/s", duckPlain[i], lakeRows / duckPlain[i]));
            }
        }
        double rows = lakeRows;
        out.add("Twice " + events + " events archived and timed (after " + warmup + " archived untimed as a warm-up),"
                + " of the demo's shape (" + SOURCES
                + " sources, 3 types, 2 hours of event time, 1% retried ids); Kafka `events` with "
                + StrataTopics.DEFAULT_PARTITIONS + " partitions; ZSTD Parquet lake; recompute and DuckDB over all "
                + lakeRows
                + " lake rows; the Flink MiniCluster the batch layer keeps in its JVM (started before timing), parallelism "
                + cores + ".");
        out.add("");
        out.add("| | rows/s | ratio | goal |");
        out.add("|---|---:|---:|---|");
        out.add(String.format("| Kafka consumer perf tool (reference) | %.0f | 1.00 | |", consumerRate));
        for (int i = 0; i < 2; i++) {
            out.add(String.format(
                    "| archive run %d (Flink batch job: Kafka → Parquet, incl. submission) | %.0f | %.2f | ≥ 0.50 of the consumer |",
                    i + 1, archiveRate[i], archiveRate[i] / consumerRate));
        }
        for (int i = 0; i < 2; i++) {
            out.add(String.format(
                    "| DuckDB, dedup + both views, run %d (reference) | %.0f | 1.00 | |", i + 1, rows / duck[i]));
            out.add(String.format(
                    "| full recompute (Flink batch job, incl. job submission), run %d | %.0f | %.2f | ≥ 0.33 of DuckDB |",
                    i + 1, rows / recompute[i], duck[i] / recompute[i]));
        }
        out.add(String.format(
                "| DuckDB, both views without dedup, run 2 (for scale) | %.0f | | |", rows / duckPlain[1]));
        out.add("");
        out.add("Cells: recompute " + cells + ", DuckDB " + duckCells + ".");
        System.out.println();
        out.forEach(System.out::println);
        if (report != null) {
            Files.createDirectories(report.toAbsolutePath().getParent());
            Files.write(report, out);
        }
        return 0;
    }

    static final int SOURCES = 50;

    private long warmupAndEvents() {
        return 2L * events + Math.max(10_000, events / 10);
    }

    private void produce(int from, int count) throws Exception {
        EventSerializer serializer = new EventSerializer();
        serializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registryUrl), false);
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
                int n = i % 100 == 99 ? random.nextInt(i) : i; // a retry of an earlier id
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
                producer.send(new ProducerRecord<>(StrataTopics.EVENTS, source, e));
            }
            producer.flush();
        }
    }

    private double consumerPerf() throws IOException, InterruptedException {
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-cp",
                System.getProperty("java.class.path"),
                "org.apache.kafka.tools.ConsumerPerformance",
                "--bootstrap-server",
                bootstrapServers,
                "--topic",
                StrataTopics.EVENTS,
                "--num-records",
                Integer.toString(events),
                "--timeout",
                "60000",
                "--command-property",
                "auto.offset.reset=earliest");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                lines.add(line);
            }
        }
        process.waitFor(120, TimeUnit.SECONDS);
        // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms,
        // fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
        for (int i = 0; i + 1 < lines.size(); i++) {
            if (lines.get(i).startsWith("start.time")) {
                String[] f = lines.get(i + 1).split(",\\s*");
                say("  " + lines.get(i + 1));
                return Double.parseDouble(f[5]);
            }
        }
        throw new IllegalStateException("kafka-consumer-perf-test printed no result (exit " + process.exitValue()
                + "):\n" + String.join("\n", lines));
    }

    /** Both default views, as SQL; returns the number of cells. */
    private int duckDb(Statement sql, EventsTable table, boolean dedup) throws Exception {
        // The files of the table's current snapshot, as Iceberg plans them.
        String files = "read_parquet("
                + table.files(Expressions.alwaysTrue()).stream()
                        .map(f -> "'" + f.location().replaceFirst("^file:", "") + "'")
                        .collect(Collectors.joining(",", "[", "]"))
                + ")";
        String rows = dedup
                ? "(SELECT * FROM " + files + " QUALIFY row_number() OVER (PARTITION BY id ORDER BY append_time,"
                        + " kafka_partition, kafka_offset) = 1)"
                : files;
        sql.execute("CREATE OR REPLACE TEMP TABLE bench_rows AS SELECT source, type, time, value FROM " + rows);
        int cells = 0;
        try (ResultSet r = sql.executeQuery(
                "SELECT source, time_bucket(INTERVAL 1 minute, time), count(*), sum(value), min(value),"
                        + " max(value), avg(value), approx_quantile(value, 0.95) FROM bench_rows GROUP BY ALL")) {
            while (r.next()) {
                cells++;
            }
        }
        try (ResultSet r = sql.executeQuery(
                "SELECT type, time_bucket(INTERVAL 1 hour, time), count(*), approx_count_distinct(source)"
                        + " FROM bench_rows GROUP BY ALL")) {
            while (r.next()) {
                cells++;
            }
        }
        return cells;
    }

    private static void say(String line) {
        System.err.println("[bench] " + line);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BatchBench()).execute(args));
    }
}
