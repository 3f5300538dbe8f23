package dev.strata.gateway.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.strata.gateway.metrics.GatewayMetrics;
import dev.strata.schemas.http.ErrorBody;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** How the gateway's HTTP API answers: JSON, one error body for every refusal, each answer counted by status. */
final class HttpAnswers {

    private static final Logger LOG = LoggerFactory.getLogger(HttpAnswers.class);

    private final GatewayMetrics metrics;

    HttpAnswers(GatewayMetrics metrics) {
        this.metrics = metrics;
    }

    void failure(RoutingContext ctx) {
        int status = ctx.statusCode();
        if (ctx.failure() != null) {
            LOG.error(
                    "Request {} {} failed",
                    ctx.request().method(),
                    ctx.request().path(),
                    ctx.failure());
            error(ctx, 500, "Internal error: " + ctx.failure());
        } else {
            error(ctx, status < 400 ? 500 : status, "Request failed with HTTP " + status);
        }
    }

    void error(RoutingContext ctx, int status, String message) {
        json(ctx, status, ErrorBody.of(status, message));
    }

    /** Answers {@code body} (a Jackson tree or a record) as JSON. */
    void json(RoutingContext ctx, int status, Object body) {
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.closed()) {
            return;
        }
        metrics.request("http", status);
        String text;
        try {
            text = IngestHttpApi.JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        response.setStatusCode(status)
                .putHeader("Content-Type", IngestHttpApi.JSON_TYPE)
                .end(text);
    }
}
