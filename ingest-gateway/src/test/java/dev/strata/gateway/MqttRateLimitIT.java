package dev.strata.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import com.hivemq.client.mqtt.mqtt5.message.publish.puback.Mqtt5PubAckReasonCode;
import dev.strata.testing.KafkaBrokerExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A token's rate limit holds over MQTT too: past it a QoS 1 publish gets 0x97 naming the limit, and is not appended. */
class MqttRateLimitIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @TempDir
    static Path dir;

    static GatewayFixture fixture;

    @BeforeAll
    static void start() throws Exception {
        fixture = GatewayFixture.start(KAFKA, dir, "mqtt-rate", c -> c.rateLimitPerToken(5));
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    @Test
    void pastItsRateATokensPublishGetsQuotaExceededNamingTheLimit() {
        Mqtt5BlockingClient client =
                MqttClients.connectedV5(fixture.gateway.mqttPort(), "rated-1", GatewayFixture.ALL_TOKEN);
        int accepted = 0;
        String refusal = null;
        for (int i = 0; i < 20 && refusal == null; i++) {
            Optional<Throwable> error;
            try {
                error = client.publishWith()
                        .topic("strata/events/rated-1")
                        .qos(MqttQos.AT_LEAST_ONCE)
                        .payload(("{\"id\":\"rated-" + i + "\",\"type\":\"t\"}").getBytes(StandardCharsets.UTF_8))
                        .send()
                        .getError();
            } catch (Mqtt5PubAckException e) { // the blocking client throws an error code
                error = Optional.of(e);
            }
            if (error.isEmpty()) {
                accepted++;
            } else {
                assertThat(error.get()).isInstanceOf(Mqtt5PubAckException.class);
                Mqtt5PubAckException e = (Mqtt5PubAckException) error.get();
                assertThat(e.getMqttMessage().getReasonCode()).isEqualTo(Mqtt5PubAckReasonCode.QUOTA_EXCEEDED);
                refusal = e.getMqttMessage()
                        .getReasonString()
                        .map(Object::toString)
                        .orElse("");
            }
        }
        assertThat(accepted).isBetween(5, 19);
        assertThat(refusal).startsWith("Token 'all' is over its rate limit of 5 records/s (--rate-limit): resend in ");
        // The connection stays: the client resends later.
        assertThat(client.getState().isConnected()).isTrue();
        client.disconnect();
        assertThat(fixture.events().stream()
                        .filter(r -> r.value().getId().startsWith("rated-"))
                        .count())
                .isEqualTo(accepted);
    }
}
