package dev.strata.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.schemas.Event;
import dev.strata.testing.KafkaBrokerExtension;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** HTTP ingest against a real broker and registry, with a real HTTP client. */
class GatewayHttpIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final ObjectMapper JSON = new ObjectMapper();
    static final Instant LATE =
            Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).minus(java.time.Duration.ofDays(2));

    @TempDir
    static Path dir;

    static GatewayFixture fixture;

    @BeforeAll
    static void start() throws Exception {
        fixture = GatewayFixture.start(KAFKA, dir, "http", c -> c);
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    /** POSTs two records without ids, with {@code key} as the Idempotency-Key (none if null); answers their ids. */
    List<String> idsOfTwoWithoutIds(String key) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(fixture.gateway.httpUrl() + "/v1/events"))
                .header("Authorization", "Bearer " + GatewayFixture.ALL_TOKEN)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "[{\"source\":\"retrier\",\"type\":\"t\"},{\"source\":\"retrier\",\"type\":\"t\"}]"));
        if (key != null) {
            request.header("Idempotency-Key", key);
        }
        HttpResponse<String> response = fixture.send(request.build());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        List<String> ids = new java.util.ArrayList<>();
        JSON.readTree(response.body())
                .get("results")
                .forEach(r -> ids.add(r.get("id").asText()));
        return ids;
    }

    @Test
    void anIdempotencyKeyGivesRecordsWithoutAnIdTheSameIdsWhenResent() throws Exception {
        List<String> first = idsOfTwoWithoutIds("order-batch-17");
        List<String> resent = idsOfTwoWithoutIds("order-batch-17");
        assertThat(first).hasSize(2).doesNotHaveDuplicates();
        assertThat(resent)
                .as("the same request with the same key: the same ids")
                .isEqualTo(first);
        assertThat(idsOfTwoWithoutIds("order-batch-18")).as("another key").doesNotContainAnyElementsOf(first);
        assertThat(idsOfTwoWithoutIds(null)).as("no key: fresh ids").doesNotContainAnyElementsOf(first);
        HttpResponse<String> badKey =
                fixture.send(HttpRequest.newBuilder(URI.create(fixture.gateway.httpUrl() + "/v1/events"))
                        .header("Authorization", "Bearer " + GatewayFixture.ALL_TOKEN)
                        .header("Content-Type", "application/json")
                        .header("Idempotency-Key", "k".repeat(257))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"source\":\"retrier\",\"type\":\"t\"}"))
                        .build());
        assertThat(badKey.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(badKey.body()).get("message").asText())
                .isEqualTo("Idempotency-Key must be 1 to 256 visible ASCII characters");
    }

    @Test
    void answersWithPartitionAndOffsetOfWhatKafkaStored() throws Exception {
        // Two days late: within --max-event-age.
        HttpResponse<String> response = fixture.post("""
                {"id":"http-one-1","source":"boiler-1","type":"temperature","time":"%s","value":71.5,
                 "attributes":{"site":"north"}}""".formatted(LATE));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode result = JSON.readTree(response.body()).get("results").get(0);
        assertThat(result.get("id").asText()).isEqualTo("http-one-1");
        int partition = result.get("partition").asInt();
        long offset = result.get("offset").asLong();

        ConsumerRecord<String, Event> stored = fixture.events().stream()
                .filter(r -> r.partition() == partition && r.offset() == offset)
                .findFirst()
                .orElseThrow();
        assertThat(stored.key()).isEqualTo("boiler-1");
        assertThat(stored.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME);
        Event event = stored.value();
        assertThat(event.getId()).isEqualTo("http-one-1");
        assertThat(event.getTime()).isEqualTo(LATE);
        assertThat(event.getValue()).isEqualTo(71.5);
        assertThat(event.getAttributes()).isEqualTo(Map.of("site", "north"));
        assertThat(event.getIngestTime()).isAfter(LATE);
    }

    @Test
    void acceptsArraysAndNdjsonWithOneResultPerRecordAndAssignsMissingIds() throws Exception {
        HttpResponse<String> array = fixture.post("""
                [{"source":"array-src","type":"t","value":1},{"source":"array-src","type":"t","value":2}]""");
        byte[] ndjson =
                "{\"source\":\"nd-src\",\"type\":\"t\",\"id\":\"nd-1\"}\n{\"source\":\"nd-src\",\"type\":\"t\",\"id\":\"nd-2\"}\n"
                        .getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> nd = fixture.post(GatewayFixture.ALL_TOKEN, "application/x-ndjson", ndjson);

        assertThat(array.statusCode()).as(array.body()).isEqualTo(200);
        assertThat(nd.statusCode()).as(nd.body()).isEqualTo(200);
        List<String> assigned = ids(array);
        assertThat(assigned).hasSize(2).allSatisfy(id -> assertThat(id).hasSize(36));
        assertThat(ids(nd)).containsExactly("nd-1", "nd-2");
        List<String> stored =
                fixture.events().stream().map(r -> r.value().getId()).collect(Collectors.toList());
        assertThat(stored).containsAll(assigned).contains("nd-1", "nd-2");
    }

    @Test
    void healthReadinessAndMetricsAreServed() throws Exception {
        fixture.post("{\"source\":\"metrics-src\",\"type\":\"t\"}");

        assertThat(fixture.get("/health").statusCode()).isEqualTo(200);
        HttpResponse<String> ready = fixture.get("/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(ready.body()).get("kafka").asText()).isEqualTo("reachable");
        String metrics = fixture.get("/metrics").body();
        assertThat(metrics)
                .contains("strata_gateway_records_total{outcome=\"accepted\",protocol=\"http\",reason=\"ok\"}");
        assertThat(metrics).contains("strata_gateway_produce_latency_seconds_bucket");
        assertThat(metrics).contains("strata_gateway_in_flight_bytes");
    }

    @Test
    void theNoOpReferenceTakesTheSameTokenAndBodyAndAppendsNothing() throws Exception {
        long before = fixture.eventsAppended();
        byte[] body = "{\"source\":\"noop-src\",\"type\":\"t\"}".getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> ok = fixture.send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(fixture.gateway.httpUrl() + "/v1/noop"))
                        .header("Authorization", "Bearer " + GatewayFixture.ALL_TOKEN)
                        .header("Content-Type", "application/json")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body))
                        .build());
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).isEqualTo("{}");
        HttpResponse<String> anonymous = fixture.send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(fixture.gateway.httpUrl() + "/v1/noop"))
                        .header("Content-Type", "application/json")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body))
                        .build());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(fixture.eventsAppended()).isEqualTo(before);
    }

    static List<String> ids(HttpResponse<String> response) throws Exception {
        JsonNode results = JSON.readTree(response.body()).get("results");
        return StreamSupport.stream(results.spliterator(), false)
                .map(r -> r.get("id").asText())
                .toList();
    }
}
