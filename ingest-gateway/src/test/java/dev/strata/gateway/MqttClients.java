package dev.strata.gateway;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import java.nio.charset.StandardCharsets;

/** Real MQTT clients (HiveMQ's client library) for both protocol versions. */
final class MqttClients {

    private MqttClients() {}

    static Mqtt5BlockingClient v5(int port, String clientId) {
        return MqttClient.builder()
                .useMqttVersion5()
                .identifier(clientId)
                .serverHost("127.0.0.1")
                .serverPort(port)
                .buildBlocking();
    }

    static Mqtt3BlockingClient v3(int port, String clientId) {
        return MqttClient.builder()
                .useMqttVersion3()
                .identifier(clientId)
                .serverHost("127.0.0.1")
                .serverPort(port)
                .buildBlocking();
    }

    static Mqtt5BlockingClient connectedV5(int port, String clientId, String token) {
        Mqtt5BlockingClient client = v5(port, clientId);
        client.connectWith()
                .simpleAuth()
                .username(clientId)
                .password(token.getBytes(StandardCharsets.UTF_8))
                .applySimpleAuth()
                .send();
        return client;
    }

    static Mqtt3BlockingClient connectedV3(int port, String clientId, String token) {
        Mqtt3BlockingClient client = v3(port, clientId);
        client.connectWith()
                .simpleAuth()
                .username(clientId)
                .password(token.getBytes(StandardCharsets.UTF_8))
                .applySimpleAuth()
                .send();
        return client;
    }
}
