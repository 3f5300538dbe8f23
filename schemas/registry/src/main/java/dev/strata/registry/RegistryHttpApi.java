package dev.strata.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.strata.schemas.auth.TokenFile;
import dev.strata.schemas.http.ErrorBody;
import dev.strata.schemas.http.HttpGuard;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Confluent Schema Registry REST API over a {@link Registry}: enough of it that Confluent's own
 * serializers, deserializers and tools work unchanged. Unknown query parameters ({@code normalize},
 * {@code deleted}, {@code fetchMaxId}, {@code subject}, …) are tolerated.
 */
public final class RegistryHttpApi {

    public static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    /** Request content types Confluent's registry accepts. */
    private static final Set<String> ACCEPTED_TYPES =
            Set.of(CONTENT_TYPE, "application/vnd.schemaregistry+json", "application/json", "application/octet-stream");
    /** A schema request bigger than this is refused (Confluent's default is also a few MiB). */
    static final long MAX_BODY_BYTES = 4L * 1024 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(RegistryHttpApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Registry registry;
    private final SchemaStore store;
    private final Optional<TokenFile> writeTokens;

    /** @param writeTokens the tokens that may write (register, configure, delete); empty: anyone may */
    public RegistryHttpApi(Registry registry, Optional<TokenFile> writeTokens) {
        this.registry = registry;
        this.store = registry.store();
        this.writeTokens = writeTokens;
    }

    /** Starts an HTTP server on {@code host:port}; completes with the server once listening. */
    public Future<HttpServer> listen(Vertx vertx, String host, int port) {
        // Time limits on requests' heads and bodies, a bound on connections (HttpGuard).
        return new HttpGuard(HttpGuard.Limits.DEFAULTS)
                .create(vertx, new HttpServerOptions(), router(vertx))
                .listen(port, host);
    }

    Router router(Vertx vertx) {
        Router router = Router.router(vertx);
        router.route().handler(this::checkContentType);
        router.route().handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));

        router.get("/").handler(ctx -> ok(ctx, JSON.createObjectNode()));
        router.get("/health").handler(ctx -> ok(ctx, JSON.createObjectNode().put("status", "UP")));
        router.get("/schemas/types")
                .handler(ctx -> ok(ctx, JSON.createArrayNode().add("AVRO")));
        router.get("/mode").handler(ctx -> ok(ctx, JSON.createObjectNode().put("mode", "READWRITE")));

        router.get("/schemas/ids/:id").handler(read(this::schemaById));
        router.get("/schemas/ids/:id/schema").handler(ctx -> raw(ctx, store.schemaById(intParam(ctx, "id"))));
        router.get("/schemas/ids/:id/versions").handler(read(this::versionsOfId));

        router.get("/subjects").handler(read(ctx -> strings(store.subjects())));
        router.get("/subjects/:subject/versions").handler(read(ctx -> ints(store.versions(ctx.pathParam("subject")))));
        router.get("/subjects/:subject/versions/:version").handler(read(this::version));
        router.get("/subjects/:subject/versions/:version/schema")
                .handler(ctx -> raw(
                        ctx,
                        store.version(ctx.pathParam("subject"), versionParam(ctx))
                                .schema()));
        router.post("/subjects/:subject/versions").handler(write(this::register, this::registered));
        router.post("/subjects/:subject").handler(read(this::lookup));

        router.get("/config").handler(read(ctx -> level("compatibilityLevel", store.globalLevel())));
        router.put("/config").handler(write(ctx -> level("compatibility", registry.setLevel(null, levelBody(ctx)))));
        router.get("/config/:subject").handler(read(this::subjectConfig));
        router.put("/config/:subject")
                .handler(write(
                        ctx -> level("compatibility", registry.setLevel(ctx.pathParam("subject"), levelBody(ctx)))));
        router.delete("/config/:subject")
                .handler(write(ctx -> level("compatibilityLevel", registry.deleteLevel(ctx.pathParam("subject")))));

        router.post("/compatibility/subjects/:subject/versions/:version").handler(read(this::compatibility));
        router.post("/compatibility/subjects/:subject/versions").handler(read(this::compatibility));

