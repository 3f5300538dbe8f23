package dev.strata.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import dev.strata.lake.ViewsTable;
import dev.strata.schemas.Event;
import dev.strata.schemas.auth.TokenFile;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.AggregateCodec;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import dev.strata.testing.KafkaBrokerExtension;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The serving process against a real broker, real RocksDB and a real HTTP client: speed cells on
 * both sides of the cut (the ones below it not yet tombstoned), a batch snapshot, then a new
 * snapshot with a later cut; the merged answers always equal folding every event once. Also the
 * ETag/304 polling, the error answers, the read token, and a restart on the same state.
 */
class ServingIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final ObjectMapper JSON = new ObjectMapper();
    static final List<ViewDefinition> VIEWS = ViewConfig.defaults();
    static final ViewDefinition PER_SOURCE = VIEWS.get(0);
    static final ViewDefinition PER_TYPE = VIEWS.get(1);
    static final long T0 = Instant.parse("2026-11-23T10:00:00Z").toEpochMilli();
    static final long BUCKET = 60_000;
    static final String TOKEN = "read-token-for-the-test";
    static final TokenFile READ_TOKENS =
            TokenFile.of(List.of(new TokenFile.Entry("it", TokenFile.sha256(TOKEN), null, null)));

    /** An event and the ingest bucket its append time fell into. */
    record Appended(Event event, long bucket) {}

    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void mergedAnswersCountEveryEventOnceAcrossSnapshotsAndARestart(@TempDir Path dir) throws Exception {
        String speedTopic = KAFKA.createTopic("speed-views", 2, Map.of("cleanup.policy", "compact"));
        String commitsTopic = KAFKA.createTopic("batch-commits", 1, Map.of("cleanup.policy", "compact"));
        Path lake = dir.resolve("lake");
        // 600 events over 20 minutes of event time, appended over 30 buckets, some hours late.
        Random random = new Random(5);
        List<Appended> events = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            long bucket = T0 + (i / 20) * BUCKET;
            long time = i % 37 == 0 ? bucket - Duration.ofHours(3).toMillis() : T0 + random.nextInt(20 * 60) * 1000L;
            events.add(new Appended(
                    new Event(
                            "e" + i,
                            "dev-" + (i % 7),
                            i % 3 == 0 ? "humidity" : "temperature",
                            Instant.ofEpochMilli(time),
                            Math.round(random.nextGaussian() * 1000) / 100.0,
                            Map.of(),
                            Instant.ofEpochMilli(bucket)),
                    bucket));
        }
        long cut1 = T0 + 10 * BUCKET;
        long cut2 = T0 + 22 * BUCKET;
        produceSpeed(speedTopic, events);
        produceRaw(
                speedTopic,
                ViewKey.prefix(PER_SOURCE.name(), Optional.of(List.of("dev-3"))),
                "not an aggregate".getBytes());
        announce(lake, commitsTopic, 1, cut1, events);

        Serving.Config config = Serving.Config.builder(
                        KAFKA.bootstrapServers(), LakeConfig.local(lake), dir.resolve("serving"))
                .views(VIEWS)
                .readTokens(Optional.of(READ_TOKENS))
                .maxPoints(2_000)
                .instance("it")
                .topics(speedTopic, commitsTopic)
                .build();
        String from = Instant.ofEpochMilli(T0 - Duration.ofHours(4).toMillis()).toString();
        String to = Instant.ofEpochMilli(T0 + Duration.ofHours(1).toMillis()).toString();
        String series = "/v1/views/events_per_source_1m?from=" + from + "&to=" + to;
        Map<String, Double> beforeRestart;
        try (Serving serving = Serving.start(config)) {
            String base = serving.url();
            await(() -> get(base, "/ready", TOKEN).statusCode() == 200, "ready");
            await(
                    () -> counts(get(base, series, TOKEN)).equals(expectedCounts(events, PER_SOURCE)),
                    "merged == every event once");
            HttpResponse<String> first = get(base, series, TOKEN);
            assertThat(first.headers().firstValue("Strata-Cut"))
                    .contains(Instant.ofEpochMilli(cut1).toString());
            assertThat(first.headers().firstValue("Strata-Batch-Run")).contains("1");
            assertThat(first.headers().firstValue("Strata-Speed-Age-Ms")).isPresent();
            assertThat(sums(first)).isEqualTo(expectedSums(events, PER_SOURCE));

            // Polling: the same answer is a 304 without a body.
            String etag = first.headers().firstValue("ETag").orElseThrow();
            HttpResponse<String> again = http.send(
                    request(base, series, TOKEN).header("If-None-Match", etag).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(again.statusCode()).isEqualTo(304);
            assertThat(again.body()).isEmpty();

            // Rolled up by hour: states combined, the same events.
            JsonNode hourly = JSON.readTree(
                    get(base, series + "&step=PT1H&group=dev-3", TOKEN).body());
            long hourlyCount = 0;
            for (JsonNode p : hourly.get("points")) {
                assertThat(p.get("startMillis").asLong() % 3_600_000).isZero();
                hourlyCount += p.get("measures").get("count").asLong();
            }
            assertThat(hourlyCount)
                    .isEqualTo(events.stream()
                            .filter(a -> a.event().getSource().equals("dev-3"))
                            .count());

            // Top groups by count over the whole range.
            JsonNode top = JSON.readTree(
                    get(base, "/v1/views/events_per_type_1h/top?measure=count&n=1&from=" + from + "&to=" + to, TOKEN)
                            .body());
            assertThat(top.get("groups")).hasSize(1);
            assertThat(top.get("groups").get(0).get("group").get(0).asText()).isEqualTo("temperature");
            assertThat(top.get("groups").get(0).get("value").asLong())
                    .isEqualTo(events.stream()
                            .filter(a -> a.event().getType().equals("temperature"))
                            .count());

            // A new speed update changes the answer and its ETag.
            List<Appended> more = new ArrayList<>(events);
            Appended late = new Appended(
                    new Event(
                            "late",
                            "dev-3",
                            "temperature",
                            Instant.ofEpochMilli(T0 + 5_000),
                            1.5,
                            Map.of(),
                            Instant.ofEpochMilli(T0 + 40 * BUCKET)),
                    T0 + 40 * BUCKET);
            more.add(late);
            produceSpeed(speedTopic, more);
            await(
                    () -> counts(get(base, series, TOKEN)).equals(expectedCounts(more, PER_SOURCE)),
                    "the late event counted");
            assertThat(get(base, series, TOKEN).headers().firstValue("ETag")).isNotEqualTo(Optional.of(etag));

            // A new snapshot with a later cut: the events between the cuts move to the batch side, counted once.
            announce(lake, commitsTopic, 2, cut2, more);
            await(
                    () -> get(base, series, TOKEN)
                            .headers()
                            .firstValue("Strata-Batch-Run")
                            .equals(Optional.of("2")),
                    "run 2 current");
            HttpResponse<String> afterSwap = get(base, series, TOKEN);
            assertThat(afterSwap.headers().firstValue("Strata-Cut"))
                    .contains(Instant.ofEpochMilli(cut2).toString());
            assertThat(counts(afterSwap)).isEqualTo(expectedCounts(more, PER_SOURCE));
            assertThat(sums(afterSwap)).isEqualTo(expectedSums(more, PER_SOURCE));
            assertThat(counts(get(base, "/v1/views/events_per_type_1h?from=" + from + "&to=" + to, TOKEN)))
                    .isEqualTo(expectedCounts(more, PER_TYPE));

            JsonNode views = JSON.readTree(get(base, "/v1/views", TOKEN).body());
            assertThat(views.get("batch").get("run").asLong()).isEqualTo(2);
            assertThat(views.get("views").get(0).get("measures").toString()).contains("p95");
            assertThat(views.has("refusedCommit")).isFalse();

            // A batch run with 30-second buckets announces a cut inside one of this layer's 1-minute
            // buckets: refused, naming both settings; the snapshot of run 2 stays and the answers with it.
            CutSettings halfMinute = new CutSettings(Duration.ofSeconds(30), CutSettings.DEFAULTS.dedupHorizon());
            announce(lake, commitsTopic, 3, cut2 + 30_000, more, halfMinute);
            await(() -> JSON.readTree(get(base, "/v1/views", TOKEN).body()).has("refusedCommit"), "run 3 refused");
            JsonNode refused = JSON.readTree(get(base, "/v1/views", TOKEN).body());
            assertThat(refused.get("refusedCommit").get("run").asLong()).isEqualTo(3);
            assertThat(refused.get("refusedCommit").get("reason").asText())
                    .contains("bucket PT30S and dedup horizon PT24H")
                    .contains("bucket PT1M and dedup horizon PT24H")
                    .contains("--bucket");
            assertThat(refused.get("batch").get("run").asLong()).isEqualTo(2);
            assertThat(counts(get(base, series, TOKEN))).isEqualTo(expectedCounts(more, PER_SOURCE));
            assertThat(get(base, "/metrics", null).body()).contains("strata_serving_batch_commits_refused 1.0");
            // The next commit computed with this layer's settings is taken.
            announce(lake, commitsTopic, 4, cut2, more);
            await(() -> !JSON.readTree(get(base, "/v1/views", TOKEN).body()).has("refusedCommit"), "run 4 taken");
            assertThat(get(base, series, TOKEN).headers().firstValue("Strata-Batch-Run"))
                    .contains("4");
            errors(base, from, to);
            String metrics = get(base, "/metrics", null).body();
            assertThat(metrics).contains("strata_serving_request_seconds_count{route=\"series\"");
            // The undecodable cell under dev-3's prefix was left out (the answers above are exact) and counted.
            assertThat(metrics).containsPattern("strata_serving_speed_undecodable_cells [1-9]");
            assertThat(get(base, "/v1/openapi.yaml", TOKEN).body()).contains("/v1/views/{view}/top");
            beforeRestart = counts(afterSwap);
        }

        // A restart on the same state answers the same.
        try (Serving serving = Serving.start(config)) {
            String base = serving.url();
            await(() -> get(base, "/ready", TOKEN).statusCode() == 200, "ready after the restart");
            await(() -> counts(get(base, series, TOKEN)).equals(beforeRestart), "the same answers after the restart");
            assertThat(get(base, series, TOKEN).headers().firstValue("Strata-Batch-Run"))
                    .contains("4");
            // A record that names a path instead of a snapshot of the lake's batch_views table is
            // never opened: refused, counted, and run 4 stays.
            Properties props = new Properties();
            props.put("bootstrap.servers", KAFKA.bootstrapServers());
            try (KafkaProducer<byte[], byte[]> producer =
                    new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>(
                                commitsTopic,
                                BatchCommit.KEY,
                                BatchCommit.of(5, cut2 + 60_000, "/etc/passwd", CutSettings.DEFAULTS)
                                        .encode()))
                        .get(10, TimeUnit.SECONDS);
            }
            await(
                    () -> get(base, "/metrics", null)
                            .body()
                            .matches("(?s).*strata_serving_batch_load_failures [1-9].*"),
                    "the commit naming a path refused and counted");
            assertThat(get(base, series, TOKEN).headers().firstValue("Strata-Batch-Run"))
                    .contains("4");
        }
    }

    /**
     * The dashboard in a real headless Chromium (Debian's chromium and chromium-driver, driven by
     * Selenium): it lists the views, draws each one's merged series with the cut and the freshness,
     * and the screenshot shows the chart's lines and the batch side's shading.
     */
    @Test
    void theDashboardDrawsTheMergedSeriesWithTheCut(@TempDir Path dir) throws Exception {
        Path chromium = Path.of("/usr/bin/chromium");
        Path chromedriver = Path.of("/usr/bin/chromedriver");
        Assumptions.assumeTrue(
                Files.isExecutable(chromium) && Files.isExecutable(chromedriver),
                "Debian's chromium and chromium-driver are not installed (the build installs them when it runs as root)");
        String speedTopic = KAFKA.createTopic("speed-views", 1, Map.of("cleanup.policy", "compact"));
        String commitsTopic = KAFKA.createTopic("batch-commits", 1, Map.of("cleanup.policy", "compact"));
        Path lake = dir.resolve("lake");
        // Events over the last 50 minutes, appended as they happened; the cut 20 minutes ago.
        long now = System.currentTimeMillis();
        long start = Math.floorDiv(now - Duration.ofMinutes(50).toMillis(), BUCKET) * BUCKET;
        Random random = new Random(9);
        List<Appended> events = new ArrayList<>();
        for (int i = 0; i < 1_500; i++) {
            long time = start + random.nextInt((int) (now - start));
            events.add(new Appended(
                    new Event(
                            "d" + i,
                            "dev-" + (i % 4),
                            "temperature",
                            Instant.ofEpochMilli(time),
                            random.nextGaussian(),
                            Map.of(),
                            Instant.ofEpochMilli(time)),
                    Math.floorDiv(time, BUCKET) * BUCKET));
        }
        long cut = Math.floorDiv(now - Duration.ofMinutes(20).toMillis(), BUCKET) * BUCKET;
        produceSpeed(speedTopic, events);
        announce(lake, commitsTopic, 1, cut, events);
        Serving.Config config = Serving.Config.builder(
                        KAFKA.bootstrapServers(), LakeConfig.local(lake), dir.resolve("serving"))
                .views(VIEWS)
                .readTokens(Optional.of(READ_TOKENS))
                .maxPoints(2_000)
                .instance("dashboard")
                .topics(speedTopic, commitsTopic)
                .build();
        try (Serving serving = Serving.start(config)) {
            await(() -> get(serving.url(), "/ready", null).statusCode() == 200, "ready");
            ChromeOptions options = new ChromeOptions();
            options.setBinary(chromium.toFile());
            options.addArguments(
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    "--user-data-dir=" + dir.resolve("chromium"),
                    "--window-size=1280,1200");
            ChromeDriverService service = new ChromeDriverService.Builder()
                    .usingDriverExecutable(chromedriver.toFile())
                    .usingAnyFreePort()
                    .build();
            WebDriver browser = new ChromeDriver(service, options);
            try {
                // The token in the fragment: the page keeps it and sends it as a bearer token; it never reaches the
                // server's logs.
                browser.get(serving.url() + "/#token=" + TOKEN);
                JavascriptExecutor js = (JavascriptExecutor) browser;
                await(
                        () -> "ok".equals(js.executeScript("return document.body.dataset.state"))
                                && ((Number) js.executeScript(
                                                        "const v = window.strataDashboard.views['events_per_source_1m'];"
                                                                + " return v ? v.points : 0;"))
                                                .intValue()
                                        > 0,
                        "the dashboard drew the merged series");
                String freshness = browser.findElement(By.id("freshness")).getText();
                assertThat(freshness).contains("batch run 1").contains("newest speed update");
                assertThat(browser.findElements(By.cssSelector("section.view h2")))
                        .extracting(WebElement::getText)
                        .containsExactly("events_per_source_1m", "events_per_type_1h");
                long drawnPoints = ((Number) js.executeScript(
                                "return Chart.getChart(document.querySelector('#view-events_per_source_1m"
                                        + " canvas')).data.datasets.reduce((n, d) => n + d.data.length, 0)"))
                        .longValue();
                assertThat(drawnPoints).isGreaterThan(40); // 4 sources × ~50 minutes
                byte[] png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
                Files.createDirectories(Path.of("target"));
                Files.write(Path.of("target", "dashboard.png"), png);
                BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
                int line = 0;
                int shaded = 0;
                for (int y = 0; y < image.getHeight(); y++) {
                    for (int x = 0; x < image.getWidth(); x++) {
                        int rgb = image.getRGB(x, y);
                        int r = (rgb >> 16) & 0xff;
                        int g = (rgb >> 8) & 0xff;
                        int b = rgb & 0xff;
                        if (Math.abs(r - 0x3c) < 30 && Math.abs(g - 0x6e) < 30 && Math.abs(b - 0xb4) < 30) {
                            line++; // the first group's line (#3c6eb4)
                        }
                        if (Math.abs(r - 236) < 6 && Math.abs(g - 241) < 6 && Math.abs(b - 248) < 6) {
                            shaded++; // the batch side before the cut: a light blue over white
                        }
                    }
                }
                assertThat(line)
                        .as("pixels of the first series' line in target/dashboard.png")
                        .isGreaterThan(200);
                assertThat(shaded)
                        .as("pixels of the batch side's shading in target/dashboard.png")
                        .isGreaterThan(5_000);
            } finally {
                browser.quit();
            }
        }
    }

    void errors(String base, String from, String to) throws Exception {
        assertError(get(base, "/v1/views/nope", TOKEN), 404, "no view 'nope'");
        assertError(
                get(base, "/v1/views/events_per_source_1m?from=" + to + "&to=" + from, TOKEN), 400, "must be before");
        assertError(get(base, "/v1/views/events_per_source_1m?from=yesterday", TOKEN), 400, "neither ISO-8601");
        assertError(get(base, "/v1/views/events_per_source_1m?step=7s", TOKEN), 400, "not a positive multiple");
        assertError(
                get(
                        base,
                        "/v1/views/events_per_source_1m?from=0&to="
                                + Duration.ofDays(2).toMillis(),
                        TOKEN),
                422,
                "the limit is 2000");
        assertError(
                get(base, "/v1/views/events_per_source_1m/top?measure=colour", TOKEN), 400, "has no measure 'colour'");
        assertError(get(base, "/v1/views/events_per_source_1m?group=a&group=b", TOKEN), 400, "give 1 group value");
        assertError(get(base, "/v1/views", null), 401, "a read token is required");
        assertError(get(base, "/v1/views", "wrong"), 401, "not valid");
        assertThat(get(base, "/health", null).statusCode()).isEqualTo(200);
    }

    static void assertError(HttpResponse<String> response, int status, String message) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        JsonNode body = JSON.readTree(response.body());
        assertThat(body.get("error_code").asInt()).isEqualTo(status);
        assertThat(body.get("message").asText()).contains(message);
    }

    HttpRequest.Builder request(String base, String path, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
        return token == null ? b : b.header("Authorization", "Bearer " + token);
    }

    HttpResponse<String> get(String base, String path, String token) throws Exception {
        return http.send(request(base, path, token).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** (group|start) → count of a series answer. */
    static Map<String, Double> counts(HttpResponse<String> response) throws Exception {
        return measure(response, "count");
    }

    static Map<String, Double> sums(HttpResponse<String> response) throws Exception {
        return measure(response, "sum");
    }

    static Map<String, Double> measure(HttpResponse<String> response, String name) throws Exception {
        Map<String, Double> out = new TreeMap<>();
        if (response.statusCode() != 200) {
            return out;
        }
        for (JsonNode p : JSON.readTree(response.body()).get("points")) {
            out.put(
                    p.get("group").toString() + "|" + p.get("startMillis").asLong(),
                    p.get("measures").get(name).asDouble());
        }
        return out;
    }

    /** Every event folded once, independently of the stores and the merge. */
    static Map<String, Aggregate> expected(List<Appended> events, ViewDefinition view) {
        Map<String, Aggregate> out = new TreeMap<>();
        for (Appended a : events) {
            String key = JSON.valueToTree(view.group(a.event())).toString() + "|"
                    + view.windowStart(a.event().getTime()).toEpochMilli();
            out.computeIfAbsent(key, k -> Aggregate.empty(view)).fold(a.event());
        }
        return out;
    }

    static Map<String, Double> expectedCounts(List<Appended> events, ViewDefinition view) {
        Map<String, Double> out = new TreeMap<>();
        expected(events, view).forEach((k, a) -> out.put(k, (double) a.count()));
        return out;
    }

    static Map<String, Double> expectedSums(List<Appended> events, ViewDefinition view) {
        Map<String, Double> out = new TreeMap<>();
        expected(events, view).forEach((k, a) -> out.put(k, a.measures().get("sum")));
        return out;
    }

    /** What the speed job would publish: every (view, group, window, bucket) cell, below the cut too. */
    static void produceSpeed(String topic, List<Appended> events) throws Exception {
        Map<ViewKey, Aggregate> cells = new HashMap<>();
        for (Appended a : events) {
            for (ViewDefinition view : VIEWS) {
                cells.computeIfAbsent(
                                new ViewKey(
                                        view.name(),
                                        view.group(a.event()),
                                        view.windowStart(a.event().getTime()).toEpochMilli(),
                                        a.bucket()),
                                k -> Aggregate.empty(view))
                        .fold(a.event());
            }
        }
        Properties props = new Properties();
        props.put("bootstrap.servers", KAFKA.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<Future<?>> sent = new ArrayList<>();
            for (Map.Entry<ViewKey, Aggregate> cell : cells.entrySet()) {
                sent.add(producer.send(
                        new ProducerRecord<>(topic, cell.getKey().encode(), AggregateCodec.encode(cell.getValue()))));
            }
            for (Future<?> f : sent) {
                f.get();
            }
        }
    }

    static void produceRaw(String topic, byte[] key, byte[] value) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", KAFKA.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, key, value)).get(10, TimeUnit.SECONDS);
        }
    }

    /** What the batch layer would do: the snapshot of the events appended before the cut, then its announcement. */
    static void announce(Path lake, String topic, long run, long cut, List<Appended> events) throws Exception {
        announce(lake, topic, run, cut, events, CutSettings.DEFAULTS);
    }

    /** As a batch layer run with {@code settings} would announce it. */
    static void announce(Path lake, String topic, long run, long cut, List<Appended> events, CutSettings settings)
            throws Exception {
        Map<ViewKey, Aggregate> cells = new HashMap<>();
        for (Appended a : events) {
            if (a.bucket() < cut) {
                for (ViewDefinition view : VIEWS) {
                    cells.computeIfAbsent(
                                    new ViewKey(
                                            view.name(),
                                            view.group(a.event()),
                                            view.windowStart(a.event().getTime())
                                                    .toEpochMilli(),
                                            0),
                                    k -> Aggregate.empty(view))
                            .fold(a.event());
                }
            }
        }
        String name;
        try (Lake opened = Lake.open(LakeConfig.local(lake))) {
            ViewsTable views = opened.views();
            name = ViewsTable.reference(views.commit(
                    views.head().snapshotId(),
                    new ViewsTable.Contents(run, cut, settings, Map.of(), "fold", VIEWS, cells)));
        }
        Properties props = new Properties();
        props.put("bootstrap.servers", KAFKA.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(
                            topic,
                            BatchCommit.KEY,
                            BatchCommit.of(run, cut, name, settings).encode()))
                    .get(10, TimeUnit.SECONDS);
        }
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static void await(Check check, String what) {
        Awaitility.await(what)
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .ignoreExceptions()
                .until(check::ok);
    }
}
