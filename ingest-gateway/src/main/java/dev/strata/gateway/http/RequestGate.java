package dev.strata.gateway.http;

import dev.strata.gateway.auth.Principal;
import dev.strata.gateway.auth.TokenStore;
import dev.strata.gateway.kafka.InFlightLimiter;
import dev.strata.gateway.metrics.GatewayMetrics;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * What a request to {@code /v1/events} (and the no-op reference, and the file uploads' token check)
 * passes before its body is used: the token, then the Content-Type and declared length, then the
 * body read within the request's limit and the gateway's bound on bodies being received. Each
 * refusal is answered here with its status and reason.
 */
final class RequestGate {

    private static final String BEARER = "bearer ";
    private static final String PRINCIPAL = "strata.principal";

    private final Optional<TokenStore> tokens;
    private final InFlightLimiter limiter;
    private final GatewayMetrics metrics;
    private final HttpAnswers answers;
    private final int maxRequestBytes;
    /**
     * Bytes of request bodies being received (authenticated requests only: a body is read after its
     * token is checked), at most the in-flight bound: thousands of bodies sent almost whole, then
     * trickled, cannot hold more memory than that.
     */
    private final AtomicLong receiving = new AtomicLong();

    RequestGate(
            Optional<TokenStore> tokens,
            InFlightLimiter limiter,
            GatewayMetrics metrics,
            HttpAnswers answers,
            int maxRequestBytes) {
        this.tokens = tokens;
        this.limiter = limiter;
        this.metrics = metrics;
        this.answers = answers;
        this.maxRequestBytes = maxRequestBytes;
    }

    static Principal principal(RoutingContext ctx) {
        return ctx.get(PRINCIPAL);
    }

    void authenticate(RoutingContext ctx) {
        if (tokens.isEmpty()) {
            ctx.put(PRINCIPAL, Principal.ANONYMOUS);
            ctx.next();
            return;
        }
        String header = ctx.request().getHeader("Authorization");
        if (header == null) {
            unauthorized(ctx, "Missing token: send 'Authorization: Bearer <token>'");
            return;
        }
        if (!header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            unauthorized(ctx, "Authorization must use the Bearer scheme: 'Authorization: Bearer <token>'");
            return;
        }
        Optional<Principal> principal =
                tokens.get().authenticate(header.substring(BEARER.length()).trim());
        if (principal.isEmpty()) {
            unauthorized(ctx, "Invalid token");
            return;
        }
        ctx.put(PRINCIPAL, principal.get());
        ctx.next();
    }

    private void unauthorized(RoutingContext ctx, String message) {
        ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"strata\"");
        answers.error(ctx, 401, message);
    }

    void checkContentType(RoutingContext ctx) {
        String type = baseType(ctx.request().getHeader("Content-Type"));
        if (!IngestHttpApi.JSON_TYPE.equals(type) && !IngestHttpApi.NDJSON.equals(type)) {
            answers.error(
                    ctx,
                    415,
                    "Unsupported Content-Type '" + ctx.request().getHeader("Content-Type")
                            + "': use application/json (an event or an array of events) or application/x-ndjson");
            return;
        }
        String length = ctx.request().getHeader("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.trim()) > maxRequestBytes) {
                    answers.error(
                            ctx,
                            413,
                            "Body of " + length + " bytes is larger than the limit of " + maxRequestBytes + " bytes");
                    return;
                }
            } catch (NumberFormatException ignored) {
                // the HTTP codec rejects a bad Content-Length itself
            }
        }
        ctx.next();
    }

    /**
     * Reads the body after authentication and the header checks (Vert.x's BodyHandler would read
     * it before them), up to the byte limit: past it, 413 at once, without reading the rest.
     */
    void readBody(RoutingContext ctx, BiConsumer<RoutingContext, byte[]> then) {
        HttpServerRequest request = ctx.request();
        Buffer body = Buffer.buffer();
        boolean[] refused = {false};
        long[] held = {0};
        Runnable release = () -> {
            receiving.addAndGet(-held[0]);
            held[0] = 0;
        };
        request.handler(chunk -> {
            if (refused[0]) {
                return;
            }
            if (body.length() + chunk.length() > maxRequestBytes) {
                refused[0] = true;
                release.run();
                metrics.records("http", "rejected", "too_large", 1);
                ctx.response().putHeader("Connection", "close");
                answers.error(ctx, 413, "Body larger than the limit of " + maxRequestBytes + " bytes");
                return;
            }
            long now = receiving.addAndGet(chunk.length());
            held[0] += chunk.length();
            if (now > limiter.capacity()) {
                refused[0] = true;
                release.run();
                metrics.records("http", "rejected", "overloaded", 1);
                ctx.response().putHeader("Retry-After", "1").putHeader("Connection", "close");
                answers.error(
                        ctx,
                        503,
                        "Request bodies being received hold more than the gateway's bound of " + limiter.capacity()
                                + " bytes (--max-in-flight-bytes); nothing of this request was taken: resend it");
                return;
            }
            body.appendBuffer(chunk);
        });
        request.exceptionHandler(e -> {
            refused[0] = true;
            release.run();
        });
        request.endHandler(v -> {
            release.run();
            if (!refused[0]) {
                then.accept(ctx, body.getBytes());
            }
        });
        request.resume();
    }

    static String baseType(String contentType) {
        return contentType == null ? "" : contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    }
}
