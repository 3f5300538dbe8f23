package dev.strata.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import dev.strata.registry.RegistryServer;
import dev.strata.schemas.net.LocalPorts;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventDeserializer;
import dev.strata.testing.KafkaBrokerExtension;
import dev.strata.testing.Waits;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway as its own process, killed with SIGKILL in the middle of a load over HTTP and MQTT:
 * every id it had acknowledged must be in {@code events}.
 */
class GatewayCrashIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final ObjectMapper JSON = new ObjectMapper();
    static final int HTTP_CLIENTS = 4;
    static final int BATCH = 20;
    static final int MQTT_IN_FLIGHT = 200;

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedEventSurvivesAGatewaySigkill() throws Exception {
        String events = KAFKA.createTopic("crash-events", 3, Map.of("message.timestamp.type", "LogAppendTime"));
        String dlq = KAFKA.createTopic("crash-dlq", 1, Map.of());
        Path tokens = GatewayFixture.writeTokens(dir);
        try (RegistryServer registry = RegistryServer.start(RegistryServer.Config.of(KAFKA.bootstrapServers())
                .withPort(0)
                .withTopic("crash-schemas-" + ProcessHandle.current().pid()))) {
            int httpPort = LocalPorts.free();
            int mqttPort = LocalPorts.free();
            Process gateway = startGateway(registry.url(), events, dlq, tokens, httpPort, mqttPort);
            Set<String> acknowledged = ConcurrentHashMap.newKeySet();
            AtomicBoolean running = new AtomicBoolean(true);
            List<Thread> load = new ArrayList<>();
            for (int c = 0; c < HTTP_CLIENTS; c++) {
                int client = c;
                load.add(start(() -> httpLoad(client, httpPort, running, acknowledged)));
            }
            Mqtt5AsyncClient mqtt = MqttClients.connectedV5(mqttPort, "crash-field-gateway", GatewayFixture.ALL_TOKEN)
                    .toAsync();
            load.add(start(() -> mqttLoad(mqtt, running, acknowledged)));

            Waits.await("3,000 acknowledgements under load", Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(20))
                    .until(acknowledged::size, n -> n >= 3_000);
            gateway.destroyForcibly(); // SIGKILL, mid-load
            assertThat(gateway.waitFor(30, TimeUnit.SECONDS)).isTrue();
            running.set(false);
            for (Thread t : load) {
                t.join(30_000);
            }
            Set<String> ackedAtKill = Set.copyOf(acknowledged);

            EventDeserializer deserializer = new EventDeserializer();
            deserializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registry.url()), false);
            Set<String> stored = GatewayFixture.readAll(KAFKA.bootstrapServers(), events, deserializer).stream()
                    .map(r -> r.value().getId())
                    .collect(Collectors.toSet());

            System.out.printf(
                    "crash test: %d acknowledged before SIGKILL, %d in Kafka%n", ackedAtKill.size(), stored.size());
            assertThat(ackedAtKill).hasSizeGreaterThanOrEqualTo(3_000);
            assertThat(ackedAtKill.stream().filter(id -> id.startsWith("mqtt-")))
                    .isNotEmpty();
            assertThat(ackedAtKill.stream().filter(id -> id.startsWith("http-")))
                    .isNotEmpty();
            assertThat(stored).containsAll(ackedAtKill);
        }
    }

    static Process startGateway(String registryUrl, String events, String dlq, Path tokens, int httpPort, int mqttPort)
            throws Exception {
        Path module = Path.of("").toAbsolutePath();
        String classpath = module.resolve("target/classes")
                + File.pathSeparator
                + Files.readString(module.resolve("target/runtime-classpath.txt"))
                        .trim();
        Process process = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx256m",
                        "-cp",
                        classpath,
                        GatewayMain.class.getName(),
                        "--bootstrap-servers",
                        KAFKA.bootstrapServers(),
                        "--registry-url",
                        registryUrl,
                        "--http-port",
                        Integer.toString(httpPort),
                        "--mqtt-port",
                        Integer.toString(mqttPort),
                        "--tokens",
                        tokens.toString(),
                        "--events-topic",
                        events,
                        "--dlq-topic",
                        dlq)
                .redirectErrorStream(true)
                .start();
        CountDownLatch ready = new CountDownLatch(1);
        StringBuilder output = new StringBuilder();
        start(() -> {
            try (BufferedReader in =
                    new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    output.append(line).append('\n');
                    if (line.startsWith("READY gateway")) {
                        ready.countDown();
                    }
                }
            } catch (IOException ignored) {
                // the process is gone
            }
        });
        if (!ready.await(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("gateway process not ready in 60 s:\n" + output);
        }
        return process;
    }

    static void httpLoad(int client, int port, AtomicBoolean running, Set<String> acknowledged) {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        for (int batch = 0; running.get(); batch++) {
            List<String> ids = new ArrayList<>();
            StringBuilder body = new StringBuilder();
            for (int i = 0; i < BATCH; i++) {
                String id = "http-" + client + "-" + batch + "-" + i;
                ids.add(id);
                body.append("{\"id\":\"")
                        .append(id)
                        .append("\",\"source\":\"crash-")
                        .append(client)
                        .append("\",\"type\":\"load\",\"value\":")
                        .append(i)
                        .append("}\n");
            }
            try {
                HttpResponse<String> response = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/events"))
                                .header("Authorization", "Bearer " + GatewayFixture.ALL_TOKEN)
                                .header("Content-Type", "application/x-ndjson")
                                .timeout(Duration.ofSeconds(10))
                                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    JsonNode results = JSON.readTree(response.body()).get("results");
                    results.forEach(r -> acknowledged.add(r.get("id").asText()));
                }
            } catch (Exception e) {
                if (!running.get()) {
                    return;
                }
            }
        }
    }

    static void mqttLoad(Mqtt5AsyncClient mqtt, AtomicBoolean running, Set<String> acknowledged) {
        Semaphore window = new Semaphore(MQTT_IN_FLIGHT);
        AtomicInteger sequence = new AtomicInteger();
        while (running.get()) {
            try {
                if (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                    continue;
                }
            } catch (InterruptedException e) {
                return;
            }
            String id = "mqtt-" + sequence.incrementAndGet();
            mqtt.publishWith()
                    .topic("strata/events/crash-mqtt")
                    .qos(MqttQos.AT_LEAST_ONCE)
                    .payload(("{\"id\":\"" + id + "\",\"type\":\"load\"}").getBytes(StandardCharsets.UTF_8))
                    .send()
                    .whenComplete((result, error) -> {
                        window.release();
                        if (error == null && result.getError().isEmpty()) {
                            acknowledged.add(id);
                        }
                    });
        }
    }

    static Thread start(Runnable task) {
        Thread thread = new Thread(task, "crash-test-load");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
