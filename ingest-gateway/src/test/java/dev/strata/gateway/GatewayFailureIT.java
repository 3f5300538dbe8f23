package dev.strata.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import dev.strata.gateway.config.GatewayConfig;
import dev.strata.kafka.EmbeddedKafkaBroker;
import dev.strata.registry.RegistryServer;
import dev.strata.schemas.topics.StrataTopics;
import dev.strata.testing.KafkaBrokerExtension;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** What clients are told when Kafka fails after validation, and when they exceed their rate. */
class GatewayFailureIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void whenKafkaIsDownClientsGet503WithAStatusPerRecordAndMqtt5Gets0x80() throws Exception {
        // A broker of this test's own, to stop.
        EmbeddedKafkaBroker broker =
                EmbeddedKafkaBroker.start(EmbeddedKafkaBroker.Config.ephemeral(dir.resolve("kafka")));
        try (Admin admin = Admin.create(adminProps(broker))) {
            StrataTopics.createMissing(
                    admin, StrataTopics.all(1, Duration.ofDays(1)), (short) 1, Duration.ofSeconds(30));
        }
        RegistryServer registry = RegistryServer.start(
                RegistryServer.Config.of(broker.bootstrapServers()).withPort(0));
        GatewayConfig config = GatewayConfig.builder(broker.bootstrapServers(), registry.url())
                .listen("127.0.0.1", 0, 0)
                .tokens(GatewayFixture.writeTokens(dir))
                .kafkaDeliveryTimeout(Duration.ofSeconds(3))
                .build();
        try (Gateway gateway = Gateway.start(config)) {
            GatewayFixture client = GatewayFixture.wrap(gateway);
            assertThat(client.post("{\"id\":\"before\",\"source\":\"s\",\"type\":\"t\"}")
                            .statusCode())
                    .isEqualTo(200);
            Mqtt5BlockingClient mqtt =
                    MqttClients.connectedV5(gateway.mqttPort(), "outage-client", GatewayFixture.ALL_TOKEN);

            registry.close();
            broker.close();

            HttpResponse<String> refused = client.post("[{\"id\":\"during-1\",\"source\":\"s\",\"type\":\"t\"},"
                    + "{\"id\":\"during-2\",\"source\":\"s\",\"type\":\"t\"}]");
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("5");
            JsonNode body = JSON.readTree(refused.body());
            assertThat(body.get("error_code").asInt()).isEqualTo(503);
            assertThat(body.get("message").asText()).startsWith("Kafka did not acknowledge 2 of 2 record(s)");
            assertThat(body.get("results")).hasSize(2).allSatisfy(r -> {
                assertThat(r.get("status").asText()).isEqualTo("failed");
                assertThat(r.get("reason").asText()).contains("TimeoutException");
            });
            assertThat(body.get("results").get(1).get("id").asText()).isEqualTo("during-2");

            Throwable mqttRefused = Assertions.catchThrowable(() -> mqtt.publishWith()
                    .topic("strata/events/s")
                    .qos(MqttQos.AT_LEAST_ONCE)
                    .payload("{\"type\":\"t\"}".getBytes(StandardCharsets.UTF_8))
                    .send());
            assertThat(mqttRefused)
                    .isInstanceOfSatisfying(
                            Mqtt5PubAckException.class,
                            e -> assertThat(e.getMqttMessage().getReasonCode().getCode())
                                    .isEqualTo(0x80));

            HttpResponse<String> ready = client.get("/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(client.get("/health").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aTokenOverItsRateGets429WithRetryAfter() throws Exception {
        try (GatewayFixture fixture = GatewayFixture.start(KAFKA, dir, "rate", c -> c.rateLimitPerToken(5))) {
            String five = "[" + "{\"source\":\"s\",\"type\":\"t\"},".repeat(4) + "{\"source\":\"s\",\"type\":\"t\"}]";
            assertThat(fixture.post(five).statusCode()).isEqualTo(200);

            HttpResponse<String> limited = fixture.post("{\"source\":\"s\",\"type\":\"t\"}");

            assertThat(limited.statusCode()).isEqualTo(429);
            assertThat(limited.headers().firstValue("Retry-After")).hasValue("1");
            assertThat(JSON.readTree(limited.body()).get("message").asText())
                    .isEqualTo("Rate limit of token 'all' exceeded; retry after 1 s");

            // A request larger than the burst would wait forever: refused at once, naming the burst.
            String six = "[" + "{\"source\":\"s\",\"type\":\"t\"},".repeat(5) + "{\"source\":\"s\",\"type\":\"t\"}]";
            HttpResponse<String> tooBig = fixture.post(six);
            assertThat(tooBig.statusCode()).isEqualTo(413);
            assertThat(tooBig.headers().firstValue("Retry-After")).isEmpty();
            assertThat(JSON.readTree(tooBig.body()).get("message").asText())
                    .isEqualTo("6 records in one request exceed the rate limit's burst of 5 records (--rate-limit 5"
                            + " records/s per token): send at most 5 per request; nothing was written");
        }
    }

    static Properties adminProps(EmbeddedKafkaBroker broker) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return props;
    }
}
