package dev.strata.serving.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.strata.schemas.auth.TokenFile;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.serving.query.Answers;
import dev.strata.serving.query.BadRequest;
import dev.strata.serving.query.Params;
import dev.strata.serving.query.SpeedSide;
import dev.strata.serving.query.ViewQueries;
import dev.strata.serving.store.BatchViews;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The serving layer's HTTP routes (Vert.x): health, readiness, metrics, the OpenAPI description,
 * the dashboard, and the view API, whose queries {@link ViewQueries} answers. Each view answer is
 * computed off the event loop under one lease of the batch snapshot, so its batch cells and the cut
 * that selects its speed cells belong together; it carries the cut and the speed side's freshness in
 * headers and an {@code ETag}, so a dashboard polling with {@code If-None-Match} gets {@code 304}
 * while nothing changed. Errors use the shared error body.
 */
public final class ServingRoutes {

    /** What the routes need besides the stores. */
    public record Options(
            Optional<TokenFile> readTokens,
            BooleanSupplier batchCaughtUp,
            Supplier<Optional<Answers.RefusedCommit>> refusedCommit,
            boolean noopEndpoint,
            Optional<LakeApi> lake) {}

    private final ViewQueries queries;
    private final SpeedSide speed;
    private final BatchViews batch;
    private final Options options;
    private final PrometheusMeterRegistry metrics;
    private final Clock clock;
    private final AnswerCache answers;
    private final byte[] openApi;

    public ServingRoutes(
            ViewQueries queries,
            SpeedSide speed,
            BatchViews batch,
            Options options,
            PrometheusMeterRegistry metrics,
            Clock clock) {
        this.queries = queries;
        this.speed = speed;
        this.batch = batch;
        this.options = options;
        this.metrics = metrics;
        this.clock = clock;
        this.answers = new AnswerCache(32L << 20, metrics);
        try (InputStream in = ServingRoutes.class.getResourceAsStream("/dev/strata/serving/openapi.yaml")) {
            this.openApi = in.readAllBytes();
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("openapi.yaml missing from the build", e);
        }
    }

    public Router router(Vertx vertx) {
        Router router = Router.router(vertx);
        router.get("/health").handler(ctx -> HttpJson.send(ctx, 200, Map.of("status", "UP")));
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
        if (options.noopEndpoint()) {
            // The benchmark's reference: the same server answering without any work.
            router.get("/bench/noop")
                    .handler(ctx -> ctx.response()
                            .putHeader("Content-Type", "application/json")
                            .end("{}"));
        }
        router.route("/v1/*").handler(this::authenticate);
        router.get("/v1/views")
                .handler(ctx -> answer(
                        ctx,
                        "views",
                        lease -> Rendered.of(
                                200,
                                queries.views(
                                        lease, speed, options.refusedCommit().get()))));
        router.get("/v1/views/:view")
                .handler(ctx -> answer(ctx, "series", lease -> {
                    ViewQueries.SeriesQuery query = queries.seriesQuery(ctx.pathParam("view"), params(ctx));
                    return cached(query.cacheKey(), query.prefix(), lease, () -> queries.series(query, lease, speed));
                }));
        router.get("/v1/views/:view/top")
                .handler(ctx -> answer(ctx, "top", lease -> {
                    ViewQueries.TopQuery query = queries.topQuery(ctx.pathParam("view"), params(ctx));
                    return cached(query.cacheKey(), query.prefix(), lease, () -> queries.top(query, lease, speed));
                }));
        options.lake().ifPresent(l -> l.routes(router));
        router.route()
                .last()
                .handler(ctx -> HttpJson.error(
                        ctx, 404, "No resource at " + ctx.request().path()));
        router.route()
                .failureHandler(ctx -> HttpJson.error(
                        ctx,
                        ctx.statusCode() > 0 ? ctx.statusCode() : 500,
                        ctx.failure() == null ? "request failed" : ctx.failure().toString()));
        return router;
    }

    private void ready(RoutingContext ctx) {
        List<String> waiting = new ArrayList<>();
        if (!speed.running()) {
            waiting.add("speed views store is " + speed.stateName());
        }
        if (!options.batchCaughtUp().getAsBoolean()) {
            waiting.add("batch commits not read to the end yet");
        }
        @JsonInclude(JsonInclude.Include.NON_NULL)
        record Readiness(String status, List<String> waiting) {}
        HttpJson.send(
                ctx,
                waiting.isEmpty() ? 200 : 503,
                new Readiness(waiting.isEmpty() ? "READY" : "NOT_READY", waiting.isEmpty() ? null : waiting));
    }

    private void authenticate(RoutingContext ctx) {
        if (options.readTokens().isEmpty()) {
            ctx.next();
            return;
        }
        Optional<String> token = TokenFile.bearer(ctx.request().getHeader("Authorization"));
        if (token.isEmpty()) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"strata\"");
            HttpJson.error(ctx, 401, "a read token is required: Authorization: Bearer <token>");
        } else if (options.readTokens().get().lookup(token.get()).isEmpty()) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"strata\", error=\"invalid_token\"");
            HttpJson.error(ctx, 401, "the read token is not valid");
        } else {
            ctx.next();
        }
    }

    private static Params params(RoutingContext ctx) {
        return new Params() {
            @Override
            public String get(String name) {
                return ctx.request().getParam(name);
            }

            @Override
            public List<String> all(String name) {
                return ctx.queryParam(name);
            }
        };
    }

    /** The answer of a query whose cells have keys under {@code prefix}, cached while nothing it read changed. */
    private Rendered cached(String key, byte[] prefix, BatchViews.Lease lease, Supplier<Object> compute) {
        long version = speed.version(prefix); // before the store is read: see SpeedViews#version
        return answers.get(key, lease.commit(), version, () -> Rendered.of(200, compute.get()));
    }

    /** An answer with the snapshot it was computed under. */
    private record Leased(Rendered answer, Optional<BatchCommit> commit) {}

    /** Answers off the event loop under one lease of the batch snapshot, with freshness headers and an ETag. */
    private void answer(RoutingContext ctx, String route, Function<BatchViews.Lease, Rendered> query) {
        long started = System.nanoTime();
        ctx.vertx()
                .<Leased>executeBlocking(
                        () -> {
                            try (BatchViews.Lease lease = batch.lease()) {
                                Rendered answer;
                                try {
                                    answer = query.apply(lease);
                                } catch (BadRequest e) {
                                    answer = Rendered.error(e.status(), e.getMessage());
                                }
                                return new Leased(answer, lease.commit());
                            }
                        },
                        false)
                .onComplete(done -> {
                    if (done.failed()) {
                        HttpJson.error(ctx, 503, "query failed: " + done.cause());
                    } else {
                        freshness(ctx, done.result().commit());
                        respond(ctx, done.result().answer());
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

    /** Sends the answer with its strong ETag, or 304 when the client has it already. */
    private static void respond(RoutingContext ctx, Rendered answer) {
        if (answer.etag() != null) {
            ctx.response().putHeader("ETag", answer.etag()).putHeader("Cache-Control", "no-cache");
            String ifNoneMatch = ctx.request().getHeader("If-None-Match");
            if (ifNoneMatch != null
                    && Arrays.stream(ifNoneMatch.split(","))
                            .map(String::trim)
                            .anyMatch(
                                    t -> t.equals(answer.etag()) || t.equals("W/" + answer.etag()) || t.equals("*"))) {
                ctx.response().setStatusCode(304).end();
                return;
            }
        }
        HttpJson.send(ctx, answer.status(), answer.bytes());
    }
}
