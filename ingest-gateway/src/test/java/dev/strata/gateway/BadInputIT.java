package dev.strata.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import com.hivemq.client.mqtt.mqtt5.message.publish.puback.Mqtt5PubAck;
import dev.strata.gateway.kafka.EventAppender;
import dev.strata.testing.KafkaBrokerExtension;
import dev.strata.testing.Waits;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input, each with its exact answer: HTTP status, error body and the failing field; MQTT 5
 * reason codes; MQTT 3.1.1 and QoS 0 dead letters with their reason. Nothing bad is written to
 * {@code events}, and the gateway keeps serving.
 */
class BadInputIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final ObjectMapper JSON = new ObjectMapper();
    static final int MAX_RECORDS = 5;
    static final int MAX_BYTES = 4096;
    static final int MAX_MQTT_BYTES = 1024;
    static final String ALL = GatewayFixture.ALL_TOKEN;
    static final String JSON_TYPE = "application/json";

    @TempDir
    static Path dir;

    static GatewayFixture fixture;

    @BeforeAll
    static void start() throws Exception {
        fixture = GatewayFixture.start(
                KAFKA,
                dir,
                "bad",
                c -> c.maxRecordsPerRequest(MAX_RECORDS)
                        .maxRequestBytes(MAX_BYTES)
                        .maxMqttMessageBytes(MAX_MQTT_BYTES));
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    /** One bad HTTP request and its exact answer; field and reason describe the first validation error. */
    record HttpCase(
            String name,
            String token,
            String contentType,
            byte[] body,
            int status,
            String message,
            String field,
            String reason) {
        @Override
        public String toString() {
            return name;
        }
    }

    static HttpCase http(String name, String body, int status, String message) {
        return new HttpCase(name, ALL, JSON_TYPE, body.getBytes(StandardCharsets.UTF_8), status, message, null, null);
    }

    static HttpCase invalid(String name, String body, String field, String reason) {
        return new HttpCase(
                name,
                ALL,
                JSON_TYPE,
                body.getBytes(StandardCharsets.UTF_8),
                422,
                "record(s) invalid; nothing was written",
                field,
                reason);
    }

    static Stream<Arguments> httpCases() {
        String future = Instant.now().plus(Duration.ofHours(1)).toString();
        byte[] badUtf8 = {'{', '"', 's', 'o', 'u', 'r', 'c', 'e', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        String big = "["
                + ("{\"source\":\"s\",\"type\":\"t\",\"attributes\":{\"pad\":\"" + "x".repeat(900) + "\"}},").repeat(5);
        big = big.substring(0, big.length() - 1) + "]";
        return Stream.of(
                        http("truncated JSON", "{\"source\":", 400, "Body is not valid JSON"),
                        new HttpCase(
                                "invalid UTF-8", ALL, JSON_TYPE, badUtf8, 400, "Body is not valid JSON", null, null),
                        http("empty body", "", 400, "Body is empty"),
                        http("empty array", "[]", 400, "No records"),
                        http(
                                "duplicate key",
                                "{\"source\":\"a\",\"source\":\"b\",\"type\":\"t\"}",
                                400,
                                "Body is not valid JSON: Duplicate field 'source'"),
                        http("trailing garbage", "{\"source\":\"a\",\"type\":\"t\"} x", 400, "Body is not valid JSON"),
                        invalid("a string, not an object", "\"hello\"", null, "must be a JSON object, not a string"),
                        invalid("array of numbers", "[1]", null, "must be a JSON object, not a number"),
                        invalid("missing source", "{\"type\":\"t\"}", "source", "is required"),
                        invalid("missing type", "{\"source\":\"s\"}", "type", "is required"),
                        invalid(
                                "source is a number",
                                "{\"source\":7,\"type\":\"t\"}",
                                "source",
                                "must be a string, not a number"),
                        invalid("empty source", "{\"source\":\"\",\"type\":\"t\"}", "source", "must not be empty"),
                        invalid(
                                "source too long",
                                "{\"source\":\"" + "s".repeat(257) + "\",\"type\":\"t\"}",
                                "source",
                                "is longer than 256 characters"),
                        invalid(
                                "control character in source",
                                "{\"source\":\"a\\u0001b\",\"type\":\"t\"}",
                                "source",
                                "contains a control character"),
                        invalid(
                                "id is an object",
                                "{\"id\":{},\"source\":\"s\",\"type\":\"t\"}",
                                "id",
                                "must be a string, not an object"),
                        invalid(
                                "time in the future",
                                "{\"source\":\"s\",\"type\":\"t\",\"time\":\"" + future + "\"}",
                                "time",
                                "is more than PT5M in the future"),
                        invalid(
                                "time in seconds, not milliseconds (January 1970)",
                                "{\"source\":\"s\",\"type\":\"t\",\"time\":1764000000}",
                                "time",
                                "is more than P30D in the past (1970-01-21T10:00:00Z"),
                        invalid(
                                "time older than the maximum event age",
                                "{\"source\":\"s\",\"type\":\"t\",\"time\":\""
                                        + Instant.now()
                                                .minus(Duration.ofDays(31))
                                                .toString() + "\"}",
                                "time",
                                "is more than P30D in the past"),
                        invalid(
                                "id with an unpaired surrogate",
                                "{\"id\":\"a\\ud800\",\"source\":\"s\",\"type\":\"t\"}",
                                "id",
                                "contains an unpaired UTF-16 surrogate"),
                        invalid(
                                "attribute value with a lone low surrogate",
                                "{\"source\":\"s\",\"type\":\"t\",\"attributes\":{\"k\":\"\\udc00x\"}}",
                                "attributes.k",
                                "contains an unpaired UTF-16 surrogate"),
                        invalid(
                                "time not ISO-8601",
                                "{\"source\":\"s\",\"type\":\"t\",\"time\":\"yesterday\"}",
                                "time",
                                "is not an ISO-8601 date-time"),
                        invalid(
                                "time before 1970",
                                "{\"source\":\"s\",\"type\":\"t\",\"time\":-5}",
                                "time",
                                "must not be before 1970"),
                        invalid(
                                "time is a boolean",
                                "{\"source\":\"s\",\"type\":\"t\",\"time\":true}",
                                "time",
                                "must be epoch milliseconds (an integer) or an ISO-8601 string, not a boolean"),
                        invalid(
                                "time is fractional",
                                "{\"source\":\"s\",\"type\":\"t\",\"time\":1.5}",
                                "time",
                                "must be epoch milliseconds"),
                        invalid(
                                "value is a string",
                                "{\"source\":\"s\",\"type\":\"t\",\"value\":\"12\"}",
                                "value",
                                "must be a number or null, not a string"),
                        invalid(
                                "value out of range",
                                "{\"source\":\"s\",\"type\":\"t\",\"value\":1e400}",
                                "value",
                                "is out of the range of a double"),
                        invalid(
                                "attributes not an object",
                                "{\"source\":\"s\",\"type\":\"t\",\"attributes\":[1]}",
                                "attributes",
                                "must be an object of strings, not an array"),
                        invalid(
                                "attribute value a number",
                                "{\"source\":\"s\",\"type\":\"t\",\"attributes\":{\"floor\":3}}",
                                "attributes.floor",
                                "must be a string, not a number"),
                        invalid(
                                "unknown field",
                                "{\"sorce\":\"s\",\"source\":\"s\",\"type\":\"t\"}",
                                "sorce",
                                "is not a field of an event"),
                        invalid(
                                "client sets ingestTime",
                                "{\"source\":\"s\",\"type\":\"t\",\"ingestTime\":1}",
                                "ingestTime",
                                "is set by the gateway"),
                        invalid(
                                "one bad record in a batch",
                                "[{\"source\":\"s\",\"type\":\"t\"},{\"source\":\"s\"}]",
                                "type",
                                "is required"),
                        new HttpCase(
                                "NDJSON with a bad line",
                                ALL,
                                "application/x-ndjson",
                                "{\"source\":\"s\",\"type\":\"t\"}\nnot json\n".getBytes(StandardCharsets.UTF_8),
                                400,
                                "Line 2 is not valid JSON",
                                null,
                                null),
                        http("too many records", "[{},{},{},{},{},{}]", 413, "Too many records: at most 5 per request"),
                        http("body too large", big, 413, "larger than the limit of 4096 bytes"),
                        new HttpCase(
                                "text/plain",
                                ALL,
                                "text/plain",
                                "{}".getBytes(StandardCharsets.UTF_8),
                                415,
                                "Unsupported Content-Type 'text/plain'",
                                null,
                                null),
                        new HttpCase(
                                "no content type",
                                ALL,
                                null,
                                "{}".getBytes(StandardCharsets.UTF_8),
                                415,
                                "Unsupported Content-Type 'null'",
                                null,
                                null),
                        new HttpCase(
                                "no token",
                                null,
                                JSON_TYPE,
                                "{}".getBytes(StandardCharsets.UTF_8),
                                401,
                                "Missing token",
                                null,
                                null),
                        new HttpCase(
                                "wrong token",
                                "not-a-token",
                                JSON_TYPE,
                                "{}".getBytes(StandardCharsets.UTF_8),
                                401,
                                "Invalid token",
                                null,
                                null),
                        new HttpCase(
                                "source not allowed for token",
                                GatewayFixture.DEVICE_TOKEN,
                                JSON_TYPE,
                                "{\"source\":\"device-8\",\"type\":\"t\"}".getBytes(StandardCharsets.UTF_8),
                                403,
                                "Token not allowed for 1 record(s)",
                                "source",
                                "token 'device-7' may not publish as source 'device-8'"))
                .map(c -> Arguments.of(c));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("httpCases")
    void httpBadInputGetsItsExactAnswerAndWritesNothing(HttpCase c) throws Exception {
        long before = fixture.eventsAppended();

        HttpResponse<String> response = fixture.post(c.token(), c.contentType(), c.body());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(c.status());
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode body = JSON.readTree(response.body());
        assertThat(body.get("error_code").asInt()).isEqualTo(c.status());
        assertThat(body.get("message").asText()).contains(c.message());
        if (c.reason() != null) {
            JsonNode error = body.get("validation_errors").get(0);
            if (c.field() != null) {
                assertThat(error.get("field").asText()).isEqualTo(c.field());
            }
            assertThat(error.get("reason").asText()).startsWith(c.reason());
        }
        if (c.status() == 401) {
            assertThat(response.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"strata\"");
        }
        assertThat(fixture.eventsAppended()).isEqualTo(before);
    }

    @Test
    void otherMethodsAndPathsGet405And404() {
        HttpResponse<String> get = fixture.get("/v1/events");
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(get.headers().firstValue("Allow")).hasValue("POST");
        assertThat(fixture.get("/v2/nothing").statusCode()).isEqualTo(404);
    }

    /** One bad MQTT 5 publish and the PUBACK reason code (and reason string) it gets. */
    record MqttCase(String name, String token, String topic, byte[] payload, int reasonCode, String reason) {
        @Override
        public String toString() {
            return name;
        }
    }

    static MqttCase mqtt(String name, String topic, String payload, int code, String reason) {
        return new MqttCase(name, ALL, topic, payload.getBytes(StandardCharsets.UTF_8), code, reason);
    }

    static Stream<Arguments> mqttCases() {
        return Stream.of(
                        mqtt(
                                "topic outside strata/events",
                                "devices/d-1",
                                "{\"type\":\"t\"}",
                                0x90,
                                "Topic 'devices/d-1' is not strata/events/{source}"),
                        mqtt(
                                "topic without a source",
                                "strata/events/",
                                "{\"type\":\"t\"}",
                                0x90,
                                "is not strata/events/{source}"),
                        mqtt(
                                "payload not JSON",
                                "strata/events/d-1",
                                "temperature=20",
                                0x99,
                                "Payload is not valid JSON"),
                        mqtt("empty payload", "strata/events/d-1", "", 0x99, "Payload is empty"),
                        mqtt(
                                "payload source differs from topic",
                                "strata/events/d-1",
                                "{\"source\":\"d-2\",\"type\":\"t\"}",
                                0x99,
                                "source: is 'd-2' but the topic says 'd-1'"),
                        mqtt("payload without type", "strata/events/d-1", "{\"value\":1}", 0x99, "type: is required"),
                        mqtt(
                                "topic source too long",
                                "strata/events/" + "s".repeat(300),
                                "{\"type\":\"t\"}",
                                0x99,
                                "source: (from the topic) is longer than 256 characters"),
                        mqtt(
                                "seconds as milliseconds over MQTT",
                                "strata/events/d-1",
                                "{\"type\":\"t\",\"time\":1764000000}",
                                0x99,
                                "time: is more than P30D in the past"),
                        mqtt(
                                "value a string",
                                "strata/events/d-1",
                                "{\"type\":\"t\",\"value\":\"hot\"}",
                                0x99,
                                "value: must be a number or null, not a string"),
                        mqtt(
                                "payload too large",
                                "strata/events/d-1",
                                "{\"type\":\"t\",\"attributes\":{\"pad\":\"" + "x".repeat(1100) + "\"}}",
                                0x99,
                                "larger than the limit of 1024 bytes"),
                        new MqttCase(
                                "source not allowed for token",
                                GatewayFixture.DEVICE_TOKEN,
                                "strata/events/device-8",
                                "{\"type\":\"t\"}".getBytes(StandardCharsets.UTF_8),
                                0x87,
                                "Token 'device-7' may not publish as source 'device-8'"))
                .map(c -> Arguments.of(c));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mqttCases")
    void mqtt5BadPublishGetsItsReasonCode(MqttCase c) {
        long before = fixture.eventsAppended();
        Mqtt5BlockingClient client = MqttClients.connectedV5(
                fixture.gateway.mqttPort(), "bad-" + Math.abs(c.name().hashCode()), c.token());
        try {
            Throwable refused = Assertions.catchThrowable(() -> client.publishWith()
                    .topic(c.topic())
                    .qos(MqttQos.AT_LEAST_ONCE)
                    .payload(c.payload())
                    .send());

            assertThat(refused).isInstanceOf(Mqtt5PubAckException.class);
            Mqtt5PubAck ack = ((Mqtt5PubAckException) refused).getMqttMessage();
            assertThat(ack.getReasonCode().getCode()).isEqualTo(c.reasonCode());
            assertThat(ack.getReasonString())
                    .hasValueSatisfying(r -> assertThat(r.toString()).contains(c.reason()));
        } finally {
            client.disconnect();
        }
        assertThat(fixture.eventsAppended()).isEqualTo(before);
    }

    @Test
    void mqtt311AndQos0BadPublishesAreDeadLetteredWithTheirReasonAndAcknowledged() {
        Mqtt3BlockingClient v3 = MqttClients.connectedV3(fixture.gateway.mqttPort(), "legacy-bad", ALL);
        // Returns only when the gateway acknowledged: after the dead letter was written.
        v3.publishWith()
                .topic("strata/events/legacy-bad")
                .qos(MqttQos.AT_LEAST_ONCE)
                .payload("{not json".getBytes(StandardCharsets.UTF_8))
                .send();
        v3.publishWith()
                .topic("strata/events/legacy-bad")
                .qos(MqttQos.AT_MOST_ONCE)
                .payload("{\"type\":\"t\",\"value\":\"x\"}".getBytes(StandardCharsets.UTF_8))
                .send();
        v3.publishWith()
                .topic("elsewhere/legacy-bad")
                .qos(MqttQos.AT_LEAST_ONCE)
                .payload("{\"type\":\"t\"}".getBytes(StandardCharsets.UTF_8))
                .send();
        v3.disconnect();

        List<ConsumerRecord<String, byte[]>> letters = Waits.await(
                        "the MQTT 3.1.1 client's three dead letters", Duration.ofSeconds(30))
                .until(
                        () -> fixture.deadLetters().stream()
                                .filter(r ->
                                        header(r, EventAppender.HEADER_ORIGIN).contains("client=legacy-bad"))
                                .toList(),
                        l -> l.size() >= 3);

        assertThat(letters)
                .extracting(r -> header(r, EventAppender.HEADER_REASON))
                .containsExactlyInAnyOrder("malformed", "invalid", "topic_invalid");
        ConsumerRecord<String, byte[]> malformed = letters.stream()
                .filter(r -> header(r, EventAppender.HEADER_REASON).equals("malformed"))
                .findFirst()
                .orElseThrow();
        assertThat(new String(malformed.value(), StandardCharsets.UTF_8)).isEqualTo("{not json");
        assertThat(header(malformed, EventAppender.HEADER_DETAIL)).startsWith("Payload is not valid JSON");
        assertThat(header(malformed, EventAppender.HEADER_ORIGIN))
                .startsWith("mqtt3.1.1 client=legacy-bad topic=strata/events/legacy-bad");
        assertThat(malformed.key()).isEqualTo("legacy-bad");
    }

    @Test
    void afterAllThatTheGatewayStillServes() throws Exception {
        for (Arguments a : httpCases().toList()) {
            HttpCase c = (HttpCase) a.get()[0];
            fixture.post(c.token(), c.contentType(), c.body());
        }
        HttpResponse<String> good = fixture.post("{\"id\":\"still-serving\",\"source\":\"s\",\"type\":\"t\"}");
        assertThat(good.statusCode()).isEqualTo(200);
        Mqtt5BlockingClient client = MqttClients.connectedV5(fixture.gateway.mqttPort(), "still-serving", ALL);
        client.publishWith()
                .topic("strata/events/s")
                .qos(MqttQos.AT_LEAST_ONCE)
                .payload("{\"id\":\"still-serving-mqtt\",\"type\":\"t\"}".getBytes(StandardCharsets.UTF_8))
                .send();
        client.disconnect();
        assertThat(fixture.events()).extracting(r -> r.value().getId()).contains("still-serving", "still-serving-mqtt");
        HttpResponse<String> metrics =
                fixture.send(HttpRequest.newBuilder(URI.create(fixture.gateway.httpUrl() + "/metrics"))
                        .build());
        assertThat(metrics.body())
                .contains("strata_gateway_records_total{outcome=\"rejected\",protocol=\"http\",reason=\"invalid\"}");
    }

    static String header(ConsumerRecord<?, ?> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
    }
}
