package dev.strata.gateway.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.strata.gateway.auth.Principal;
import dev.strata.gateway.auth.TokenRateLimiter;
import dev.strata.gateway.auth.TokenStore;
import dev.strata.gateway.files.FileIngest;
import dev.strata.gateway.kafka.EventAppender;
import dev.strata.gateway.kafka.InFlightLimiter;
import dev.strata.gateway.kafka.KafkaHealth;
import dev.strata.gateway.metrics.GatewayMetrics;
import dev.strata.gateway.validation.EventParser;
import dev.strata.gateway.validation.EventParser.Parsed;
import dev.strata.gateway.validation.MalformedBodyException;
import dev.strata.schemas.Event;
import dev.strata.schemas.http.ErrorBody;
import dev.strata.schemas.http.ValidationError;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/events}: one JSON event, a JSON array, or NDJSON. Answered only after Kafka has
 * acknowledged every record, with one result per record; all-or-nothing validation; one error
 * body for every refusal. Also {@code /health}, {@code /ready} and {@code /metrics}.
 */
public final class IngestHttpApi {

    public static final String NDJSON = "application/x-ndjson";
    static final ObjectMapper JSON = new ObjectMapper();
    public static final String JSON_TYPE = "application/json";
    /** Seconds a client should wait after a 503 before retrying. */
    static final int RETRY_AFTER_OVERLOADED = 1;

    static final int RETRY_AFTER_KAFKA_FAILED = 5;

    private static final Logger LOG = LoggerFactory.getLogger(IngestHttpApi.class);

    /** The header that makes the ids of records without one the same when a request is resent. */
    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    static final int MAX_IDEMPOTENCY_KEY_LENGTH = 256;

