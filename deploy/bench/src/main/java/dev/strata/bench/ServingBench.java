package dev.strata.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Future;
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
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code strata bench serving}: merged-query throughput and latency while ingest runs, side by side
 * with a no-op endpoint of the same HTTP server in the same run. Each merged query is one group's
 * series of {@code events_per_source_1m} over the last hour (a dashboard's poll), without
 * {@code If-None-Match}, so every answer is computed. Latency is measured from each request's
 * intended start (no coordinated omission).
 */
@Command(
        name = "serving",
        mixinStandardHelpOptions = true,
        description = "Benchmarks the serving layer against a running stack.")
public final class ServingBench implements Callable<Integer> {

    static final ObjectMapper JSON = new ObjectMapper();
    static final int SOURCES = 50;

    @Option(names = "--gateway-http", required = true)
    String gatewayHttp;

    @Option(names = "--token-file", required = true)
    Path tokenFile;

    @Option(names = "--serving", required = true)
    String serving;

    @Option(
            names = "--duration",
            defaultValue = "PT10S",
            description = "Length of each measured run. Default: ${DEFAULT-VALUE}")
    Duration duration;

    @Option(
            names = "--rate",
            defaultValue = "1000",
            description = "Paced query rate (queries/s). Default: ${DEFAULT-VALUE}")
    double rate;

    @Option(
            names = "--ingest-rate",
            defaultValue = "2000",
            description = "Events/s sent to the gateway meanwhile. Default: ${DEFAULT-VALUE}")
    int ingestRate;

    @Option(names = "--report", description = "Also write the report (Markdown) to this file")
    Path report;

    @Override
    public Integer call() throws Exception {
        List<String> out = new ArrayList<>();
        out.add("# strata bench serving — " + Instant.now() + ", "
                + Runtime.getRuntime().availableProcessors() + " cores, JDK " + System.getProperty("java.version"));
        out.add("");
        Vertx vertx = Vertx.vertx();
        HttpClient http = vertx.createHttpClient(
                new HttpClientOptions().setKeepAlive(true).setConnectTimeout(5_000),
                new PoolOptions().setHttp1MaxSize(32).setMaxWaitQueueSize(-1));
        String token = Files.readString(tokenFile).trim();
        BackgroundIngest ingest = BackgroundIngest.start(http, gatewayHttp, token, ingestRate, SOURCES);
        try {
            say("ingest running (" + ingestRate + " events/s over HTTP, " + SOURCES
                    + " sources); waiting for the merged view");
            awaitData(http);
            say("warm-up, " + duration.toSeconds() + " s each");
            OpenLoop.saturate(noop(http), 32, duration);
            OpenLoop.saturate(query(http), 32, duration);
            // Alternated twice, the best of each kept: the stack shares these cores, and a batch cycle
            // or a checkpoint in one run only would otherwise decide the ratio.
            double noopMax = 0;
            double queryMax = 0;
            for (int round = 1; round <= 2; round++) {
                say("no-op endpoint: saturated, round " + round);
                noopMax = Math.max(noopMax, OpenLoop.saturate(noop(http), 32, duration));
                say("merged query: saturated, round " + round);
                queryMax = Math.max(queryMax, OpenLoop.saturate(query(http), 32, duration));
            }
            say("no-op endpoint: paced at " + rate + "/s");
            LoadResult noopPaced = OpenLoop.paced("no-op", noop(http), rate, 1, 256, duration);
            say("merged query: paced at " + rate + "/s");
            LoadResult queryPaced = OpenLoop.paced("merged", query(http), rate, 1, 256, duration);
            JsonNode views = JSON.readTree(get(http, "/v1/views")
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(10, TimeUnit.SECONDS));
            out.add(
                    "Stack: Kafka, registry, gateway, speed job (MiniCluster), batch scheduler (a cycle a minute, 10 s buckets) and"
                            + " serving, each its own JVM on this machine, with " + ingestRate
                            + " events/s of ingest during every run ("
                            + ingest.sent()
                            + " events sent in all). Merged query: `GET /v1/views/events_per_source_1m?group=dev-<k>&from=<now-1h>`"
                            + " (one of " + SOURCES
                            + " groups, 60 points), no `If-None-Match`; no-op: `GET /bench/noop` on the same server."
                            + " Batch run at the end: "
                            + views.path("batch").path("run").asText("none") + ". Each run "
                            + duration.toSeconds()
                            + " s after a warm-up of the same length; the saturated runs alternate twice and keep"
                            + " each side's best; latency from each request's intended start. Answers are computed once per query and"
                            + " version of the data they read (snapshot, the group's speed updates): with the speed job publishing every"
                            + " 0.5 s, most polls of a group are served from the answer cache, as a dashboard's are.");
            out.add("");
            out.add("| endpoint | max queries/s | ratio | p50 ms at " + (long) rate
                    + "/s | p99 ms | p99.9 ms | failed |");
            out.add("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
            out.add(String.format(
                    Locale.ROOT,
                    "| no-op (reference) | %,.0f | 1.00 | %.2f | %.2f | %.2f | %d |",
                    noopMax,
                    noopPaced.p50(),
                    noopPaced.p99(),
                    noopPaced.p999(),
                    noopPaced.failures()));
            out.add(String.format(
                    Locale.ROOT,
                    "| merged series | %,.0f | %.2f | %.2f | %.2f | %.2f | %d |",
                    queryMax,
                    queryMax / noopMax,
                    queryPaced.p50(),
                    queryPaced.p99(),
                    queryPaced.p999(),
                    queryPaced.failures()));
            out.add("");
            out.add(String.format(
                    Locale.ROOT,
                    "- merged throughput ≥ 50%% of the no-op endpoint's: %.0f%% — %s",
                    100 * queryMax / noopMax,
                    queryMax / noopMax >= 0.5 ? "met" : "missed"));
            out.add(String.format(
                    Locale.ROOT,
                    "- p99 ≤ 10 ms at %,.0f queries/s: %.2f ms — %s",
                    rate,
                    queryPaced.p99(),
                    queryPaced.p99() <= 10 && queryPaced.failures() == 0 ? "met" : "missed"));
        } finally {
            ingest.close();
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

    private void awaitData(HttpClient http) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (System.nanoTime() < deadline) {
            try {
                JsonNode views = JSON.readTree(get(http, "/v1/views")
                        .toCompletionStage()
                        .toCompletableFuture()
                        .get(10, TimeUnit.SECONDS));
                JsonNode series = JSON.readTree(get(http, seriesPath(0))
                        .toCompletionStage()
                        .toCompletableFuture()
                        .get(10, TimeUnit.SECONDS));
                if (!views.path("batch").isNull() && series.path("points").size() > 0) {
                    say("merged view has data; batch run "
                            + views.path("batch").path("run").asText());
                    return;
                }
            } catch (Exception e) {
                // not up yet
            }
            TimeUnit.SECONDS.sleep(1);
        }
        throw new IllegalStateException("no batch snapshot and merged data after 3 minutes");
    }

    private String seriesPath(long i) {
        long from = System.currentTimeMillis() - Duration.ofHours(1).toMillis();
        return "/v1/views/events_per_source_1m?group=dev-" + (i % SOURCES) + "&from=" + from;
    }

    private Future<String> get(HttpClient http, String path) {
        return get(http, serving, path);
    }

    /** {@code GET base + path}: the body of a 200 answer, a failed future naming any other status. */
    static Future<String> get(HttpClient http, String base, String path) {
        URI uri = URI.create(base + path);
        return http.request(new RequestOptions()
                        .setMethod(HttpMethod.GET)
                        .setHost(uri.getHost())
                        .setPort(uri.getPort())
                        .setURI(uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery())))
                .compose(r -> r.send()
                        .compose(response -> response.statusCode() == 200
                                ? response.body()
                                : Future.failedFuture("HTTP " + response.statusCode())))
                .map(Buffer::toString);
    }

    private LongFunction<CompletableFuture<Boolean>> noop(HttpClient http) {
        return i -> get(http, "/bench/noop")
                .map(b -> true)
                .toCompletionStage()
                .toCompletableFuture()
                .exceptionally(e -> false);
    }

    private LongFunction<CompletableFuture<Boolean>> query(HttpClient http) {
        return i -> get(http, seriesPath(i))
                .map(b -> b.contains("\"points\""))
                .toCompletionStage()
                .toCompletableFuture()
                .exceptionally(e -> false);
    }

    static void say(String line) {
        System.err.println("[bench] " + line);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new ServingBench()).execute(args));
    }
}
