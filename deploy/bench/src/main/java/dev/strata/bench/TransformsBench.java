package dev.strata.bench;

import dev.strata.batch.engine.Engine;
import dev.strata.batch.transform.Transforms;
import dev.strata.lake.ArchivePlan;
import dev.strata.lake.ArchiveState;
import dev.strata.lake.EventFileWriter;
import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import dev.strata.lake.TableVersion;
import dev.strata.schemas.Event;
import dev.strata.schemas.transforms.TransformConfig;
import dev.strata.schemas.transforms.TransformDefinition;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.apache.iceberg.DataFile;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code strata bench transforms}: one incremental transform (the demo's {@code temperature_readings}:
 * a filter, a map lookup, renamed columns, written as a partitioned table) over N events of the lake,
 * then over N/10 new ones, each side by side with DuckDB running the same query over the same files
 * and writing the result as ZSTD Parquet, in this invocation.
 */
@Command(name = "bench-transforms", mixinStandardHelpOptions = true)
public final class TransformsBench implements Callable<Integer> {

    @Option(names = "--lake", required = true, description = "A directory for the bench's lakes")
    Path work;

    @Option(names = "--events", defaultValue = "2000000", description = "Default: ${DEFAULT-VALUE}")
    int events;

    @Option(names = "--report", description = "Also write the report (Markdown) to this file")
    Path report;

    static final String FLINK_SQL = """
            transforms:
              - name: temperature_readings
                sql: |
                  SELECT id, source AS device, `time`, `value` AS celsius, attributes['site'] AS site
                  FROM events
                  WHERE type = 'temperature' AND `value` IS NOT NULL
                output: {table: temperature_readings, partitionBy: ["day(time)"]}
                mode: incremental
                incremental: events
            """;
    /** The same query in DuckDB's dialect, over a list of files. */
    static final String DUCKDB_SQL = "COPY (SELECT id, source AS device, \"time\", \"value\" AS celsius,"
            + " attributes['site'] AS site FROM read_parquet(%s) WHERE type = 'temperature' AND \"value\" IS NOT NULL)"
            + " TO '%s' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day_of), OVERWRITE_OR_IGNORE)";

    /** Runs of each case: the report gives each and their medians (runs on this machine vary by 20–30%). */
    static final int REPEATS = 5;

    static final Instant T0 = Instant.parse("2026-11-30T00:00:00Z");
    static final String[] SITES = {"north", "south", "east", "west"};