    static boolean validIdempotencyKey(String key) {
        if (key.isEmpty() || key.length() > MAX_IDEMPOTENCY_KEY_LENGTH) {
            return false;
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    private final EventParser parser;
    private final EventAppender appender;
    private final InFlightLimiter limiter;
    private final TokenRateLimiter rateLimiter;
    private final GatewayMetrics metrics;
    private final KafkaHealth health;
    private final Optional<FileIngest> files;
    private final HttpAnswers answers;
    private final RequestGate gate;

    public IngestHttpApi(
            Optional<TokenStore> tokens,
            EventParser parser,
            EventAppender appender,
            InFlightLimiter limiter,
            TokenRateLimiter rateLimiter,
            GatewayMetrics metrics,
            KafkaHealth health,
            int maxRequestBytes,
            Optional<FileIngest> files) {
        this.files = files;
        this.parser = parser;
        this.appender = appender;
        this.limiter = limiter;
        this.rateLimiter = rateLimiter;
        this.metrics = metrics;
        this.health = health;
        this.answers = new HttpAnswers(metrics);
        this.gate = new RequestGate(tokens, limiter, metrics, answers, maxRequestBytes);
    }

    public Router router(Vertx vertx) {
        Router router = Router.router(vertx);
        router.get("/health")
                .handler(ctx -> answers.json(ctx, 200, JSON.createObjectNode().put("status", "UP")));
        router.get("/ready").handler(this::ready);
        router.get("/metrics")
                .handler(ctx -> ctx.response()
                        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                        .end(metrics.scrape()));
        router.post("/v1/events")
                .handler(gate::authenticate)
                .handler(gate::checkContentType)
                .handler(ctx -> gate.readBody(ctx, this::ingest));
        // The reference of `strata bench ingest`: the same server, authentication, header checks and
        // body reading as /v1/events, then 200 without parsing, validating or appending anything.
        router.post("/v1/noop")
                .handler(gate::authenticate)
                .handler(gate::checkContentType)
                .handler(ctx -> gate.readBody(
                        ctx,
                        (c, body) -> c.response()
                                .putHeader("Content-Type", "application/json")
                                .end("{}")));
        router.route("/v1/events").handler(ctx -> {
            ctx.response().putHeader("Allow", "POST");
            answers.error(ctx, 405, "Method " + ctx.request().method() + " not allowed: POST events to /v1/events");
        });
        FilesHttpApi fileApi = new FilesHttpApi(answers, files, metrics);
        router.post("/v1/files/:dataset").handler(gate::authenticate).handler(fileApi::upload);
        router.get("/v1/files/:dataset").handler(gate::authenticate).handler(fileApi::list);
        router.get("/v1/files/:dataset/:upload").handler(gate::authenticate).handler(fileApi::get);
        router.route("/v1/files/:dataset").handler(ctx -> {
            ctx.response().putHeader("Allow", "GET, POST");
            answers.error(
                    ctx,
                    405,
                    "Method " + ctx.request().method()
                            + " not allowed: POST a file to /v1/files/{dataset}, GET lists its uploads");
        });
        router.route()
                .last()
                .handler(ctx -> answers.error(
                        ctx, 404, "No resource at " + ctx.request().path()));
        router.route().failureHandler(answers::failure);
        return router;
    }

    private void ready(RoutingContext ctx) {
        health.reachable().whenComplete((up, e) -> {
            boolean ok = e == null && up;
            answers.json(
                    ctx,
                    ok ? 200 : 503,
                    JSON.createObjectNode()
                            .put("status", ok ? "READY" : "NOT_READY")
                            .put("kafka", ok ? "reachable" : "unreachable"));
        });
    }

    private void ingest(RoutingContext ctx, byte[] body) {
        Principal principal = RequestGate.principal(ctx);
        String idempotencyKey = ctx.request().getHeader(IDEMPOTENCY_KEY);
        if (idempotencyKey != null && !validIdempotencyKey(idempotencyKey)) {
            metrics.records("http", "rejected", "malformed", 1);
            answers.error(
                    ctx,
                    400,
                    IDEMPOTENCY_KEY + " must be 1 to " + MAX_IDEMPOTENCY_KEY_LENGTH + " visible ASCII characters");
            return;
        }
        IntFunction<String> missingIds = idempotencyKey == null
                ? EventParser.RANDOM_IDS
                : EventParser.idempotentIds(principal.name(), idempotencyKey);
        Parsed parsed;
        try {
            parsed = NDJSON.equals(RequestGate.baseType(ctx.request().getHeader("Content-Type")))
                    ? parser.parseNdjson(body, missingIds)
                    : parser.parseJson(body, missingIds);
        } catch (MalformedBodyException e) {
            metrics.records("http", "rejected", e.tooLarge() ? "too_large" : "malformed", 1);
            answers.error(ctx, e.tooLarge() ? 413 : 400, e.getMessage());
            return;
        }
        if (!parsed.valid()) {
            long invalid = parsed.errors().stream()
                    .mapToInt(ValidationError::index)
                    .distinct()
                    .count();
            metrics.records("http", "rejected", "invalid", (int) invalid);
            ctx.response().setStatusCode(422);
            answers.json(
                    ctx,
                    422,
                    new ErrorBody(
                            422,
                            invalid + " record(s) invalid; nothing was written. Fix them and resend the request.",
                            parsed.errors()));
            return;
        }
        List<Event> events = parsed.events();
        List<ValidationError> forbidden = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            if (!principal.mayPublishAs(events.get(i).getSource())) {
                forbidden.add(new ValidationError(
                        i,
                        events.get(i).getId(),
                        "source",
                        "token '" + principal.name() + "' may not publish as source '"
                                + events.get(i).getSource() + "'"));
            }
        }
        if (!forbidden.isEmpty()) {
            metrics.records("http", "rejected", "forbidden", forbidden.size());
            answers.json(
                    ctx,
                    403,
                    new ErrorBody(
                            403,
                            "Token not allowed for " + forbidden.size() + " record(s); nothing was written",
                            forbidden));
            return;
        }
        OptionalLong burst = rateLimiter.burst();
        if (burst.isPresent() && events.size() > burst.getAsLong()) {
            // Such a request never fits in the token's bucket: waiting would not help.
            metrics.records("http", "rejected", "over_burst", events.size());
            answers.error(
                    ctx,
                    413,
                    events.size() + " records in one request exceed the rate limit's burst of " + burst.getAsLong()
                            + " records (--rate-limit " + burst.getAsLong()
                            + " records/s per token): send at most " + burst.getAsLong()
                            + " per request; nothing was written");
            return;
        }
        OptionalLong retryAfter = rateLimiter.tryConsume(principal, events.size());
        if (retryAfter.isPresent()) {
            metrics.records("http", "rejected", "rate_limited", events.size());
            ctx.response().putHeader("Retry-After", Long.toString(retryAfter.getAsLong()));
            answers.error(
                    ctx,
                    429,
                    "Rate limit of token '" + principal.name() + "' exceeded; retry after " + retryAfter.getAsLong()
                            + " s");
            return;
        }
        long bytes = body.length;
        if (!limiter.tryAcquire(bytes)) {
            metrics.records("http", "rejected", "overloaded", events.size());
            ctx.response().putHeader("Retry-After", Integer.toString(RETRY_AFTER_OVERLOADED));
            answers.error(
                    ctx,
                    503,
                    "Gateway overloaded: too many events waiting for Kafka; retry after " + RETRY_AFTER_OVERLOADED
                            + " s");
            return;
        }
        append(ctx, events, bytes);
    }

    private void append(RoutingContext ctx, List<Event> events, long bytes) {
        Context context = ctx.vertx().getOrCreateContext();
        long started = System.nanoTime();
        List<CompletableFuture<RecordMetadata>> acks = new ArrayList<>(events.size());
        for (Event event : events) {
            acks.add(appender.append(event));
        }
        CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).whenComplete((ignored, error) -> {
            limiter.release(bytes);
            metrics.produceLatency().record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
            context.runOnContext(v -> answer(ctx, events, acks));
        });
    }

