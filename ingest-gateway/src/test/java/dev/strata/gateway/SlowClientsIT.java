package dev.strata.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.schemas.http.HttpGuard;
import dev.strata.testing.KafkaBrokerExtension;
import dev.strata.testing.Waits;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that open connections and never finish a request (slowloris), on loopback: thousands of
 * connections that send half a request head, and requests whose body trickles. Meanwhile the
 * gateway answers {@code /health} and a normal POST within a second; the slow connections are
 * closed once past their limits (heads: 2 s here; bodies: under 1 KiB/s over 2 s, answered 408).
 */
class SlowClientsIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final int HALF_HEADS = 3_000;
    static final int SLOW_BODIES = 20;

    @TempDir
    Path dir;

    @Test
    void halfSentRequestsAreClosedAndEveryoneElseIsStillServed() throws Exception {
        HttpGuard.Limits limits =
                new HttpGuard.Limits(Duration.ofSeconds(2), Duration.ofSeconds(5), 1024, Duration.ofSeconds(2), 10_000);
        try (GatewayFixture fixture = GatewayFixture.start(KAFKA, dir, "slow", c -> c.httpLimits(limits))) {
            int port = fixture.gateway.httpPort();
            List<Socket> slow = new ArrayList<>();
            try {
                for (int i = 0; i < HALF_HEADS; i++) {
                    Socket s = new Socket("127.0.0.1", port);
                    s.getOutputStream()
                            .write("POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl"
                                    .getBytes(StandardCharsets.US_ASCII));
                    slow.add(s);
                }
                List<Socket> trickles = new ArrayList<>();
                for (int i = 0; i < SLOW_BODIES; i++) {
                    Socket s = new Socket("127.0.0.1", port);
                    s.getOutputStream()
                            .write(("POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                                            + GatewayFixture.ALL_TOKEN
                                            + "\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[{")
                                    .getBytes(StandardCharsets.US_ASCII));
                    trickles.add(s);
                }

                // Everyone else is served, at once.
                long t0 = System.nanoTime();
                HttpResponse<String> health = fixture.get("/health");
                long healthMillis = (System.nanoTime() - t0) / 1_000_000;
                assertThat(health.statusCode()).isEqualTo(200);
                assertThat(healthMillis)
                        .as("/health beside %d half-sent requests", HALF_HEADS)
                        .isLessThan(1_000);
                t0 = System.nanoTime();
                HttpResponse<String> post = fixture.post("{\"id\":\"beside-slow\",\"source\":\"s\",\"type\":\"t\"}");
                long postMillis = (System.nanoTime() - t0) / 1_000_000;
                assertThat(post.statusCode()).as(post.body()).isEqualTo(200);
                assertThat(postMillis).as("a POST beside them").isLessThan(1_000);

                // The trickled bodies: 408 naming the limit, then closed.
                for (Socket s : trickles) {
                    String answer = readAll(s, Duration.ofSeconds(10));
                    assertThat(answer)
                            .startsWith("HTTP/1.1 408")
                            .contains("the request body arrived slower than 1024 bytes/s over PT2S");
                }
                // Every half-sent head: closed by the gateway (end of stream), none left open.
                int closed = 0;
                for (Socket s : slow) {
                    if (closedByPeer(s, Duration.ofSeconds(10))) {
                        closed++;
                    }
                }
                assertThat(closed).isEqualTo(HALF_HEADS);
                for (Socket s : trickles) {
                    s.close();
                }
            } finally {
                for (Socket s : slow) {
                    s.close();
                }
            }
            // And still serving.
            assertThat(fixture.get("/health").statusCode()).isEqualTo(200);
        }
    }

    /**
     * Bodies sent almost whole, then held: together they may hold no more memory than the in-flight
     * bound; past it a request is answered 503 naming it, and the bytes come back when they go.
     */
    @Test
    void bodiesBeingReceivedHoldNoMoreThanTheInFlightBound() throws Exception {
        try (GatewayFixture fixture = GatewayFixture.start(
                KAFKA, dir, "held-bodies", c -> c.maxRequestBytes(1 << 20).maxInFlightBytes(2 << 20))) {
            int port = fixture.gateway.httpPort();
            List<Socket> held = new ArrayList<>();
            try {
                byte[] part = new byte[600 * 1024];
                Arrays.fill(part, (byte) ' ');
                for (int i = 0; i < 5; i++) {
                    Socket s = new Socket("127.0.0.1", port);
                    s.getOutputStream()
                            .write(("POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                                            + GatewayFixture.ALL_TOKEN
                                            + "\r\nContent-Type: application/json\r\nContent-Length: " + (1 << 20)
                                            + "\r\n\r\n")
                                    .getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().write(part);
                    s.getOutputStream().flush();
                    held.add(s);
                }
                // 3 × 600 KiB fit under 2 MiB; whichever bodies come fourth and fifth are refused and closed,
                // the others stay held (no answer).
                List<String> answers = new ArrayList<>();
                for (Socket s : held) {
                    answers.add(readAll(s, Duration.ofSeconds(3)));
                }
                assertThat(answers.stream().filter(a -> a.startsWith("HTTP/1.1 503")))
                        .hasSize(2)
                        .allSatisfy(a -> assertThat(a)
                                .contains("Request bodies being received hold more than the gateway's bound of"
                                        + " 2097152 bytes (--max-in-flight-bytes)"));
                assertThat(answers.stream().filter(a -> a.startsWith("[still open")))
                        .hasSize(3);
                long t0 = System.nanoTime();
                assertThat(fixture.get("/health").statusCode()).isEqualTo(200);
                assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(1_000);
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
            // The held bytes came back with their connections: a request is taken again.
            Waits.await("the held bodies' bytes released", Duration.ofSeconds(10))
                    .untilAsserted(
                            () -> assertThat(fixture.post("{\"id\":\"after-held\",\"source\":\"s\",\"type\":\"t\"}")
                                            .statusCode())
                                    .isEqualTo(200));
        }
    }

    /** MQTT's slowloris: TCP connections that never finish a CONNECT hold no socket past the connect timeout. */
    @Test
    void mqttConnectionsThatNeverConnectAreClosedAndClientsAreStillServed() throws Exception {
        try (GatewayFixture fixture =
                GatewayFixture.start(KAFKA, dir, "slow-mqtt", c -> c.mqttConnectTimeout(Duration.ofSeconds(2)))) {
            int port = fixture.gateway.mqttPort();
            List<Socket> silent = new ArrayList<>();
            try {
                for (int i = 0; i < HALF_HEADS / 3; i++) {
                    Socket s = new Socket("127.0.0.1", port);
                    if (i % 2 == 0) {
                        s.getOutputStream().write(new byte[] {0x10, 0x20, 0x00, 0x04, 'M'}); // half a CONNECT
                    }
                    silent.add(s);
                }
                long t0 = System.nanoTime();
                var client = MqttClients.connectedV5(port, "beside-silent", GatewayFixture.ALL_TOKEN);
                assertThat(client.publishWith()
                                .topic("strata/events/beside-silent")
                                .qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE)
                                .payload("{\"id\":\"beside-silent\",\"type\":\"t\"}".getBytes(StandardCharsets.UTF_8))
                                .send()
                                .getError())
                        .isEmpty();
                assertThat((System.nanoTime() - t0) / 1_000_000)
                        .as("connect and publish beside %d silent connections", silent.size())
                        .isLessThan(1_000);
                client.disconnect();
                int closed = 0;
                for (Socket s : silent) {
                    if (closedByPeer(s, Duration.ofSeconds(10))) {
                        closed++;
                    }
                }
                assertThat(closed).isEqualTo(silent.size());
            } finally {
                for (Socket s : silent) {
                    s.close();
                }
            }
        }
    }

    static String readAll(Socket s, Duration timeout) throws IOException {
        s.setSoTimeout((int) timeout.toMillis());
        InputStream in = s.getInputStream();
        StringBuilder text = new StringBuilder();
        byte[] buffer = new byte[4096];
        try {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                text.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
            }
        } catch (SocketTimeoutException e) {
            text.append("[still open after ").append(timeout).append(']');
        } catch (IOException e) {
            // reset after the answer: closed
        }
        return text.toString();
    }

    static boolean closedByPeer(Socket s, Duration timeout) throws IOException {
        s.setSoTimeout((int) timeout.toMillis());
        try {
            return s.getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset: closed
        }
    }
}
