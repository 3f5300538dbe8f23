package dev.strata.serving.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.Measure;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import dev.strata.serving.merge.Merge;
import dev.strata.serving.store.BatchViews;
import dev.strata.serving.store.SpeedViews;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * The serving layer's HTTP API (JSON; described by {@code /v1/openapi.yaml}): the views, a view's
 * merged series and its top groups. Each answer is computed under one lease of the batch snapshot,
 * so its batch cells and the cut that selects its speed cells belong together; it carries the cut
 * and the speed side's freshness in headers and an {@code ETag}, so a dashboard polling with
 * {@code If-None-Match} gets {@code 304} while nothing changed. Errors use the gateway's error body
 * ({@code error_code}, {@code message}).
 */
public final class ServingApi {

    static final ObjectMapper JSON = new ObjectMapper();
    /** A view's window size divides a day; a window start this far from now is nonsense. */
    private static final long MAX_TIME = Instant.parse("9999-12-31T00:00:00Z").toEpochMilli();

    private final Map<String, ViewDefinition> views;
    private final SpeedViews speed;
    private final BatchViews batch;
    private final Optional<ReadTokens> tokens;
    private final int maxPoints;
    private final PrometheusMeterRegistry metrics;
    private final BooleanSupplier batchCaughtUp;
    private final Clock clock;
    private final byte[] openApi;
    private final boolean noopEndpoint;
    private final Cache<String, Cached> answers;
    private final Optional<LakeApi> lake;

    public ServingApi(
            List<ViewDefinition> views,
            SpeedViews speed,
            BatchViews batch,
            Optional<ReadTokens> tokens,
            int maxPoints,
            PrometheusMeterRegistry metrics,
            BooleanSupplier batchCaughtUp,
            Clock clock,
            boolean noopEndpoint) {
        this(views, speed, batch, tokens, maxPoints, metrics, batchCaughtUp, clock, noopEndpoint, Optional.empty());
    }

    /** @param lake the catalog and SQL routes, where the lake is readable from this process */
    public ServingApi(
            List<ViewDefinition> views,
            SpeedViews speed,
            BatchViews batch,
            Optional<ReadTokens> tokens,
            int maxPoints,
            PrometheusMeterRegistry metrics,
            BooleanSupplier batchCaughtUp,
            Clock clock,
            boolean noopEndpoint,
            Optional<LakeApi> lake) {
        this.lake = lake;
        this.noopEndpoint = noopEndpoint;
        this.answers = Caffeine.newBuilder()
                .maximumWeight(32L << 20)
                .<String, Cached>weigher((q, c) -> c.answer().bytes().length)
                .expireAfterAccess(Duration.ofMinutes(5))
                .recordStats()
                .build();
        CaffeineCacheMetrics.monitor(metrics, answers, "strata_serving_answers");
        this.views = new LinkedHashMap<>();
        views.forEach(v -> this.views.put(v.name(), v));
        this.speed = speed;
        this.batch = batch;
        this.tokens = tokens;
        this.maxPoints = maxPoints;
        this.metrics = metrics;
        this.batchCaughtUp = batchCaughtUp;
        this.clock = clock;
        try (InputStream in = ServingApi.class.getResourceAsStream("/dev/strata/serving/openapi.yaml")) {
            this.openApi = in.readAllBytes();
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("openapi.yaml missing from the build", e);
        }
    }

    public Router router(Vertx vertx) {
        Router router = Router.router(vertx);
        router.get("/health")
                .handler(ctx -> json(ctx, 200, JSON.createObjectNode().put("status", "UP")));
        router.get("/ready").handler(this::ready);
        router.get("/metrics")
                .handler(ctx -> ctx.response()
                        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                        .end(metrics.scrape()));
        router.get("/v1/openapi.yaml")
                .handler(ctx -> ctx.response()
                        .putHeader("Content-Type", "application/yaml")
                        .end(Buffer.buffer(openApi)));
        // The dashboard (static files; it reads the API like any client) and the chart library's WebJar.
        router.get("/").handler(ctx -> ctx.reroute("/dashboard/index.html"));
        router.get("/dashboard/*").handler(StaticHandler.create("dev/strata/serving/dashboard"));
        router.get("/webjars/*").handler(StaticHandler.create("META-INF/resources/webjars"));
        if (noopEndpoint) {
            // The benchmark's reference: the same server answering without any work.
            router.get("/bench/noop")
                    .handler(ctx -> ctx.response()
                            .putHeader("Content-Type", "application/json")
                            .end("{}"));
        }
        router.route("/v1/*").handler(this::authenticate);
        router.get("/v1/views").handler(ctx -> blocking(ctx, "views", this::views));
        router.get("/v1/views/:view").handler(ctx -> blocking(ctx, "series", this::series));
        router.get("/v1/views/:view/top").handler(ctx -> blocking(ctx, "top", this::top));
        lake.ifPresent(l -> l.routes(router));
        router.route()
                .last()
                .handler(
                        ctx -> error(ctx, 404, "No resource at " + ctx.request().path()));
        router.route()
                .failureHandler(ctx -> error(
                        ctx,
                        ctx.statusCode() > 0 ? ctx.statusCode() : 500,
                        ctx.failure() == null ? "request failed" : ctx.failure().toString()));
        return router;
    }

