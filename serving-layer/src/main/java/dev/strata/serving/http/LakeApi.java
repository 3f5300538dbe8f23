package dev.strata.serving.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.strata.serving.lake.LakeCatalog;
import dev.strata.serving.lake.LakeSql;
import dev.strata.serving.query.BadRequest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Semaphore;

/**
 * The lake's part of the API: {@code GET /v1/catalog}, {@code GET /v1/catalog/{dataset}} and
 * {@code POST /v1/sql} (a read-only DuckDB query over the lake's tables; body
 * {@code {"sql": "SELECT …", "limit": 100}} or the SQL as {@code text/plain}). At most
 * {@code concurrentQueries} queries run at once; more are answered 429.
 */
public final class LakeApi {

    static final int MAX_SQL_BYTES = 64 * 1024;

    private final LakeCatalog catalog;
    private final LakeSql sql;
    private final Semaphore running;
    private final PrometheusMeterRegistry metrics;

    public LakeApi(LakeCatalog catalog, LakeSql sql, int concurrentQueries, PrometheusMeterRegistry metrics) {
        this.catalog = catalog;
        this.sql = sql;
        this.running = new Semaphore(concurrentQueries);
        this.metrics = metrics;
    }

    /** Adds the routes; call after the {@code /v1/*} authentication handler. */
    void routes(Router router) {
        router.get("/v1/catalog").handler(ctx -> blocking(ctx, catalog::all));
        router.get("/v1/catalog/:dataset")
                .handler(ctx -> blocking(
                        ctx,
                        () -> catalog.one(ctx.pathParam("dataset"))
                                .orElseThrow(() -> new BadRequest(
                                        404,
                                        "No dataset or view named '" + ctx.pathParam("dataset")
                                                + "'; GET /v1/catalog lists them"))));
        router.post("/v1/sql").handler(BodyHandler.create(false).setBodyLimit(MAX_SQL_BYTES));
        router.post("/v1/sql").handler(this::sql);
    }

    private void sql(RoutingContext ctx) {
        String query;
        int limit = 0;
        String type = String.valueOf(ctx.request().getHeader("Content-Type"));
        try {
            if (type.startsWith("application/json")) {
                JsonNode body = Rendered.JSON.readTree(ctx.body().asString());
                if (body == null || !body.path("sql").isTextual()) {
                    count("invalid");
                    error(ctx, 400, "The body must be {\"sql\": \"SELECT …\"} (optionally \"limit\": N)");
                    return;
                }
                query = body.get("sql").asText();
                limit = body.path("limit").asInt(0);
            } else {
                query = ctx.body().asString();
            }
        } catch (Exception e) {
            count("invalid");
            error(ctx, 400, "The body is not JSON: " + e.getMessage());
            return;
        }
        if (!running.tryAcquire()) {
            count("busy");
            error(ctx, 429, "Too many SQL queries are running; try again shortly");
            return;
        }
        String sqlText = query;
        int rowLimit = limit;
        ctx.vertx()
                .<LakeSql.Result>executeBlocking(
                        () -> {
                            try {
                                return sql.query(sqlText, rowLimit);
                            } finally {
                                running.release();
                            }
                        },
                        false)
                .onComplete(done -> {
                    if (done.succeeded()) {
                        LakeSql.Result r = done.result();
                        List<SqlAnswer.Column> columns = new ArrayList<>();
                        for (int i = 0; i < r.columns().size(); i++) {
                            columns.add(new SqlAnswer.Column(
                                    r.columns().get(i), r.types().get(i)));
                        }
                        count("ok");
                        HttpJson.send(
                                ctx,
                                200,
                                new SqlAnswer(
                                        columns,
                                        r.rows(),
                                        r.rows().size(),
                                        r.truncated(),
                                        rowLimit <= 0 ? sql.maxRows() : Math.min(rowLimit, sql.maxRows()),
                                        r.millis()));
                        return;
                    }
                    Throwable cause = done.cause();
                    if (cause instanceof LakeSql.Refused) {
                        count("refused");
                        error(ctx, 403, cause.getMessage());
                    } else if (cause instanceof LakeSql.Invalid) {
                        count("invalid");
                        error(ctx, 400, cause.getMessage());
                    } else if (cause instanceof LakeSql.TooLarge) {
                        count("too_large");
                        error(ctx, 413, cause.getMessage());
                    } else if (cause instanceof LakeSql.TimedOut) {
                        count("timeout");
                        error(ctx, 408, cause.getMessage());
                    } else {
                        count("failed");
                        error(ctx, 500, "The query failed: " + cause.getMessage());
                    }
                });
    }

    /** The answer of {@code POST /v1/sql}: the columns with their types, the rows, and whether the limit cut them. */
    record SqlAnswer(
            List<Column> columns,
            List<List<Object>> rows,
            int rowCount,
            boolean truncated,
            int limit,
            long elapsedMillis) {
        record Column(String name, String type) {}
    }

    private void blocking(RoutingContext ctx, Callable<ObjectNode> answer) {
        ctx.vertx().<ObjectNode>executeBlocking(answer::call, false).onComplete(done -> {
            if (done.succeeded()) {
                HttpJson.send(ctx, 200, done.result());
            } else if (done.cause() instanceof BadRequest bad) {
                error(ctx, bad.status(), bad.getMessage());
            } else {
                error(ctx, 503, "The catalog could not be read: " + done.cause().getMessage());
            }
        });
    }

    private void count(String outcome) {
        Counter.builder("strata_serving_sql_queries_total")
                .description("SQL queries over the lake, by outcome")
                .tags(List.of(Tag.of("outcome", outcome)))
                .register(metrics)
                .increment();
    }

    private static void error(RoutingContext ctx, int status, String message) {
        HttpJson.error(ctx, status, message);
    }
}