    private void answer(RoutingContext ctx, List<Event> events, List<CompletableFuture<RecordMetadata>> acks) {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode results = JSON.createArrayNode();
        int failed = 0;
        String firstFailure = null;
        for (int i = 0; i < events.size(); i++) {
            ObjectNode result =
                    results.addObject().put("index", i).put("id", events.get(i).getId());
            CompletableFuture<RecordMetadata> ack = acks.get(i);
            if (!ack.isCompletedExceptionally()) {
                RecordMetadata m = ack.join();
                result.put("status", "ok").put("partition", m.partition()).put("offset", m.offset());
            } else {
                failed++;
                String reason = ack.handle((m, e) -> rootMessage(e)).join();
                firstFailure = firstFailure == null ? reason : firstFailure;
                result.put("status", "failed").put("reason", reason);
            }
        }
        int ok = events.size() - failed;
        if (ok > 0) {
            metrics.records("http", "accepted", "ok", ok);
        }
        if (failed == 0) {
            body.put("accepted", ok);
            body.set("results", results);
            answers.json(ctx, 200, body);
            return;
        }
        metrics.records("http", "failed", "kafka", failed);
        LOG.warn("Kafka did not acknowledge {} of {} records: {}", failed, events.size(), firstFailure);
        body.put("error_code", 503);
        body.put(
                "message",
                "Kafka did not acknowledge " + failed + " of " + events.size()
                        + " record(s); resend the same request: records with an id, and records without one in a"
                        + " request with an " + IDEMPOTENCY_KEY + " header (resend the same key), are counted once;"
                        + " records without either would be counted again");
        body.set("results", results);
        ctx.response().putHeader("Retry-After", Integer.toString(RETRY_AFTER_KAFKA_FAILED));
        answers.json(ctx, 503, body);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
