package dev.strata.registry;

import dev.strata.registry.LogCodec.SchemaTombstone;
import dev.strata.schemas.kafka.KafkaClients;
import dev.strata.schemas.topics.StrataTopics;
import dev.strata.schemas.topics.StrataTopics.TopicSpec;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's durable log: the compacted, single-partition {@code _schemas} topic. A tailing
 * consumer applies every record to the {@link SchemaStore} in log order; a write appends with
 * {@code acks=all} and returns once the tail has applied it, so a successful answer is both
 * durable and visible (read-your-writes).
 *
 * <p>One registry instance writes at a time (Confluent elects a leader for the same reason):
 * ids are allocated from the state this instance has applied.
 */
final class KafkaSchemaLog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSchemaLog.class);

    private final String topic;
    private final TopicPartition partition;
    private final SchemaStore store;
    private final Duration timeout;
    private final KafkaProducer<byte[], byte[]> producer;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String bootstrapServers;
    private final Thread tailer;
    private final CompletableFuture<Void> caughtUp = new CompletableFuture<>();
    private final Object appliedLock = new Object();
    private long appliedPosition;
    private volatile boolean running = true;

    KafkaSchemaLog(String bootstrapServers, String topic, SchemaStore store, Duration timeout) {
        this.bootstrapServers = bootstrapServers;
        this.topic = topic;
        this.partition = new TopicPartition(topic, 0);
        this.store = store;
        this.timeout = timeout;

        Properties producerProps = new Properties();
        producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        KafkaClients.secure(producerProps);
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        producerProps.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        producerProps.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout.toMillis());
        producerProps.put(ProducerConfig.CLIENT_ID_CONFIG, "strata-registry-writer");
        this.producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer());

        Properties consumerProps = new Properties();
        consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        KafkaClients.secure(consumerProps);
        consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumerProps.put(ConsumerConfig.CLIENT_ID_CONFIG, "strata-registry-reader");
        this.consumer = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.tailer = new Thread(this::tail, "registry-log-tailer");
        this.tailer.setDaemon(true);
    }

    /** Creates the topic if needed, then reads the whole log; returns once caught up. */
    void start() throws InterruptedException, TimeoutException {
        ensureTopic();
        tailer.start();
        try {
            caughtUp.get(timeout.toMillis() * 6, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(
                    "cannot read " + topic + ": " + e.getCause().getMessage(), e.getCause());
        }
    }

    /** Appends {@code record} durably and waits until this instance has applied it. */
    void append(LogRecord record) {
        long offset;
        try {
            offset = producer.send(new ProducerRecord<>(topic, 0, LogCodec.key(record), LogCodec.value(record)))
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .offset();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw RegistryError.storeUnavailable("interrupted");
        } catch (ExecutionException e) {
            throw RegistryError.storeUnavailable(e.getCause().getMessage());
        } catch (TimeoutException e) {
            throw RegistryError.storeTimeout("Kafka did not acknowledge the write within " + timeout);
        }
        awaitApplied(offset);
    }

    private void awaitApplied(long offset) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (appliedLock) {
            while (appliedPosition <= offset) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw RegistryError.storeTimeout(
                            "the write at offset " + offset + " was not read back in " + timeout);
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(appliedLock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw RegistryError.storeTimeout("interrupted");
                }
            }
        }
    }

    private void ensureTopic() throws InterruptedException, TimeoutException {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        KafkaClients.secure(props);
        try (Admin admin = Admin.create(props)) {
            int brokers;
            try {
                brokers = admin.describeCluster()
                        .nodes()
                        .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                        .size();
            } catch (ExecutionException e) {
                throw new IllegalStateException(
                        "cannot reach Kafka at " + bootstrapServers + ": "
                                + e.getCause().getMessage(),
                        e.getCause());
            }
            TopicSpec spec = new TopicSpec(
                    topic,
                    1,
                    StrataTopics.all().stream()
                            .filter(t -> t.name().equals(StrataTopics.SCHEMAS))
                            .findFirst()
                            .orElseThrow()
                            .configs());
            List<String> created =
                    StrataTopics.createMissing(admin, List.of(spec), (short) Math.min(3, brokers), timeout);
            if (!created.isEmpty()) {
                LOG.info("Created the registry's topic {}", topic);
            }
        }
    }

    private void tail() {
        try {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition), timeout).get(partition);
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    applyRecord(record);
                }
                long position = consumer.position(partition);
                synchronized (appliedLock) {
                    appliedPosition = position;
                    appliedLock.notifyAll();
                }
                if (!caughtUp.isDone() && position >= end) {
                    LOG.info(
                            "Read {} to offset {}: {} subjects",
                            topic,
                            position,
                            store.subjects().size());
                    caughtUp.complete(null);
                }
            }
        } catch (WakeupException e) {
            if (running) {
                caughtUp.completeExceptionally(e);
            }
        } catch (RuntimeException e) {
            LOG.error("The registry's log reader stopped", e);
            caughtUp.completeExceptionally(e);
        } finally {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(1)));
        }
    }

    private void applyRecord(ConsumerRecord<byte[], byte[]> record) {
        Optional<Object> decoded;
        try {
            decoded = LogCodec.decode(record.key(), record.value());
        } catch (RuntimeException e) {
            // A record this registry cannot read is skipped, never fatal: the log is shared.
            LOG.warn(
                    "Skipping unreadable record {}-{}@{}: {}",
                    topic,
                    record.partition(),
                    record.offset(),
                    e.getMessage());
            return;
        }
        decoded.ifPresent(d -> {
            if (d instanceof SchemaTombstone t) {
                store.applySchemaTombstone(t.subject(), t.version());
            } else {
                store.apply((LogRecord) d);
            }
        });
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            tailer.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(5));
    }
}
