package dev.strata.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.schemas.topics.StrataTopics;
import dev.strata.schemas.views.AggregateCodec;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ToLongFunction;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code strata bench freshness}: how soon an event POSTed to the gateway is visible in the merged
 * view a dashboard polls, on an idle stack and with {@code --ingest-rate} events/s of other ingest.
 *
 * <p>Each sample POSTs one event of source {@code dev-0} (one of the loaded sources, so its key is
 * as busy as theirs) whose value is larger than every value before it, then polls
 * {@code GET /v1/views/events_per_source_1m?group=dev-0} every {@value #POLL_MILLIS} ms until a
 * point's {@code max} is that value. Meanwhile a consumer of {@code speed-views} notes the first
 * upsert showing it, so the time splits into: POST until the gateway's answer (gateway → Kafka),
 * answer until the speed job wrote the upsert (Kafka → speed job → the emission interval), the
 * upsert's write until read from {@code speed-views}, and that until the merged view shows it (the
 * serving layer's store and answer cache, and the poll).
 */
@Command(name = "bench-freshness", mixinStandardHelpOptions = true)
public final class FreshnessBench implements Callable<Integer> {

    static final ObjectMapper JSON = new ObjectMapper();
    static final int SOURCES = 50;
    static final long POLL_MILLIS = 10;
    static final long SPACING_MILLIS = 1_000;
    static final String VIEW = "events_per_source_1m";
    static final String GROUP = "dev-0";

    @Option(names = "--gateway-http", required = true)
    String gatewayHttp;

    @Option(names = "--token-file", required = true)
    Path tokenFile;

    @Option(names = "--serving", required = true)
    String serving;

    @Option(names = "--bootstrap-servers", required = true)
    String bootstrapServers;

    @Option(names = "--samples", defaultValue = "200", description = "Per run. Default: ${DEFAULT-VALUE}")
    int samples;

    @Option(
            names = "--ingest-rate",
            defaultValue = "2000",
            description = "Events/s of other ingest in the loaded run. Default: ${DEFAULT-VALUE}")
    int ingestRate;

    @Option(names = "--report", description = "Also write the report (Markdown) to this file")
    Path report;

    /** One sample's instants, wall-clock milliseconds (comparable with Kafka's record timestamps). */
    record Sample(long posted, long acked, long upsertWritten, long upsertRead, long visible) {}

    private final ViewDefinition view = ViewConfig.defaults().stream()
            .filter(v -> v.name().equals(VIEW))
            .findFirst()
            .orElseThrow();
    /** Probe value → {written, read} of the first upsert showing it (or a larger value). */
    private final ConcurrentHashMap<Double, long[]> upserts = new ConcurrentHashMap<>();

    private volatile double highestUpsertMax = Double.NEGATIVE_INFINITY;

    @Override
    public Integer call() throws Exception {
        Vertx vertx = Vertx.vertx();
        HttpClient http = vertx.createHttpClient(
                new HttpClientOptions().setKeepAlive(true).setConnectTimeout(5_000),
                new PoolOptions().setHttp1MaxSize(8).setMaxWaitQueueSize(-1));
        String token = Files.readString(tokenFile).trim();
        AtomicBoolean reading = new AtomicBoolean(true);
        Thread reader = new Thread(() -> readUpserts(reading), "speed-views-reader");
        reader.start();
        List<String> out = new ArrayList<>();
        try {
            awaitServing(http);
            String run = UUID.randomUUID().toString().substring(0, 8);
            say("idle: " + samples + " samples");
            List<Sample> idle = samples(http, token, run + "-idle", 1_000_000);
            List<Sample> loaded;
            long sent;
            try (BackgroundIngest ingest = BackgroundIngest.start(http, gatewayHttp, token, ingestRate, SOURCES)) {
                TimeUnit.SECONDS.sleep(10); // the load reaches the speed job and the serving layer
                say("loaded (" + ingestRate + " events/s): " + samples + " samples");
                loaded = samples(http, token, run + "-loaded", 2_000_000);
                sent = ingest.sent();
            }
            out.add("# strata bench freshness — " + Instant.now() + ", "
                    + Runtime.getRuntime().availableProcessors() + " cores, JDK " + System.getProperty("java.version"));
            out.add("");
            out.add(
                    "Stack: Kafka, registry, gateway, speed job (MiniCluster, emit interval 0.5 s), batch scheduler (a cycle a"
                            + " minute, 10 s buckets) and serving, each its own JVM on this machine. A sample: `POST /v1/events` of one"
                            + " event of `" + GROUP + "`, then `GET /v1/views/" + VIEW + "?group=" + GROUP + "` every "
                            + POLL_MILLIS
                            + " ms until a point shows it. " + samples
                            + " samples per run, one at a time, 0–" + SPACING_MILLIS + " ms apart (uniform). Loaded: "
                            + ingestRate + " events/s from " + SOURCES + " sources (" + GROUP + " among them; " + sent
                            + " events acknowledged) in batches of 100.");
            out.add("");
            out.add(
                    "| run | p50 ms | p99 ms | max ms | not seen in 10 s | gateway → Kafka (p50) | → upsert written (p50)"
                            + " | → upsert read (p50) | → merged view (p50) |");
            out.add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            out.add(row("idle", idle));
            out.add(row("loaded, " + ingestRate + " events/s", loaded));
            out.add("");
            long idleP99 = total(idle).getValueAtPercentile(99);
            long loadedP99 = total(loaded).getValueAtPercentile(99);
            out.add(String.format(
                    Locale.ROOT,
                    "- p99 ≤ 1 s idle: %d ms — %s; at %,d events/s: %d ms — %s",
                    idleP99,
                    idleP99 <= 1000 && missing(idle) == 0 ? "met" : "missed",
                    ingestRate,
                    loadedP99,
                    loadedP99 <= 1000 && missing(loaded) == 0 ? "met" : "missed"));
        } finally {
            reading.set(false);
            reader.join(10_000);
            vertx.close();
        }
        String text = String.join("\n", out) + "\n";
        System.out.print(text);
        if (report != null) {
            Files.createDirectories(report.toAbsolutePath().getParent());
            Files.writeString(report, text);
        }
        return 0;
    }

    private List<Sample> samples(HttpClient http, String token, String run, double base) throws Exception {
        List<Sample> result = new ArrayList<>();
        for (int n = 0; n < samples; n++) {
            double value = base + n;
            long posted = System.currentTimeMillis();
            post(http, token, "probe-" + run + "-" + n, value);
            long acked = System.currentTimeMillis();
            long visible = -1;
            long deadline = acked + 10_000;
            while (System.currentTimeMillis() < deadline) {
                if (shows(get(http, seriesPath()), value)) {
                    visible = System.currentTimeMillis();
                    break;
                }
                TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
            }
            long[] upsert = upsertFor(value);
            result.add(new Sample(posted, acked, upsert[0], upsert[1], visible));
            // Uniform over two emit intervals: an event's arrival owes nothing to the speed job's
            // emissions (sent right after the last one, every sample would wait most of an interval).
            TimeUnit.MILLISECONDS.sleep(ThreadLocalRandom.current().nextLong(SPACING_MILLIS));
        }
        return result;
    }

    /** The first upsert seen whose max is at least {@code value}, waiting a little for the reader. */
    private long[] upsertFor(double value) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 2_000;
        while (System.currentTimeMillis() < deadline) {
            long[] found = upserts.get(value);
            if (found != null) {
                return found;
            }
            TimeUnit.MILLISECONDS.sleep(5);
        }
        return new long[] {-1, -1};
    }

    private void readUpserts(AtomicBoolean reading) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        props.put("group.id", "bench-freshness-" + UUID.randomUUID());
        props.put("auto.offset.reset", "latest");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(StrataTopics.SPEED_VIEWS));
            while (reading.get()) {
                var records = consumer.poll(Duration.ofMillis(20));
                long read = System.currentTimeMillis();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    ViewKey key = ViewKey.decode(r.key());
                    if (r.value() == null
                            || !key.view().equals(VIEW)
                            || !key.group().equals(List.of(GROUP))) {
                        continue;
                    }
                    Double max =
                            AggregateCodec.decode(view, r.value()).measures().get("max");
                    if (max != null && max > highestUpsertMax) {
                        // Every probe value up to max is shown by this upsert at the latest.
                        highestUpsertMax = max;
                        upserts.putIfAbsent(max, new long[] {r.timestamp(), read});
                    }
                }
            }
        }
    }

    private static boolean shows(String series, double value) throws Exception {
        for (JsonNode point : JSON.readTree(series).path("points")) {
            if (point.path("measures").path("max").asDouble(Double.NEGATIVE_INFINITY) >= value) {
                return true;
            }
        }
        return false;
    }

    private String row(String name, List<Sample> run) {
        Histogram total = total(run);
        return String.format(
                Locale.ROOT,
                "| %s | %d | %d | %d | %d | %d | %d | %d | %d |",
                name,
                total.getValueAtPercentile(50),
                total.getValueAtPercentile(99),
                total.getMaxValue(),
                missing(run),
                median(run, s -> s.acked() - s.posted()),
                median(run, s -> s.upsertWritten() < 0 ? -1 : s.upsertWritten() - s.acked()),
                median(run, s -> s.upsertRead() < 0 ? -1 : s.upsertRead() - s.upsertWritten()),
                median(run, s -> s.upsertRead() < 0 || s.visible() < 0 ? -1 : s.visible() - s.upsertRead()));
    }

    private static Histogram total(List<Sample> run) {
        Histogram h = new Histogram(TimeUnit.MINUTES.toMillis(1), 3);
        run.stream().filter(s -> s.visible() >= 0).forEach(s -> h.recordValue(s.visible() - s.posted()));
        return h;
    }

    private static long missing(List<Sample> run) {
        return run.stream().filter(s -> s.visible() < 0).count();
    }

    /** The median of a stage over the samples that have it (negative: not measured). */
    private static long median(List<Sample> run, ToLongFunction<Sample> stage) {
        long[] values =
                run.stream().mapToLong(stage).filter(v -> v >= 0).sorted().toArray();
        return values.length == 0 ? -1 : values[values.length / 2];
    }

    private void post(HttpClient http, String token, String id, double value) throws Exception {
        String body = "{\"id\":\"" + id + "\",\"source\":\"" + GROUP + "\",\"type\":\"temperature\",\"time\":"
                + System.currentTimeMillis() + ",\"value\":" + value + "}";
        URI uri = URI.create(gatewayHttp + "/v1/events");
        int status = http.request(new RequestOptions()
                        .setMethod(HttpMethod.POST)
                        .setHost(uri.getHost())
                        .setPort(uri.getPort())
                        .setURI(uri.getPath())
                        .putHeader("Authorization", "Bearer " + token)
                        .putHeader("Content-Type", "application/json"))
                .compose(r -> r.send(Buffer.buffer(body))
                        .compose(response -> response.body().map(b -> response.statusCode())))
                .toCompletionStage()
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        if (status / 100 != 2) {
            throw new IllegalStateException("the gateway answered " + status + " to a probe");
        }
    }

    private String seriesPath() {
        long from = System.currentTimeMillis() - Duration.ofHours(1).toMillis();
        return "/v1/views/" + VIEW + "?group=" + GROUP + "&from=" + from;
    }

    private void awaitServing(HttpClient http) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (true) {
            try {
                get(http, seriesPath());
                return;
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the serving layer did not answer within 3 minutes", e);
                }
                TimeUnit.SECONDS.sleep(1);
            }
        }
    }

    private String get(HttpClient http, String path) throws Exception {
        return ServingBench.get(http, serving, path)
                .toCompletionStage()
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
    }

    static void say(String line) {
        System.err.println("[bench] " + line);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new FreshnessBench()).execute(args));
    }
}
