package dev.strata.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3ConnAckException;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAckReturnCode;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5DisconnectException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5SubAckException;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAckReasonCode;
import com.hivemq.client.mqtt.mqtt5.message.disconnect.Mqtt5DisconnectReasonCode;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAckReasonCode;
import dev.strata.schemas.Event;
import dev.strata.testing.KafkaBrokerExtension;
import dev.strata.testing.Waits;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** MQTT 3.1.1 and 5 ingest against a real broker, with a real MQTT client library. */
class GatewayMqttIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @TempDir
    static Path dir;

    static final int PER_TOKEN = 5;
    static GatewayFixture fixture;
    static int port;

    /** A v5 client that records why the server disconnected it. */
    static Mqtt5BlockingClient watched(String clientId, CompletableFuture<Mqtt5DisconnectReasonCode> disconnected) {
        Mqtt5BlockingClient client = MqttClient.builder()
                .useMqttVersion5()
                .identifier(clientId)
                .serverHost("127.0.0.1")
                .serverPort(port)
                .addDisconnectedListener(ctx -> {
                    if (ctx.getCause() instanceof Mqtt5DisconnectException e) {
                        disconnected.complete(e.getMqttMessage().getReasonCode());
                    } else {
                        disconnected.complete(null);
                    }
                })
                .buildBlocking();
        client.connectWith()
                .simpleAuth()
                .username("token")
                .password(GatewayFixture.ALL_TOKEN.getBytes(StandardCharsets.UTF_8))
                .applySimpleAuth()
                .send();
        return client;
    }

    @BeforeAll
    static void start() throws Exception {
        fixture = GatewayFixture.start(KAFKA, dir, "mqtt", c -> c.mqttMaxConnectionsPerToken(PER_TOKEN));
        port = fixture.gateway.mqttPort();
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    static byte[] payload(String id) {
        return ("{\"id\":\"" + id + "\",\"type\":\"temperature\",\"value\":20.5}").getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void oneClientKeepsManyQos1PublishesInFlightAndEachIsInKafkaWhenAcknowledged() throws Exception {
        Mqtt5BlockingClient blocking = MqttClients.connectedV5(port, "field-gateway-1", GatewayFixture.ALL_TOKEN);
        Mqtt5AsyncClient client = blocking.toAsync();
        List<CompletableFuture<Mqtt5PublishResult>> results = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            // A field gateway publishing for many devices over one connection.
            results.add(client.publishWith()
                    .topic("strata/events/field-dev-" + (i % 50))
                    .qos(MqttQos.AT_LEAST_ONCE)
                    .payload(payload("mqtt-many-" + i))
                    .send());
        }
        CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        blocking.disconnect();

        assertThat(results).allSatisfy(r -> assertThat(r.join().getError()).isEmpty());
        List<Event> stored = fixture.events().stream()
                .map(r -> r.value())
                .filter(e -> e.getId().startsWith("mqtt-many-"))
                .toList();
        assertThat(stored).hasSize(2_000);
        assertThat(stored)
                .filteredOn(e -> e.getId().equals("mqtt-many-7"))
                .singleElement()
                .satisfies(e -> assertThat(e.getSource()).isEqualTo("field-dev-7"));
    }

    @Test
    void mqtt311ClientsPublishQos1AndQos0() {
        Mqtt3BlockingClient client = MqttClients.connectedV3(port, "legacy-1", GatewayFixture.ALL_TOKEN);
        client.publishWith()
                .topic("strata/events/legacy-1")
                .qos(MqttQos.AT_LEAST_ONCE)
                .payload(payload("mqtt3-qos1"))
                .send();
        client.publishWith()
                .topic("strata/events/legacy-1")
                .qos(MqttQos.AT_MOST_ONCE)
                .payload(payload("mqtt3-qos0"))
                .send();
        // A QoS 1 publish after the QoS 0 one: once it is acknowledged, both are in Kafka.
        client.publishWith()
                .topic("strata/events/legacy-1")
                .qos(MqttQos.AT_LEAST_ONCE)
                .payload(payload("mqtt3-last"))
                .send();
        client.disconnect();

        assertThat(fixture.events())
                .extracting(r -> r.value().getId())
                .contains("mqtt3-qos1", "mqtt3-qos0", "mqtt3-last");
    }

    @Test
    void qos2IsAppendedExactlyOnce() {
        Mqtt5BlockingClient client = MqttClients.connectedV5(port, "exactly-once-1", GatewayFixture.ALL_TOKEN);
        Mqtt5PublishResult result = client.publishWith()
                .topic("strata/events/eo-1")
                .qos(MqttQos.EXACTLY_ONCE)
                .payload(payload("mqtt-qos2"))
                .send();
        client.disconnect();

        assertThat(result.getError()).isEmpty();
        assertThat(fixture.events())
                .filteredOn(r -> r.value().getId().equals("mqtt-qos2"))
                .hasSize(1);
    }

    @Test
    void badCredentialsAreRefusedWithEachVersionsReturnCode() {
        assertThatThrownBy(() -> MqttClients.connectedV5(port, "intruder-5", "wrong-token"))
                .isInstanceOfSatisfying(
                        Mqtt5ConnAckException.class,
                        e -> assertThat(e.getMqttMessage().getReasonCode())
                                .isEqualTo(Mqtt5ConnAckReasonCode.BAD_USER_NAME_OR_PASSWORD));
        assertThatThrownBy(() -> MqttClients.v5(port, "anonymous-5").connect())
                .isInstanceOfSatisfying(
                        Mqtt5ConnAckException.class,
                        e -> assertThat(e.getMqttMessage().getReasonCode().getCode())
                                .isEqualTo(0x86));
        assertThatThrownBy(() -> MqttClients.connectedV3(port, "intruder-3", "wrong-token"))
                .isInstanceOfSatisfying(
                        Mqtt3ConnAckException.class,
                        e -> assertThat(e.getMqttMessage().getReturnCode())
                                .isEqualTo(Mqtt3ConnAckReturnCode.BAD_USER_NAME_OR_PASSWORD));
    }

    @Test
    void aSecondConnectionWithTheSameClientIdTakesTheSessionOver() throws Exception {
        CompletableFuture<Mqtt5DisconnectReasonCode> first = new CompletableFuture<>();
        watched("same-id-1", first);
        CompletableFuture<Mqtt5DisconnectReasonCode> second = new CompletableFuture<>();
        Mqtt5BlockingClient taker = watched("same-id-1", second);
        assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(Mqtt5DisconnectReasonCode.SESSION_TAKEN_OVER);
        assertThat(taker.publishWith()
                        .topic("strata/events/same-id-1")
                        .qos(MqttQos.AT_LEAST_ONCE)
                        .payload(payload("after-takeover"))
                        .send()
                        .getError())
                .isEmpty();
        assertThat(second).isNotDone();
        taker.disconnect();
    }

    @Test
    void aRetainedPublishIsRefusedAsTheConnAckAdvertised() throws Exception {
        CompletableFuture<Mqtt5DisconnectReasonCode> why = new CompletableFuture<>();
        Mqtt5BlockingClient client = watched("retainer-1", why);
        assertThat(client.getState().isConnected()).isTrue();
        client.toAsync()
                .publishWith()
                .topic("strata/events/retainer-1")
                .qos(MqttQos.AT_LEAST_ONCE)
                .retain(true)
                .payload(payload("retained"))
                .send();
        assertThat(why.get(10, TimeUnit.SECONDS)).isEqualTo(Mqtt5DisconnectReasonCode.RETAIN_NOT_SUPPORTED);
        assertThat(fixture.events()).noneMatch(r -> r.value().getId().equals("retained"));
    }

    @Test
    void oneTokenHoldsAtMostItsShareOfConnections() {
        List<Mqtt5BlockingClient> held = new ArrayList<>();
        for (int i = 0; i < PER_TOKEN; i++) {
            held.add(MqttClients.connectedV5(port, "quota-" + i, GatewayFixture.ALL_TOKEN));
        }
        assertThatThrownBy(() -> MqttClients.connectedV5(port, "quota-over", GatewayFixture.ALL_TOKEN))
                .isInstanceOfSatisfying(
                        Mqtt5ConnAckException.class,
                        e -> assertThat(e.getMqttMessage().getReasonCode())
                                .isEqualTo(Mqtt5ConnAckReasonCode.QUOTA_EXCEEDED));
        held.remove(0).disconnect();
        Waits.await("a connection freed for the token", Duration.ofSeconds(10)).untilAsserted(() -> {
            Mqtt5BlockingClient again = MqttClients.connectedV5(port, "quota-again", GatewayFixture.ALL_TOKEN);
            held.add(again);
        });
        held.forEach(Mqtt5BlockingClient::disconnect);
    }

    @Test
    void subscriptionsAreRefused() {
        Mqtt5BlockingClient client = MqttClients.connectedV5(port, "subscriber-1", GatewayFixture.ALL_TOKEN);
        assertThatThrownBy(() ->
                        client.subscribeWith().topicFilter("strata/events/#").send())
                .isInstanceOfSatisfying(
                        Mqtt5SubAckException.class,
                        e -> assertThat(e.getMqttMessage().getReasonCodes())
                                .containsExactly(Mqtt5SubAckReasonCode.NOT_AUTHORIZED));
        // The connection stays usable.
        assertThat(client.publishWith()
                        .topic("strata/events/subscriber-1")
                        .qos(MqttQos.AT_LEAST_ONCE)
                        .payload(payload("after-subscribe"))
                        .send()
                        .getError())
                .isEmpty();
        client.disconnect();
    }
}
