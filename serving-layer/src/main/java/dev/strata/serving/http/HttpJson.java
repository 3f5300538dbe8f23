package dev.strata.serving.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.strata.schemas.http.ErrorBody;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

/** JSON answers of the serving layer's routes: a body serialized by Jackson, or the shared error body. */
final class HttpJson {

    private HttpJson() {}

    /** Answers {@code body}: an answer record, a Jackson tree, or JSON bytes already rendered. */
    static void send(RoutingContext ctx, int status, Object body) {
        if (ctx.response().ended()) {
            return;
        }
        byte[] bytes;
        try {
            bytes = body instanceof byte[] b ? b : Rendered.JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        ctx.response()
                .setStatusCode(status)
                .putHeader("Content-Type", "application/json")
                .end(Buffer.buffer(bytes));
    }

    static void error(RoutingContext ctx, int status, String message) {
        send(ctx, status, ErrorBody.of(status, message));
    }
}
