package dev.strata.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * A client of the Confluent Schema Registry REST API, with caches: a schema id, once known, is
 * never asked for again. Works against Strata's registry, Confluent Schema Registry, Apicurio's
 * ccompat API and Karapace alike; only the URL changes.
 *
 * <p>Thread-safe. Several comma-separated URLs may be given; a request that cannot reach one
 * tries the next.
 */
public class SchemaRegistryClient {

    /** The content type of the registry API. */
    public static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<URI> baseUris;
    private final HttpClient http;
    private final Duration requestTimeout;
    /** Sent as {@code Authorization: Bearer}: a registry whose writes need a token takes it. */
    private final Optional<String> bearerToken;

    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
    /** (subject, schema) to id: registering or looking up the same schema costs one request. */
    private final Map<SubjectSchema, Integer> idsBySubjectSchema = new ConcurrentHashMap<>();

    private record SubjectSchema(String subject, Schema schema) {}

    /** A registered version of a subject. */
    public record SubjectVersion(String subject, int version, int id, Schema schema) {}

    public SchemaRegistryClient(String urls) {
        this(urls, Duration.ofSeconds(10));
    }

    public SchemaRegistryClient(String urls, Duration requestTimeout) {
        this(urls, requestTimeout, Optional.empty());
    }

    /** A client that sends {@code bearerToken}, if given, with every request (registries whose writes need one). */
    public SchemaRegistryClient(String urls, Duration requestTimeout, Optional<String> bearerToken) {
        Objects.requireNonNull(urls, "schema registry url");
        this.bearerToken = bearerToken.map(String::strip).filter(t -> !t.isEmpty());
        List<URI> uris = new ArrayList<>();
        for (String url : urls.split(",")) {
            String trimmed = url.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            URI uri = URI.create(trimmed.endsWith("/") ? trimmed : trimmed + "/");
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
                throw new IllegalArgumentException(
                        "schema registry url must be http:// or https://, got '" + trimmed + "'");
            }
            uris.add(uri);
        }
        if (uris.isEmpty()) {
            throw new IllegalArgumentException("schema registry url is empty: set it to e.g. http://localhost:8081");
        }
        this.baseUris = List.copyOf(uris);
        this.requestTimeout = requestTimeout;
        this.http = HttpClient.newBuilder().connectTimeout(requestTimeout).build();
    }

    /**
     * Registers {@code schema} under {@code subject} (or finds it already registered there) and
     * returns its global id.
     */
    public int register(String subject, Schema schema) {
        SubjectSchema key = new SubjectSchema(subject, schema);
        Integer cached = idsBySubjectSchema.get(key);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = send("POST", "subjects/" + encode(subject) + "/versions", schemaBody(schema));
        int id = answer.path("id").asInt();
        idsBySubjectSchema.put(key, id);
        schemasById.putIfAbsent(id, schema);
        return id;
    }

    /** Looks up the id of {@code schema} under {@code subject} without registering it. */
    public int lookupId(String subject, Schema schema) {
        SubjectSchema key = new SubjectSchema(subject, schema);
        Integer cached = idsBySubjectSchema.get(key);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = send("POST", "subjects/" + encode(subject), schemaBody(schema));
        int id = answer.path("id").asInt();
        idsBySubjectSchema.put(key, id);
        schemasById.putIfAbsent(id, schema);
        return id;
    }

    /** The schema with global id {@code id}. */
    public Schema schemaById(int id) {
        Schema cached = schemasById.get(id);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = send("GET", "schemas/ids/" + id, null);
        Schema schema = parse(answer.path("schema").asText());
        Schema previous = schemasById.putIfAbsent(id, schema);
        return previous != null ? previous : schema;
    }

    /** The latest version registered under {@code subject}. Not cached. */
    public SubjectVersion latestVersion(String subject) {
        JsonNode answer = send("GET", "subjects/" + encode(subject) + "/versions/latest", null);
        return new SubjectVersion(
                answer.path("subject").asText(),
                answer.path("version").asInt(),
                answer.path("id").asInt(),
                parse(answer.path("schema").asText()));
    }

    /** All subjects. Not cached. */
    public List<String> subjects() {
        JsonNode answer = send("GET", "subjects", null);
        List<String> subjects = new ArrayList<>();
        answer.forEach(node -> subjects.add(node.asText()));
        return subjects;
    }

    private static ObjectNode schemaBody(Schema schema) {
        ObjectNode body = JSON.createObjectNode();
        body.put("schema", schema.toString());
        return body;
    }

    private static Schema parse(String text) {
        return new Schema.Parser().parse(text);
    }

    private static String encode(String pathSegment) {
        return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private JsonNode send(String method, String path, JsonNode body) {
        SchemaRegistryException lastFailure = null;
        for (URI base : baseUris) {
            HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path))
                    .timeout(requestTimeout)
                    .header("Accept", CONTENT_TYPE + ", application/json;q=0.5");
            bearerToken.ifPresent(token -> request.header("Authorization", "Bearer " + token));
            if (body != null) {
                request.header("Content-Type", CONTENT_TYPE)
                        .method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
            } else {
                request.method(method, HttpRequest.BodyPublishers.noBody());
            }
            HttpResponse<String> response;
            try {
                response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                lastFailure = new SchemaRegistryException("schema registry at " + base + " unreachable: " + e, e);
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SchemaRegistryException("interrupted calling the schema registry", e);
            }
            return answer(method, base.resolve(path), response);
        }
        throw Objects.requireNonNull(lastFailure);
    }

    private static JsonNode answer(String method, URI uri, HttpResponse<String> response) {
        JsonNode json;
        try {
            json = response.body().isEmpty() ? JSON.nullNode() : JSON.readTree(response.body());
        } catch (IOException e) {
            throw new SchemaRegistryException(
                    response.statusCode(),
                    0,
                    method + " " + uri + " answered " + response.statusCode() + " with a body that is not JSON");
        }
        if (response.statusCode() / 100 != 2) {
            int code = json.path("error_code").asInt(response.statusCode());
            String message = json.path("message").asText(response.body());
            throw new SchemaRegistryException(response.statusCode(), code, message);
        }
        return json;
    }
}
