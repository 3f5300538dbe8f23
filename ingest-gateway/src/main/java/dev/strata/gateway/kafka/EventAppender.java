package dev.strata.gateway.kafka;

import dev.strata.schemas.Event;
import dev.strata.schemas.kafka.KafkaClients;
import dev.strata.schemas.registry.SchemaRegistryClient;
import dev.strata.schemas.topics.DeadLetters;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventSerializer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Appends events to {@code events} (Confluent wire format, keyed by source) and dead letters to
 * {@code events.dlq} (raw bytes with reason headers). A returned future completes only when Kafka
 * has acknowledged the write with {@code acks=all} on an idempotent producer: that is the moment
 * the gateway may acknowledge to its client, and not before.
 */
public final class EventAppender implements AutoCloseable {

    /** Headers of a dead letter. */
    public static final String HEADER_REASON = DeadLetters.REASON;

    public static final String HEADER_DETAIL = DeadLetters.DETAIL;
    public static final String HEADER_ORIGIN = DeadLetters.ORIGIN;
    public static final String HEADER_TIME = DeadLetters.TIME;

    private final String eventsTopic;
    private final String dlqTopic;
    private final KafkaProducer<String, Event> events;
    private final KafkaProducer<String, byte[]> deadLetters;

    public EventAppender(
            String bootstrapServers,
            String registryUrl,
            Optional<String> registryToken,
            String eventsTopic,
            String dlqTopic,
            Duration deliveryTimeout) {
        this.eventsTopic = eventsTopic;
        this.dlqTopic = dlqTopic;
        SchemaRegistryClient registry = new SchemaRegistryClient(registryUrl, Duration.ofSeconds(10), registryToken);
        // Registered now, so the serializer finds the id in its cache and never blocks a send.
        registry.register(AvroSerdeConfig.subject(eventsTopic, false), Event.getClassSchema());
        this.events = new KafkaProducer<>(
                producerProps(bootstrapServers, "strata-gateway-events", deliveryTimeout),
                new StringSerializer(),
                new EventSerializer(registry));
        this.deadLetters = new KafkaProducer<>(
                producerProps(bootstrapServers, "strata-gateway-dlq", deliveryTimeout),
                new StringSerializer(),
                new ByteArraySerializer());
    }

    static Properties producerProps(String bootstrapServers, String clientId, Duration deliveryTimeout) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        KafkaClients.secure(props);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 2);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 128 * 1024);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        // Twice the gateway's in-flight bound: the buffer never fills, so send() never blocks.
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 128L * 1024 * 1024);
        // A client learns of a Kafka outage (503 / MQTT error) within this time.
        int delivery = (int) deliveryTimeout.toMillis();
        int request = Math.max(500, Math.min(10_000, delivery / 3));
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, delivery);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, request);
        // send() runs on event loops: never block there (see send()).
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 0);
        // Keep the metadata of a quiet topic (the DLQ) rather than forgetting it after 5 minutes,
        // which with max.block.ms=0 would fail the next send.
        props.put(
                ProducerConfig.METADATA_MAX_IDLE_CONFIG,
                Long.toString(Duration.ofDays(365).toMillis()));
        return props;
    }

    /** Fetches the topics' metadata now, so that no send waits for it later. */
    public void warmUp(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try {
                events.partitionsFor(eventsTopic);
                deadLetters.partitionsFor(dlqTopic);
                return;
            } catch (RuntimeException e) {
                last = e; // with max.block.ms=0 this only asks for the metadata: wait, then look again
                LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
            }
        }
        throw new IllegalStateException("topics " + eventsTopic + " and " + dlqTopic + " not available: " + last, last);
    }

    /** Appends one event; completes when Kafka has acknowledged it. */
    public CompletableFuture<RecordMetadata> append(Event event) {
        return send(events, new ProducerRecord<>(eventsTopic, event.getSource(), event));
    }

    /**
     * Appends a record that cannot become an event to {@code events.dlq}: its raw bytes, the
     * reason (a short code) and detail in headers. Completes when Kafka has acknowledged it.
     */
    public CompletableFuture<RecordMetadata> deadLetter(
            String key, byte[] raw, String reason, String detail, String origin) {
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(
                dlqTopic,
                null,
                key,
                raw,
                List.of(
                        new RecordHeader(HEADER_REASON, reason.getBytes(StandardCharsets.UTF_8)),
                        new RecordHeader(HEADER_DETAIL, truncate(detail).getBytes(StandardCharsets.UTF_8)),
                        new RecordHeader(HEADER_ORIGIN, origin.getBytes(StandardCharsets.UTF_8)),
                        new RecordHeader(HEADER_TIME, Instant.now().toString().getBytes(StandardCharsets.UTF_8))));
        return send(deadLetters, record);
    }

    /**
     * Sends on the caller's thread (an event loop) without ever blocking it: {@code max.block.ms}
     * is 0, so a send fails at once when Kafka's metadata is gone (an outage) instead of waiting,
     * and the gateway's in-flight bound keeps the producer's buffer from filling.
     */
    private static <V> CompletableFuture<RecordMetadata> send(
            KafkaProducer<String, V> producer, ProducerRecord<String, V> record) {
        CompletableFuture<RecordMetadata> acked = new CompletableFuture<>();
        try {
            producer.send(record, (metadata, error) -> {
                if (error != null) {
                    acked.completeExceptionally(error);
                } else {
                    acked.complete(metadata);
                }
            });
        } catch (RuntimeException e) {
            acked.completeExceptionally(e);
        }
        return acked;
    }

    private static String truncate(String detail) {
        return detail.length() <= 1000 ? detail : detail.substring(0, 1000) + "…";
    }

    @Override
    public void close() {
        // In parallel: with Kafka down, each waits out its timeout for the records still in flight.
        CompletableFuture<Void> dlqClosed = CompletableFuture.runAsync(() -> deadLetters.close(Duration.ofSeconds(10)));
        events.close(Duration.ofSeconds(10));
        dlqClosed.join();
    }
}