    private void ready(RoutingContext ctx) {
        List<String> waiting = new ArrayList<>();
        if (!speed.running()) {
            waiting.add("speed views store is " + speed.state());
        }
        if (!batchCaughtUp.getAsBoolean()) {
            waiting.add("batch commits not read to the end yet");
        }
        ObjectNode body = JSON.createObjectNode().put("status", waiting.isEmpty() ? "READY" : "NOT_READY");
        waiting.forEach(body.putArray("waiting")::add);
        json(ctx, waiting.isEmpty() ? 200 : 503, body);
    }

    private void authenticate(RoutingContext ctx) {
        if (tokens.isEmpty()) {
            ctx.next();
            return;
        }
        String header = ctx.request().getHeader("Authorization");
        String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
                ? header.substring(7).trim()
                : null;
        if (token == null) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"strata\"");
            error(ctx, 401, "a read token is required: Authorization: Bearer <token>");
        } else if (!tokens.get().allows(token)) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"strata\", error=\"invalid_token\"");
            error(ctx, 401, "the read token is not valid");
        } else {
            ctx.next();
        }
    }

    /** An answer: its status and JSON body (the cut and freshness headers come from the lease). */
    record Answer(int status, ObjectNode body) {}

    /** An answer as sent: status, bytes and (for 200) the ETag of the bytes. */
    record Rendered(int status, byte[] bytes, String etag) {

        static Rendered of(Answer answer) {
            byte[] bytes;
            try {
                bytes = JSON.writeValueAsBytes(answer.body());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return new Rendered(
                    answer.status(), bytes, answer.status() == 200 ? "\"" + ServingApi.etag(bytes) + "\"" : null);
        }
    }

    /**
     * The last answer of a query (its range normalized to the windows it covers) with what it was
     * computed from: the snapshot it was merged with and the speed store's version of its view or
     * group, read before the store was. It is reused only while both are still current, so a
     * cached answer is never stale; one entry per query, replaced when either moves.
     */
    record Cached(Optional<BatchCommit> commit, long speedVersion, Rendered answer) {}

    private Rendered cached(
            String query, BatchViews.Lease lease, byte[] prefix, java.util.function.Supplier<Rendered> compute) {
        long version = speed.version(prefix); // before the store is read: see SpeedViews#version
        Cached hit = answers.getIfPresent(query);
        if (hit != null && hit.speedVersion() == version && hit.commit().equals(lease.commit())) {
            return hit.answer();
        }
        Rendered answer = compute.get();
        answers.put(query, new Cached(lease.commit(), version, answer));
        return answer;
    }

    /** A query that failed on its input: answered with its status and message. */
    static final class BadRequest extends RuntimeException {
        final int status;

        BadRequest(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    interface Query {
        Rendered run(RoutingContext ctx, BatchViews.Lease lease);
    }

    private void blocking(RoutingContext ctx, String route, Query query) {
        long started = System.nanoTime();
        ctx.vertx()
                .<Object[]>executeBlocking(
                        () -> {
                            try (BatchViews.Lease lease = batch.lease()) {
                                try {
                                    return new Object[] {query.run(ctx, lease), lease.commit()};
                                } catch (BadRequest e) {
                                    return new Object[] {
                                        Rendered.of(new Answer(e.status, errorBody(e.status, e.getMessage()))),
                                        lease.commit()
                                    };
                                }
                            }
                        },
                        false)
                .onComplete(done -> {
                    if (done.failed()) {
                        error(ctx, 503, "query failed: " + done.cause());
                    } else {
                        Rendered answer = (Rendered) done.result()[0];
                        @SuppressWarnings("unchecked")
                        Optional<BatchCommit> commit = (Optional<BatchCommit>) done.result()[1];
                        freshness(ctx, commit);
                        respond(ctx, answer);
                    }
                    Timer.builder("strata_serving_request")
                            .tag("route", route)
                            .tag("status", Integer.toString(ctx.response().getStatusCode()))
                            .register(metrics)
                            .record(Duration.ofNanos(System.nanoTime() - started));
                });
    }

    private void freshness(RoutingContext ctx, Optional<BatchCommit> commit) {
        long cut = commit.map(BatchCommit::cutMillis).orElse(0L);
        ctx.response().putHeader("Strata-Cut", Instant.ofEpochMilli(cut).toString());
        ctx.response()
                .putHeader(
                        "Strata-Batch-Run",
                        commit.map(c -> Long.toString(c.run())).orElse("none"));
        long newest = speed.newestUpdateMillis();
        if (newest >= 0) {
            ctx.response()
                    .putHeader(
                            "Strata-Speed-Newest-Update",
                            Instant.ofEpochMilli(newest).toString());
            ctx.response().putHeader("Strata-Speed-Age-Ms", Long.toString(Math.max(0, clock.millis() - newest)));
        }
    }

    private Rendered views(RoutingContext ctx, BatchViews.Lease lease) {
        ObjectNode body = JSON.createObjectNode();
        Optional<BatchCommit> commit = lease.commit();
        body.put("cut", Instant.ofEpochMilli(lease.cutMillis()).toString());
        body.put("cutMillis", lease.cutMillis());
        if (commit.isPresent()) {
            body.putObject("batch")
                    .put("run", commit.get().run())
                    .put("snapshot", commit.get().snapshot());
        } else {
            body.putNull("batch");
        }
        ObjectNode speedNode = body.putObject("speed");
        speedNode.put("state", speed.state().toString());
        speedNode.put("lagRecords", speed.lag());
        long newest = speed.newestUpdateMillis();
        if (newest >= 0) {
            speedNode.put("newestUpdate", Instant.ofEpochMilli(newest).toString());
            speedNode.put("ageMs", Math.max(0, clock.millis() - newest));
        } else {
            speedNode.putNull("newestUpdate");
        }
        ArrayNode list = body.putArray("views");
        for (ViewDefinition view : views.values()) {
            ObjectNode v = list.addObject();
            v.put("name", view.name());
            view.types().stream().sorted().forEach(v.putArray("types")::add);
            ObjectNode attributes = v.putObject("attributes");
            view.attributes().forEach(attributes::put);
            view.groupBy().forEach(v.putArray("groupBy")::add);
            v.put("window", view.window().toString());
            ArrayNode measures = v.putArray("measures");
            view.measures().forEach(m -> measures.add(m.name()));
        }
        return Rendered.of(new Answer(200, body));
    }

    private Rendered series(RoutingContext ctx, BatchViews.Lease lease) {
        ViewDefinition view = view(ctx);
        Range range = range(ctx, view);
        Optional<List<String>> group = group(ctx, view);
        byte[] prefix = ViewKey.prefix(view.name(), group);
        return cached(
                "series|" + view.name() + "|" + group.map(List::toString).orElse("*") + "|" + range,
                lease,
                prefix,
                () -> {
                    List<Merge.Point> points = merged(view, prefix, group, range, lease);
                    ObjectNode body = JSON.createObjectNode();
                    body.put("view", view.name());
                    body.put("from", Instant.ofEpochMilli(range.from).toString());
                    body.put("to", Instant.ofEpochMilli(range.to).toString());
                    body.put("step", Duration.ofMillis(range.width).toString());
                    body.put("cut", Instant.ofEpochMilli(lease.cutMillis()).toString());
                    ArrayNode list = body.putArray("points");
                    for (Merge.Point p : points) {
                        ObjectNode point = list.addObject();
                        p.group().forEach(point.putArray("group")::add);
                        point.put("start", Instant.ofEpochMilli(p.startMillis()).toString());
                        point.put("startMillis", p.startMillis());
                        measures(point.putObject("measures"), p.aggregate());
                    }
                    return Rendered.of(new Answer(200, body));
                });
    }

    private Rendered top(RoutingContext ctx, BatchViews.Lease lease) {
        ViewDefinition view = view(ctx);
        Range range = range(ctx, view);
        String measure = Optional.ofNullable(ctx.request().getParam("measure")).orElse("count");
        if (view.measures().stream().noneMatch(m -> m.name().equals(measure))) {
            throw new BadRequest(
                    400,
                    "view '" + view.name() + "' has no measure '" + measure + "' (measures: "
                            + view.measures().stream().map(Measure::name).toList() + ")");
        }
        int n = intParam(ctx, "n", 10, 1, 1000);
        byte[] prefix = ViewKey.prefix(view.name(), Optional.empty());
        return cached(
                "top|" + view.name() + "|" + measure + "|" + n + "|" + range,
                lease,
                prefix,
                () -> top(view, range, measure, n, prefix, lease));
    }

    private Rendered top(
            ViewDefinition view, Range range, String measure, int n, byte[] prefix, BatchViews.Lease lease) {
        Map<List<String>, Aggregate> byGroup = new LinkedHashMap<>();
        for (Merge.Point p : merged(
                view,
                prefix,
                Optional.empty(),
                new Range(range.from, range.to, view.window().toMillis()),
                lease)) {
            byGroup.computeIfAbsent(p.group(), g -> Aggregate.empty(view)).merge(p.aggregate());
        }
        List<Map.Entry<List<String>, Double>> ranked = new ArrayList<>();
        byGroup.forEach((g, a) -> ranked.add(
                new java.util.AbstractMap.SimpleEntry<>(g, a.measures().get(measure))));
        ranked.sort(Comparator.comparing(
                        (Map.Entry<List<String>, Double> e) -> e.getValue(),
                        Comparator.nullsLast(Comparator.reverseOrder()))
                .thenComparing(e -> String.join("\u0000", e.getKey())));
        ObjectNode body = JSON.createObjectNode();
        body.put("view", view.name());
        body.put("measure", measure);
        body.put("from", Instant.ofEpochMilli(range.from).toString());
        body.put("to", Instant.ofEpochMilli(range.to).toString());
        body.put("cut", Instant.ofEpochMilli(lease.cutMillis()).toString());
        ArrayNode list = body.putArray("groups");
        for (Map.Entry<List<String>, Double> e : ranked.subList(0, Math.min(n, ranked.size()))) {
            ObjectNode item = list.addObject();
            e.getKey().forEach(item.putArray("group")::add);
            if (e.getValue() == null) {
                item.putNull("value");
            } else {
                item.put("value", e.getValue());
            }
            measures(item.putObject("measures"), byGroup.get(e.getKey()));
        }
        return Rendered.of(new Answer(200, body));
    }

    /**
     * The merged points under one lease: its batch cells and the speed cells at or after its cut,
     * of windows in the range (only those cells' states are decoded).
     */
    private List<Merge.Point> merged(
            ViewDefinition view, byte[] prefix, Optional<List<String>> group, Range range, BatchViews.Lease lease) {
        if (!speed.running()) {
            throw new BadRequest(503, "the speed views store is " + speed.state() + "; try again shortly");
        }
        long cut = lease.cutMillis();
        List<Map.Entry<ViewKey, Aggregate>> batchCells = new ArrayList<>();
        lease.scan(prefix, view, k -> range.covers(k.windowStartMillis()), batchCells::add);
        List<Map.Entry<ViewKey, Aggregate>> speedCells = new ArrayList<>();
        speed.scan(prefix, view, k -> k.bucketMillis() >= cut && range.covers(k.windowStartMillis()), speedCells::add);
        return Merge.series(
                view,
                cut,
                batchCells,
                speedCells,
                new Merge.Query(group, range.from, range.to, Optional.of(Duration.ofMillis(range.width))));
    }

    private static void measures(ObjectNode node, Aggregate aggregate) {
        aggregate.measures().forEach((name, value) -> {
            if (value == null) {
                node.putNull(name);
            } else {
                node.put(name, value);
            }
        });
    }

    private ViewDefinition view(RoutingContext ctx) {
        String name = ctx.pathParam("view");
        ViewDefinition view = views.get(name);
        if (view == null) {
            throw new BadRequest(404, "no view '" + name + "' (views: " + views.keySet() + ")");
        }
        return view;
    }

    /** Windows starting in [from, to), rolled up to points {@code width} wide. */
    record Range(long from, long to, long width) {
        boolean covers(long windowStart) {
            return windowStart >= from && windowStart < to;
        }
    }

    private Range range(RoutingContext ctx, ViewDefinition view) {
        long window = view.window().toMillis();
        long width = window;
        String step = ctx.request().getParam("step");
        if (step != null) {
            width = duration(step).toMillis();
            if (width <= 0 || width % window != 0) {
                throw new BadRequest(
                        400, "step " + step + " is not a positive multiple of the view's window " + view.window());
            }
        }
        long now = clock.millis();
        long to = time(ctx, "to").orElse(Math.floorDiv(now, width) * width + width);
        long from = time(ctx, "from")
                .orElse(to - Math.max(width, Duration.ofHours(1).toMillis()));
        if (from >= to) {
            throw new BadRequest(
                    400,
                    "from (" + Instant.ofEpochMilli(from) + ") must be before to (" + Instant.ofEpochMilli(to) + ")");
        }
        // The windows a range covers start at or after from and before to: name them by their bounds,
        // so equal queries (a dashboard polling "the last hour") get equal answers and ETags.
        from = Math.floorDiv(from + window - 1, window) * window;
        to = Math.floorDiv(to + window - 1, window) * window;
        if (from >= to) {
            throw new BadRequest(
                    400,
                    "the range holds no window start of " + view.window() + " (from " + Instant.ofEpochMilli(from)
                            + ", to " + Instant.ofEpochMilli(to) + ")");
        }
        long points = (to - from + width - 1) / width;
        if (points > maxPoints) {
            throw new BadRequest(
                    422,
                    "the range holds " + points + " points of " + Duration.ofMillis(width) + " per group; the limit is "
                            + maxPoints + " (narrow the range or use a larger step)");
        }
        return new Range(from, to, width);
    }

    private static Optional<Long> time(RoutingContext ctx, String name) {
        String value = ctx.request().getParam(name);
        if (value == null || value.isEmpty()) {
            return Optional.empty();
        }
        long millis;
        if (value.matches("-?\\d{1,19}")) {
            try {
                millis = Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new BadRequest(400, name + " '" + value + "' is out of range");
            }
        } else {
            try {
                millis = Instant.parse(value).toEpochMilli();
            } catch (DateTimeParseException | ArithmeticException e) {
                throw new BadRequest(
                        400,
                        name + " '" + value + "' is neither ISO-8601 (2026-11-23T10:00:00Z) nor epoch milliseconds");
            }
        }
        if (millis < 0 || millis > MAX_TIME) {
            throw new BadRequest(400, name + " '" + value + "' is outside 1970 to 9999");
        }
        return Optional.of(millis);
    }

    /** {@code PT1H}, or the view config's short form ({@code 30s}, {@code 5m}, {@code 1h}, {@code 1d}). */
    static Duration duration(String value) {
        try {
            return value.startsWith("P") || value.startsWith("p") ? Duration.parse(value) : ViewConfig.size(value);
        } catch (RuntimeException e) {
            throw new BadRequest(400, "step '" + value + "' is not a duration (PT1H, or 30s, 5m, 1h, 1d)");
        }
    }

    private static Optional<List<String>> group(RoutingContext ctx, ViewDefinition view) {
        List<String> values = ctx.queryParam("group");
        if (values.isEmpty()) {
            return Optional.empty();
        }
        if (values.size() != view.groupBy().size()) {
            throw new BadRequest(
                    400,
                    "view '" + view.name() + "' groups by " + view.groupBy() + ": give "
                            + view.groupBy().size() + " group value(s), one group parameter each, in that order");
        }
        return Optional.of(List.copyOf(values));
    }

    private static int intParam(RoutingContext ctx, String name, int fallback, int min, int max) {
        String value = ctx.request().getParam(name);
        if (value == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new BadRequest(400, name + " '" + value + "' must be a whole number from " + min + " to " + max);
    }

    /** Sends the answer with its strong ETag, or 304 when the client has it already. */
    private static void respond(RoutingContext ctx, Rendered answer) {
        if (answer.etag() != null) {
            ctx.response().putHeader("ETag", answer.etag()).putHeader("Cache-Control", "no-cache");
            String ifNoneMatch = ctx.request().getHeader("If-None-Match");
            if (ifNoneMatch != null
                    && java.util.Arrays.stream(ifNoneMatch.split(","))
                            .map(String::trim)
                            .anyMatch(
                                    t -> t.equals(answer.etag()) || t.equals("W/" + answer.etag()) || t.equals("*"))) {
                ctx.response().setStatusCode(304).end();
                return;
            }
        }
        ctx.response()
                .setStatusCode(answer.status())
                .putHeader("Content-Type", "application/json")
                .end(Buffer.buffer(answer.bytes()));
    }

    static String etag(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static ObjectNode errorBody(int status, String message) {
        ObjectNode body = JSON.createObjectNode();
        body.put("error_code", status);
        body.put("message", message);
        return body;
    }

    private static void json(RoutingContext ctx, int status, ObjectNode body) {
        ctx.response()
                .setStatusCode(status)
                .putHeader("Content-Type", "application/json")
                .end(body.toString());
    }

    private static void error(RoutingContext ctx, int status, String message) {
        if (!ctx.response().ended()) {
            json(ctx, status, errorBody(status, message));
        }
    }
}
