package dev.strata.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import dev.strata.testing.KafkaBrokerExtension;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** HTTPS and MQTT over TLS from a PEM certificate and key, as an operator would configure them. */
class GatewayTlsIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @TempDir
    Path dir;

    @Test
    void httpsAndMqttsAcceptEventsWithAPemCertificate() throws Exception {
        Path cert = dir.resolve("gateway.crt");
        Path key = dir.resolve("gateway.key");
        Process openssl;
        try {
            openssl = new ProcessBuilder(
                            "openssl",
                            "req",
                            "-x509",
                            "-newkey",
                            "rsa:2048",
                            "-nodes",
                            "-days",
                            "1",
                            "-subj",
                            "/CN=localhost",
                            "-addext",
                            "subjectAltName=IP:127.0.0.1,DNS:localhost",
                            "-keyout",
                            key.toString(),
                            "-out",
                            cert.toString())
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            assumeTrue(false, "openssl is not installed: " + e.getMessage());
            return;
        }
        assertThat(openssl.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(openssl.exitValue())
                .as(new String(openssl.getInputStream().readAllBytes()))
                .isZero();

        TrustManagerFactory trust = trustOnly(cert);
        try (GatewayFixture fixture = GatewayFixture.start(KAFKA, dir, "tls", c -> c.tls(cert, key))) {
            assertThat(fixture.gateway.httpUrl()).startsWith("https://");
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, trust.getTrustManagers(), null);
            HttpClient https = HttpClient.newBuilder()
                    .sslContext(ssl)
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
            HttpResponse<String> response = https.send(
                    HttpRequest.newBuilder(URI.create(fixture.gateway.httpUrl() + "/v1/events"))
                            .header("Authorization", "Bearer " + GatewayFixture.ALL_TOKEN)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"id\":\"over-https\",\"source\":\"s\",\"type\":\"t\"}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);

            Mqtt5BlockingClient mqtt = MqttClient.builder()
                    .useMqttVersion5()
                    .identifier("tls-device")
                    .serverHost("127.0.0.1")
                    .serverPort(fixture.gateway.mqttPort())
                    .sslConfig()
                    .trustManagerFactory(trust)
                    .applySslConfig()
                    .buildBlocking();
            mqtt.connectWith()
                    .simpleAuth()
                    .username("tls-device")
                    .password(GatewayFixture.ALL_TOKEN.getBytes(StandardCharsets.UTF_8))
                    .applySimpleAuth()
                    .send();
            mqtt.publishWith()
                    .topic("strata/events/tls-device")
                    .qos(MqttQos.AT_LEAST_ONCE)
                    .payload("{\"id\":\"over-mqtts\",\"type\":\"t\"}".getBytes(StandardCharsets.UTF_8))
                    .send();
            mqtt.disconnect();

            assertThat(fixture.events()).extracting(r -> r.value().getId()).contains("over-https", "over-mqtts");
        }
    }

    static TrustManagerFactory trustOnly(Path cert) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(cert)) {
            store.setCertificateEntry(
                    "gateway", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        return factory;
    }
}
