package dev.strata.verify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import com.hivemq.client.mqtt.mqtt5.message.publish.puback.Mqtt5PubAckReasonCode;
import dev.strata.cli.stack.StackSpec;
import dev.strata.schemas.Event;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventSerializer;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The seeded workload, sent as real clients do: over HTTP, over MQTT 5 with QoS 1, and straight to
 * Kafka in the Confluent wire format. Event times jump around (bursts, out-of-order, some hours
 * late); some acknowledged events are sent again with the same id (a client retry whose ack was
 * lost); some events reuse the id of another source's event (devices that number their own events:
 * both count); some inputs are bad and must be refused with a reason. A send that fails or is not
 * acknowledged (a component was killed, paused, restarting) is retried, with the same id, until it
 * is; only acknowledged events go into the log the oracle reads.
 */
final class Workload implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> TYPES = List.of("temperature", "humidity", "pressure");

    /** One event of the workload and how it is sent. */
    record Planned(Event event, String via) {}

    private final StackSpec stack;
    private final Random random;
    private final PrintWriter ackLog;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final String token;
    private Mqtt5AsyncClient mqtt;
    private KafkaProducer<String, Event> kafka;
    private KafkaProducer<byte[], byte[]> rawKafka;
    final AtomicLong acknowledged = new AtomicLong();
    /** When the last acknowledgement came (this machine's clock, as the broker's append times). */
    final AtomicLong lastAcknowledgedMillis = new AtomicLong();

    final AtomicLong resent = new AtomicLong();
    /** Planned events whose id another source's event already has. */
    long sharedIds;

    final AtomicLong retries = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    /** Records written straight to Kafka that no decoder can read: each must reach the DLQ with a reason. */
    final List<String> poison = new ArrayList<>();

    final List<String> problems = new ArrayList<>();

    Workload(StackSpec stack, long seed, Path ackLogFile) throws IOException {
        this.stack = stack;
        this.random = new Random(seed);
        this.ackLog = new PrintWriter(Files.newBufferedWriter(ackLogFile, StandardCharsets.UTF_8), true);
        this.token = Files.readString(stack.tokenFile()).trim();
    }

    /** The events of a run: {@code count} of them over a few sources and types, times as described. */
    List<Planned> plan(int count, long nowMillis) {
        List<Planned> planned = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long time;
            double r = random.nextDouble();
            if (r < 0.03) {
                time = nowMillis
                        - Duration.ofHours(1 + random.nextInt(5)).toMillis()
                        - random.nextInt(3_600_000); // hours late
            } else if (r < 0.15) {
                time = nowMillis - random.nextInt(600_000); // out of order, minutes back
            } else {
                time = nowMillis + i * 20L; // in order, a burst at a time
            }
            String source = "dev-" + random.nextInt(12);
            double value = Math.round(random.nextGaussian() * 2_000) / 100.0;
            String id = "v-" + Long.toHexString(random.nextLong());
            if (i > 0 && random.nextInt(40) == 0) { // another device numbers its events the same way
                Event earlier = planned.get(random.nextInt(planned.size())).event();
                if (!earlier.getSource().equals(source)) {
                    id = earlier.getId();
                    sharedIds++;
                }
            }
            Event event = new Event(
                    id,
                    source,
                    TYPES.get(random.nextInt(TYPES.size())),
                    Instant.ofEpochMilli(time),
                    random.nextInt(20) == 0 ? null : value,
                    Map.of("site", "s" + random.nextInt(3)),
                    Instant.ofEpochMilli(nowMillis));
            double via = random.nextDouble();
            planned.add(new Planned(event, via < 0.5 ? "http" : via < 0.75 ? "mqtt" : "kafka"));
        }
        return planned;
    }

    /**
     * Sends every planned event until acknowledged, spread over at least {@code atLeast}; resends
     * some and sends some bad input on the way.
     */
    void send(List<Planned> planned, Duration atLeast) throws Exception {
        long started = System.nanoTime();
        for (int i = 0; i < planned.size(); i++) {
            Planned p = planned.get(i);
            long wait = started + atLeast.toNanos() * i / planned.size() - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            sendUntilAcknowledged(p);
            if (random.nextInt(50) == 0) { // a client retry of an acknowledged event: the same id again
                sendUntilAcknowledged(p);
                resent.incrementAndGet();
            }
            if (random.nextInt(100) == 0) {
                sendBad();
            }
        }
    }

    private void sendUntilAcknowledged(Planned p) throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            boolean ok;
            try {
                ok = switch (p.via()) {
                    case "http" -> sendHttp(p.event());
                    case "mqtt" -> sendMqtt(p.event());
                    default -> sendKafka(p.event());
                };
            } catch (Exception e) {
                ok = false;
                resetClients();
            }
            if (ok) {
                logAcknowledged(p);
                return;
            }
            retries.incrementAndGet();
            TimeUnit.MILLISECONDS.sleep(Math.min(2_000, 100L << Math.min(attempt, 4)));
        }
    }

    private boolean sendHttp(Event e) throws Exception {
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + "/v1/events"))
                        .timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + token)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json(e).toString()))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        return response.statusCode() == 200;
    }

    private Mqtt5AsyncClient mqtt() throws Exception {
        if (mqtt == null) {
            Mqtt5AsyncClient client = MqttClient.builder()
                    .useMqttVersion5()
                    .identifier("verify-" + random.nextInt(1_000_000))
                    .serverHost("127.0.0.1")
                    .serverPort(stack.ports().mqtt())
                    .buildAsync();
            client.connectWith()
                    .simpleAuth()
                    .username("verify")
                    .password(token.getBytes(StandardCharsets.UTF_8))
                    .applySimpleAuth()
                    .cleanStart(true)
                    .send()
                    .get(5, TimeUnit.SECONDS);
            mqtt = client;
        }
        return mqtt;
    }

    private boolean sendMqtt(Event e) throws Exception {
        var ack = mqtt().publishWith()
                .topic("strata/events/" + e.getSource())
                .qos(MqttQos.AT_LEAST_ONCE)
                .payload(json(e).toString().getBytes(StandardCharsets.UTF_8))
                .send()
                .get(10, TimeUnit.SECONDS);
        return ack.getPublish() != null && ack.getError().isEmpty();
    }

    private boolean sendKafka(Event e) throws Exception {
        if (kafka == null) {
            Properties props = producerProperties();
            EventSerializer serializer = new EventSerializer();
            serializer.configure(
                    Map.of(
                            AvroSerdeConfig.SCHEMA_REGISTRY_URL,
                            stack.registryUrl(),
                            AvroSerdeConfig.BEARER_AUTH_TOKEN,
                            Files.readString(stack.registryTokenFile())),
                    false);
            kafka = new KafkaProducer<>(props, new StringSerializer(), serializer);
        }
        kafka.send(new ProducerRecord<>("events", e.getSource(), e)).get(20, TimeUnit.SECONDS);
        return true;
    }

    private Properties producerProperties() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "15000");
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
        return props;
    }

    /**
     * A bad record, by the way it comes in: over HTTP it must get a 4xx with a reason, over MQTT 5 a
     * PUBACK with reason code 0x99 (payload format invalid); written straight to Kafka (bytes that
     * are not in the wire format) it must end up in {@code events.dlq} with a reason, checked at the
     * end of the run. The pipeline must go on in every case.
     */
    private void sendBad() {
        int kind = random.nextInt(3);
        try {
            switch (kind) {
                case 0 -> sendBadHttp();
                case 1 -> sendBadMqtt();
                default -> sendPoison();
            }
        } catch (Exception e) {
            // the component is down at this moment: nothing was taken
            resetClients();
        }
    }

    private void sendBadHttp() throws Exception {
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + "/v1/events"))
                        .timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + token)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"source\":\"dev-1\",\"type\":\"\",\"value\":\"warm\"}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 == 4 && response.body().contains("message")) {
            refused.incrementAndGet();
        } else if (response.statusCode() != 503) {
            problem("bad input over HTTP answered " + response.statusCode() + ": " + response.body());
        }
    }

    private void sendBadMqtt() throws Exception {
        Mqtt5PublishResult result = mqtt().publishWith()
                .topic("strata/events/dev-1")
                .qos(MqttQos.AT_LEAST_ONCE)
                .payload("{\"source\":\"dev-1\",\"type\":".getBytes(StandardCharsets.UTF_8))
                .send()
                .get(10, TimeUnit.SECONDS);
        Mqtt5PubAckReasonCode code = result instanceof Mqtt5PublishResult.Mqtt5Qos1Result q1
                ? q1.getPubAck().getReasonCode()
                : null;
        if (code == Mqtt5PubAckReasonCode.PAYLOAD_FORMAT_INVALID) {
            refused.incrementAndGet();
        } else if (code != Mqtt5PubAckReasonCode.UNSPECIFIED_ERROR) { // 0x80: Kafka is down, nothing was taken
            problem("bad input over MQTT answered " + code + " "
                    + result.getError().map(Throwable::getMessage).orElse(""));
        }
    }

    private void sendPoison() throws Exception {
        if (rawKafka == null) {
            Properties props = producerProperties();
            rawKafka = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        }
        String value = "poison-" + Long.toHexString(random.nextLong());
        rawKafka.send(new ProducerRecord<>(
                        "events", "dev-1".getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8)))
                .get(20, TimeUnit.SECONDS);
        synchronized (poison) {
            poison.add(value);
        }
        refused.incrementAndGet();
    }

    private void problem(String problem) {
        synchronized (problems) {
            problems.add(problem);
        }
    }

    private void resetClients() {
        if (mqtt != null) {
            try {
                mqtt.disconnect();
            } catch (RuntimeException e) {
                // already gone
            }
            mqtt = null;
        }
        if (kafka != null) {
            kafka.close(Duration.ofSeconds(2));
            kafka = null;
        }
        if (rawKafka != null) {
            rawKafka.close(Duration.ofSeconds(2));
            rawKafka = null;
        }
    }

    private void logAcknowledged(Planned p) {
        ObjectNode line = json(p.event());
        line.put("via", p.via());
        ackLog.println(line);
        acknowledged.incrementAndGet();
        lastAcknowledgedMillis.set(System.currentTimeMillis());
    }

    static ObjectNode json(Event e) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", e.getId());
        n.put("source", e.getSource());
        n.put("type", e.getType());
        n.put("time", e.getTime().toEpochMilli());
        if (e.getValue() != null) {
            n.put("value", e.getValue());
        }
        ObjectNode attributes = n.putObject("attributes");
        e.getAttributes().forEach(attributes::put);
        return n;
    }

    @Override
    public void close() {
        resetClients();
        ackLog.close();
    }
}
