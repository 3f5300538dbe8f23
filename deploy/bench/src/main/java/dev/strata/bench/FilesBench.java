package dev.strata.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.management.GarbageCollectionNotificationInfo;
import dev.strata.gateway.Gateway;
import dev.strata.gateway.config.GatewayConfig;
import dev.strata.gateway.files.FileSettings;
import dev.strata.lake.LakeConfig;
import java.io.BufferedWriter;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code strata bench files}: a small and a large CSV uploaded to the gateway's
 * {@code POST /v1/files/{dataset}} (in this JVM, whose heap is capped), each converted to Parquet,
 * while a sampler measures the live heap (after a full GC, every second). The large file's peak
 * live heap over the small one's shows whether memory stays flat with the file's size. Reference:
 * DuckDB converting the same files to Parquet ({@code COPY ... TO ... (FORMAT parquet)}), as a
 * speed ratio.
 */
@Command(name = "bench-files", mixinStandardHelpOptions = true)
public final class FilesBench implements Callable<Integer> {

    @Option(names = "--bootstrap-servers", required = true)
    String bootstrapServers;

    @Option(names = "--registry-url", required = true)
    String registryUrl;

    @Option(names = "--registry-token-file", description = "A token of the registry's, to register the event schema")
    Path registryTokenFile;

    @Option(names = "--lake", required = true)
    Path lake;

    @Option(names = "--work", required = true, description = "Where the generated files go")
    Path work;

    @Option(names = "--small-mb", defaultValue = "10", description = "Default: ${DEFAULT-VALUE}")
    int smallMb;

    @Option(names = "--large-mb", defaultValue = "1024", description = "Default: ${DEFAULT-VALUE}")
    int largeMb;