    @Override
    public Integer call() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        TransformDefinition transform = TransformConfig.parse(FLINK_SQL.getBytes(StandardCharsets.UTF_8))
                .get(0);
        List<String> out = new ArrayList<>();
        out.add("# strata bench transforms — " + Instant.now() + ", " + cores + " cores, JDK " + Runtime.version());
        out.add("");
        try (Engine engine = Engine.local(cores)) {
            // A warm-up big enough for the JIT to settle on the reading and writing paths (the first
            // measured run after a warm-up of 200,000 took 1.5x the later ones).
            int warmUp = Math.min(events, 1_000_000);
            say(String.format("warm-up: %,d events, the transform and DuckDB once (JIT, the MiniCluster)", warmUp));
            Path warm = work.resolve("warm-up");
            try (Lake lake = Lake.open(LakeConfig.local(warm))) {
                for (int done = 0; done < warmUp; done += 500_000) {
                    archive(lake, Math.min(500_000, warmUp - done), done);
                }
                Transforms.run(engine, lake, transform);
                duckdb(files(lake, List.of()), warm.resolve("duck"));
            }
            Path dir = work.resolve("lake");
            try (Lake lake = Lake.open(LakeConfig.local(dir))) {
                say("archiving " + events + " events into the lake (runs of 500,000)");
                for (int done = 0; done < events; done += 500_000) {
                    archive(lake, Math.min(500_000, events - done), done);
                }
                out.add(
                        "| run | events read | rows written | Strata (transform run) | Strata rows/s | DuckDB (same query, same files) | DuckDB rows/s | Strata / DuckDB |");
                out.add("|---|---:|---:|---:|---:|---:|---:|---:|");
                List<String> before = List.of();
                List<String> medians = new ArrayList<>();
                for (String label : List.of("all " + events + " events", "then " + events / 10 + " new events")) {
                    if (!before.isEmpty()) {
                        archive(lake, events / 10, events);
                    }
                    List<String> read = files(lake, before);
                    long inRows = rows(lake, before);
                    double[] strata = new double[REPEATS];
                    double[] duck = new double[REPEATS];
                    for (int r = 0; r < REPEATS; r++) {
                        // Each repeat is its own transform (its own output table) over the same input.
                        TransformDefinition each = r == 0 ? transform : copy(transform, r + 1);
                        say(label + ": the transform " + each.name());
                        long started = System.nanoTime();
                        Transforms.Outcome outcome = Transforms.run(engine, lake, each);
                        strata[r] = (System.nanoTime() - started) / 1e9;
                        say("  " + outcome.describe());
                        say(label + ": DuckDB over the same " + read.size() + " files");
                        started = System.nanoTime();
                        long duckRows = duckdb(read, dir.resolve("duck-" + before.size() + "-" + r));
                        duck[r] = (System.nanoTime() - started) / 1e9;
                        if (duckRows != outcome.rows()) {
                            throw new IllegalStateException(
                                    "DuckDB wrote " + duckRows + " rows, the transform " + outcome.rows());
                        }
                        out.add(row(
                                label + " (" + (r + 1) + " of " + REPEATS + ")",
                                inRows,
                                outcome.rows(),
                                strata[r],
                                duck[r]));
                    }
                    medians.add(String.format(
                            "| %s | %.2f s | %.2f s | **%.2f** | %s |",
                            label, median(strata), median(duck), median(duck) / median(strata), ratios(strata, duck)));
                    before = files(lake, List.of());
                }
                out.add("");
                out.add("Medians of the " + REPEATS + " runs of each case:");
                out.add("");
                out.add("| case | Strata (median) | DuckDB (median) | Strata / DuckDB (medians) | each run's ratio |");
                out.add("|---|---:|---:|---:|---|");
                out.addAll(medians);
            }
        }
        out.add("");
        out.add("Strata: `Transforms.run` (plans the inputs' files, Flink SQL in batch mode on a MiniCluster of "
                + cores
                + " slots, writes the output's Parquet files, commits the snapshot with its inputs); events are in"
                + " hour partitions, the output in day partitions. DuckDB (all " + cores + " cores) runs the same"
                + " SELECT over the same files and writes ZSTD Parquet partitioned by day. Both write the same rows"
                + " (checked). Each case runs " + REPEATS
                + " times, alternating with DuckDB; each repeat is a transform of its own"
                + " (the same SQL, its own output table), so each reads the same files. Goal: Strata / DuckDB ≥ 0.33.");
        out.forEach(System.out::println);
        if (report != null) {
            Files.createDirectories(report.toAbsolutePath().getParent());
            Files.write(report, out);
        }
        return 0;
    }

    /** The transform under another name, writing its own output table. */
    static TransformDefinition copy(TransformDefinition transform, int n) throws Exception {
        String yaml = FLINK_SQL.replace("temperature_readings", "temperature_readings_" + n);
        return TransformConfig.parse(yaml.getBytes(StandardCharsets.UTF_8)).get(0);
    }

    static String row(String label, long inRows, long outRows, double strata, double duck) {
        return String.format(
                "| %s | %,d | %,d | %.2f s | %,.0f | %.2f s | %,.0f | %.2f |",
                label, inRows, outRows, strata, inRows / strata, duck, inRows / duck, duck / strata);
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    static String ratios(double[] strata, double[] duck) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < strata.length; i++) {
            out.append(i == 0 ? "" : " / ").append(String.format("%.2f", duck[i] / strata[i]));
        }
        return out.toString();
    }

    /** Archives {@code count} events as one run: three in four temperatures, over one day. */
    static void archive(Lake lake, int count, long first) throws Exception {
        EventsTable table = lake.events();
        ArchiveState basis = table.state();
        long from = basis.offsets().getOrDefault(0, 0L);
        ArchivePlan plan = new ArchivePlan(
                basis.lastRun() + 1, 1_000, basis, Map.of(0, from), Map.of(0, from + count), EventsTable.newAttempt());
        Random random = new Random(first);
        List<DataFile> files;
        try (EventFileWriter writer = table.writers(plan.run(), plan.attempt()).open(0)) {
            for (long offset = from; offset < from + count; offset++) {
                Instant time = T0.plusMillis(offset * 7919 % 86_400_000L);
                boolean temperature = random.nextInt(4) > 0;
                writer.write(
                        new Event(
                                "e-" + offset,
                                temperature ? "sensor-" + random.nextInt(1000) : "billing",
                                temperature ? "temperature" : "order",
                                time,
                                random.nextInt(20) == 0 ? null : Math.round(random.nextGaussian() * 1000) / 100.0,
                                Map.of("site", SITES[random.nextInt(SITES.length)], "unit", "C"),
                                time),
                        0,
                        offset,
                        time.toEpochMilli() + 5);
            }
            files = writer.finish();
        }
        table.commit(plan, files, count, 0);
    }

    /** The events' data files now, less {@code except}. */
    static List<String> files(Lake lake, List<String> except) {
        lake.events().table().refresh();
        return TableVersion.of("events", lake.events().table()).files().stream()
                .map(f -> f.location().replaceFirst("^file:", ""))
                .filter(f -> !except.contains(f))
                .toList();
    }

    static long rows(Lake lake, List<String> except) {
        return TableVersion.of("events", lake.events().table()).files().stream()
                .filter(f -> !except.contains(f.location().replaceFirst("^file:", "")))
                .mapToLong(TableVersion.DataFileEntry::rows)
                .sum();
    }

    /** DuckDB's run of the query over {@code files}, written under {@code to}; the rows it wrote. */
    static long duckdb(List<String> files, Path to) throws Exception {
        String list = files.stream().map(f -> "'" + f + "'").collect(Collectors.joining(", ", "[", "]"));
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
                Statement s = c.createStatement()) {
            s.execute("SET TimeZone = 'UTC'");
            s.execute("SET preserve_insertion_order = false");
            String sql = DUCKDB_SQL
                    .formatted(list, to)
                    .replace(
                            "attributes['site'] AS site FROM",
                            "attributes['site'] AS site, CAST(\"time\" AS DATE) AS day_of FROM");
            s.executeUpdate(sql);
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM read_parquet('" + to + "/**/*.parquet')")) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    private static void say(String line) {
        System.err.println("[bench] " + line);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new TransformsBench()).execute(args));
    }
}