        router.route().last().handler(ctx -> error(ctx, new RegistryError(404, 404, "HTTP 404 Not Found")));
        router.route().failureHandler(this::failure);
        return router;
    }

    // ---- endpoints ----

    private JsonNode schemaById(RoutingContext ctx) {
        return JSON.createObjectNode().put("schema", store.schemaById(intParam(ctx, "id")));
    }

    private JsonNode versionsOfId(RoutingContext ctx) {
        ArrayNode uses = JSON.createArrayNode();
        for (SchemaStore.Version v : store.versionsOfId(intParam(ctx, "id"))) {
            uses.addObject().put("subject", v.subject()).put("version", v.version());
        }
        return uses;
    }

    private JsonNode version(RoutingContext ctx) {
        return versionJson(store.version(ctx.pathParam("subject"), versionParam(ctx)));
    }

    private JsonNode register(RoutingContext ctx) {
        String schema = schemaBody(ctx);
        int id = registry.register(ctx.pathParam("subject"), schema);
        return JSON.createObjectNode().put("id", id);
    }

    /**
     * Without a token, registering a schema the subject already has changes nothing: it answers the
     * id, as a lookup would, so Confluent serializers that auto-register keep working for readers
     * and producers of known schemas.
     */
    private Optional<JsonNode> registered(RoutingContext ctx) {
        try {
            int id = store.lookup(ctx.pathParam("subject"), schemaBody(ctx)).id();
            return Optional.of(JSON.createObjectNode().put("id", id));
        } catch (RegistryError notYet) {
            return Optional.empty();
        }
    }

    private JsonNode lookup(RoutingContext ctx) {
        String subject = ctx.pathParam("subject");
        String schema = schemaBody(ctx);
        return versionJson(store.lookup(subject, schema));
    }

    private JsonNode subjectConfig(RoutingContext ctx) {
        String subject = ctx.pathParam("subject");
        boolean defaultToGlobal = "true".equalsIgnoreCase(ctx.queryParams().get("defaultToGlobal"));
        CompatibilityLevel level = store.subjectLevel(subject).orElseGet(() -> {
            if (defaultToGlobal) {
                return store.globalLevel();
            }
            throw RegistryError.subjectConfigNotFound(subject);
        });
        return level("compatibilityLevel", level);
    }

    private JsonNode compatibility(RoutingContext ctx) {
        String subject = ctx.pathParam("subject");
        String schema = schemaBody(ctx);
        Integer version = ctx.pathParam("version") == null ? null : versionParam(ctx);
        List<String> problems = store.checkCompatibility(subject, version, schema);
        ObjectNode answer = JSON.createObjectNode().put("is_compatible", problems.isEmpty());
        if ("true".equalsIgnoreCase(ctx.queryParams().get("verbose"))) {
            answer.set("messages", strings(problems));
        }
        return answer;
    }

    // ---- request parsing ----

    private static String schemaBody(RoutingContext ctx) {
        JsonNode body = jsonBody(ctx);
        String type = body.path("schemaType").asText("AVRO");
        if (!"AVRO".equalsIgnoreCase(type)) {
            throw RegistryError.invalidSchema(
                    "Invalid schema type " + type + ": this registry stores AVRO schemas only");
        }
        JsonNode references = body.path("references");
        if (references.isArray() && !references.isEmpty()) {
            throw RegistryError.invalidSchema("Invalid schema: schema references are not supported");
        }
        JsonNode schema = body.get("schema");
        if (schema == null || !schema.isTextual()) {
            throw RegistryError.invalidSchema("Invalid schema: the body needs a \"schema\" string field");
        }
        return schema.asText();
    }

    private static CompatibilityLevel levelBody(RoutingContext ctx) {
        JsonNode body = jsonBody(ctx);
        return CompatibilityLevel.parse(body.path("compatibility").asText(null));
    }

    private static JsonNode jsonBody(RoutingContext ctx) {
        String text = ctx.body().asString();
        if (text == null || text.isBlank()) {
            throw new RegistryError(400, 400, "Request body is empty: a JSON object is expected");
        }
        try {
            JsonNode body = JSON.readTree(text);
            if (!body.isObject()) {
                throw new RegistryError(400, 400, "Request body must be a JSON object");
            }
            return body;
        } catch (JsonProcessingException e) {
            throw new RegistryError(400, 400, "Unrecognized JSON in the request body: " + e.getOriginalMessage());
        }
    }

    private static int intParam(RoutingContext ctx, String name) {
        String text = ctx.pathParam(name);
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new RegistryError(404, 40403, "Schema " + text + " not found.");
        }
    }

    /** A version path segment: a positive int, {@code latest} or {@code -1} (both the latest). */
    private static int versionParam(RoutingContext ctx) {
        String text = ctx.pathParam("version");
        if ("latest".equalsIgnoreCase(text)) {
            return -1;
        }
        try {
            int version = Integer.parseInt(text);
            if (version == -1 || version >= 1) {
                return version;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw RegistryError.invalidVersion(text);
    }

    // ---- answers ----

    private void checkContentType(RoutingContext ctx) {
        String type = ctx.request().getHeader("Content-Type");
        if (type != null && ctx.request().method().name().matches("POST|PUT")) {
            String base = type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
            if (!ACCEPTED_TYPES.contains(base)) {
                error(ctx, new RegistryError(415, 415, "HTTP 415 Unsupported Media Type: " + type));
                return;
            }
        }
        ctx.next();
    }

    private interface Endpoint {
        JsonNode answer(RoutingContext ctx);
    }

    /** An endpoint answered from memory, on the event loop. */
    private Handler<RoutingContext> read(Endpoint endpoint) {
        return ctx -> ok(ctx, endpoint.answer(ctx));
    }

    /**
     * An endpoint that writes to Kafka: with write tokens, only for a request bearing one; run off
     * the event loop, answered when durable.
     */
    private Handler<RoutingContext> write(Endpoint endpoint) {
        return write(endpoint, ctx -> Optional.empty());
    }

    /** @param unchanged the answer, without a token, to a request that would change nothing */
    private Handler<RoutingContext> write(Endpoint endpoint, Function<RoutingContext, Optional<JsonNode>> unchanged) {
        return ctx -> {
            if (writeTokens.isPresent()) {
                Optional<String> token = TokenFile.bearer(ctx.request().getHeader("Authorization"));
                if (token.isEmpty() || writeTokens.get().lookup(token.get()).isEmpty()) {
                    Optional<JsonNode> answer = unchanged.apply(ctx);
                    if (answer.isPresent()) {
                        ok(ctx, answer.get());
                        return;
                    }
                    ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"strata-registry\"");
                    error(ctx, RegistryError.unauthorized(token.isEmpty()));
                    return;
                }
            }
            Callable<JsonNode> work = () -> endpoint.answer(ctx);
            ctx.vertx()
                    .executeBlocking(work, false)
                    .onSuccess(answer -> ok(ctx, answer))
                    .onFailure(ctx::fail);
        };
    }

    private static ArrayNode strings(List<String> values) {
        ArrayNode array = JSON.createArrayNode();
        values.forEach(array::add);
        return array;
    }

    private static ArrayNode ints(List<Integer> values) {
        ArrayNode array = JSON.createArrayNode();
        values.forEach(array::add);
        return array;
    }

    private static ObjectNode level(String field, CompatibilityLevel level) {
        return JSON.createObjectNode().put(field, level.name());
    }

    private static ObjectNode versionJson(SchemaStore.Version v) {
        return JSON.createObjectNode()
                .put("subject", v.subject())
                .put("version", v.version())
                .put("id", v.id())
                .put("schema", v.schema());
    }

    private static void ok(RoutingContext ctx, JsonNode body) {
        respond(ctx, 200, body.toString());
    }

    private static void raw(RoutingContext ctx, String schema) {
        respond(ctx, 200, schema);
    }

    private void failure(RoutingContext ctx) {
        Throwable failure = ctx.failure();
        if (failure instanceof RegistryError e) {
            error(ctx, e);
        } else if (failure == null) {
            int status = ctx.statusCode();
            String reason = status == 413 ? "Request body larger than " + MAX_BODY_BYTES + " bytes" : "HTTP " + status;
            error(ctx, new RegistryError(status, status, reason));
        } else {
            LOG.error(
                    "Request {} {} failed",
                    ctx.request().method(),
                    ctx.request().path(),
                    failure);
            error(ctx, new RegistryError(500, 50001, "Internal error: " + failure));
        }
    }

    private static void error(RoutingContext ctx, RegistryError e) {
        respond(ctx, e.status(), ErrorBody.of(e.errorCode(), e.getMessage()).json());
    }

    private static void respond(RoutingContext ctx, int status, String body) {
        HttpServerResponse response = ctx.response();
        if (response.ended()) {
            return;
        }
        response.setStatusCode(status).putHeader("Content-Type", CONTENT_TYPE).end(body);
    }
}