    @Option(names = "--report", description = "Also write the report (Markdown) to this file")
    Path report;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP)
            .map(MemoryPoolMXBean::getName)
            .collect(Collectors.toSet());

    record Run(String label, long bytes, long rows, double seconds, long liveHeapBytes, double duckSeconds) {}

    @Override
    public Integer call() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        long maxHeap = Runtime.getRuntime().maxMemory();
        List<String> out = new ArrayList<>();
        out.add("# strata bench files — " + Instant.now() + ", " + cores + " cores, JDK " + Runtime.version()
                + ", heap limit " + mb(maxHeap) + " MiB");
        out.add("");
        Files.createDirectories(work);
        Path small = work.resolve("small.csv");
        Path large = work.resolve("large.csv");
        say("generating " + smallMb + " MiB and " + largeMb
                + " MiB CSV files (6 columns: long, string, double, boolean, timestamp, string)");
        long smallRows = generate(small, smallMb * (1L << 20), 1);
        long largeRows = generate(large, largeMb * (1L << 20), 2);

        GatewayConfig config = GatewayConfig.builder(bootstrapServers, registryUrl)
                .registryTokenFile(registryTokenFile)
                .listen("127.0.0.1", 0, 0)
                .tokens(null)
                .files(FileSettings.of(LakeConfig.local(lake), null).withLimits(1L << 40, 1, 4))
                .build();
        List<Run> runs = new ArrayList<>();
        try (Gateway gateway = Gateway.start(config)) {
            HttpClient http =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            say("warm-up: the small file into dataset bench_warmup (JIT)");
            upload(http, gateway, "bench_warmup", small);
            runs.add(measure(http, gateway, "small", "bench_small", small, smallRows));
            runs.add(measure(http, gateway, "large", "bench_large", large, largeRows));
        }
        List<Run> measured = new ArrayList<>();
        for (Run r : runs) {
            measured.add(new Run(
                    r.label(),
                    r.bytes(),
                    r.rows(),
                    r.seconds(),
                    r.liveHeapBytes(),
                    duckdb(r.label(), work.resolve(r.label() + ".csv"))));
        }

        out.add(
                "| file | bytes | rows | Strata: upload + convert | MB/s | DuckDB CSV→Parquet | MB/s | Strata speed / DuckDB | peak live heap |");
        out.add("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (Run r : measured) {
            out.add(String.format(
                    "| %s | %,d | %,d | %.1f s | %.1f | %.1f s | %.1f | %.2f | %.1f MiB |",
                    r.label(),
                    r.bytes(),
                    r.rows(),
                    r.seconds(),
                    r.bytes() / 1e6 / r.seconds(),
                    r.duckSeconds(),
                    r.bytes() / 1e6 / r.duckSeconds(),
                    r.duckSeconds() / r.seconds(),
                    r.liveHeapBytes() / 1048576.0));
        }
        Run s = measured.get(0);
        Run l = measured.get(1);
        out.add("");
        out.add(String.format(
                "Memory: the large file is %.0f× the small one; its peak live heap is %.2f× the small one's "
                        + "(%.1f MiB vs %.1f MiB, heap limit %d MiB).",
                (double) l.bytes() / s.bytes(),
                (double) l.liveHeapBytes() / s.liveHeapBytes(),
                l.liveHeapBytes() / 1048576.0,
                s.liveHeapBytes() / 1048576.0,
                mb(maxHeap)));
        out.add(
                "Live heap: the heap after each full GC (one forced every second) during the upload and conversion, as the"
                        + " collector reports it (the gateway, its Kafka producer and the HTTP client share this JVM). DuckDB uses all "
                        + cores + " cores; Strata writes a file of 64 MiB or more into a Parquet file per core at once"
                        + " (one thread reading, one writing each part), after the upload (in its time).");
        out.forEach(System.out::println);
        if (report != null) {
            Files.createDirectories(report.toAbsolutePath().getParent());
            Files.write(report, out);
        }
        return 0;
    }

    private Run measure(HttpClient http, Gateway gateway, String label, String dataset, Path file, long rows)
            throws Exception {
        say("upload " + label + " (" + Files.size(file) + " bytes) into dataset " + dataset);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong peak = new AtomicLong();
        // The heap after each full collection, from the collector's own report (a sample taken
        // after System.gc() returns can include garbage: a JNI critical section, as zstd's
        // compressor holds, may defer the collection).
        NotificationListener listener = (notification, handback) -> {
            if (!notification.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
                return;
            }
            GarbageCollectionNotificationInfo info =
                    GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
            if (!info.getGcAction().contains("major")) {
                return;
            }
            long used = 0;
            for (Map.Entry<String, MemoryUsage> pool :
                    info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                if (heapPools.contains(pool.getKey())) {
                    used += pool.getValue().getUsed();
                }
            }
            peak.accumulateAndGet(used, Math::max);
        };
        List<NotificationEmitter> emitters = new ArrayList<>();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter emitter) {
                emitter.addNotificationListener(listener, null, null);
                emitters.add(emitter);
            }
        }
        Thread sampler = new Thread(
                () -> {
                    while (running.get()) {
                        System.gc();
                        try {
                            Thread.sleep(1000);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                },
                "full-gc-every-second");
        long started = System.nanoTime();
        sampler.start();
        JsonNode outcome;
        try {
            outcome = upload(http, gateway, dataset, file);
        } finally {
            running.set(false);
            sampler.interrupt();
            sampler.join();
            for (NotificationEmitter emitter : emitters) {
                emitter.removeNotificationListener(listener);
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        long added = outcome.get("rows").asLong();
        if (added != rows) {
            throw new IllegalStateException(label + ": " + rows + " rows generated, " + added + " added: " + outcome);
        }
        List<String> parts = new ArrayList<>();
        outcome.get("files").forEach(f -> parts.add("'" + f.asText().replaceFirst("^file:", "") + "'"));
        long readBack = count("SELECT count(*) FROM read_parquet([" + String.join(", ", parts) + "])");
        if (readBack != rows) {
            throw new IllegalStateException(
                    label + ": DuckDB reads " + readBack + " rows of the Parquet, " + rows + " were generated");
        }
        say(String.format(
                "  %,d rows in %.1f s; peak live heap %.1f MiB; DuckDB reads the same %,d rows back",
                rows, seconds, peak.get() / 1048576.0, readBack));
        return new Run(label, Files.size(file), rows, seconds, peak.get(), 0);
    }

    private static JsonNode upload(HttpClient http, Gateway gateway, String dataset, Path file) throws Exception {
        HttpResponse<String> answer = http.send(
                HttpRequest.newBuilder(URI.create(gateway.httpUrl() + "/v1/files/" + dataset))
                        .header("Content-Type", "text/csv")
                        .POST(HttpRequest.BodyPublishers.ofFile(file))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (answer.statusCode() != 201) {
            throw new IllegalStateException(
                    "upload of " + file + " answered " + answer.statusCode() + ": " + answer.body());
        }
        return JSON.readTree(answer.body());
    }

    private double duckdb(String label, Path csv) throws Exception {
        Path parquet = work.resolve(label + "-duckdb.parquet");
        Files.deleteIfExists(parquet);
        say("DuckDB: " + label + " CSV to Parquet");
        long started = System.nanoTime();
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
                Statement s = c.createStatement()) {
            s.execute("COPY (SELECT * FROM read_csv('" + csv + "', header = true)) TO '" + parquet
                    + "' (FORMAT parquet, COMPRESSION zstd)");
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        say(String.format("  %.1f s", seconds));
        return seconds;
    }

    private static long count(String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** A CSV of about {@code bytes}: id, device, value, ok, at, note. Returns its rows. */
    private static long generate(Path file, long bytes, long seed) throws IOException {
        Random random = new Random(seed);
        long rows = 0;
        long written = 0;
        long at = Instant.parse("2026-11-01T00:00:00Z").getEpochSecond();
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            String header = "id,device,value,ok,at,note\n";
            w.write(header);
            written += header.length();
            StringBuilder line = new StringBuilder(128);
            while (written < bytes) {
                rows++;
                line.setLength(0);
                line.append(rows)
                        .append(",device-")
                        .append(random.nextInt(1000))
                        .append(',')
                        .append(Math.round(random.nextGaussian() * 10_000) / 100.0)
                        .append(',')
                        .append(random.nextBoolean())
                        .append(',')
                        .append(Instant.ofEpochSecond(at + rows))
                        .append(",note ")
                        .append(Long.toHexString(random.nextLong()))
                        .append('\n');
                w.append(line);
                written += line.length();
            }
        }
        return rows;
    }

    private static long mb(long bytes) {
        return bytes >> 20;
    }

    private static void say(String line) {
        System.err.println("[bench] " + line);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new FilesBench()).execute(args));
    }
}
