package dev.strata.testing;

import dev.strata.kafka.EmbeddedKafkaBroker;
import dev.strata.schemas.topics.StrataTopics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.commons.io.FileUtils;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives a test class a real Kafka broker:
 *
 * <pre>{@code
 * @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();
 * ... KAFKA.bootstrapServers(), KAFKA.createTopic("orders", 2, Map.of()) ...
 * }</pre>
 *
 * <p>One broker is shared by every test class of a test run (it starts on first use and stops at
 * the end), so each test should use its own topics ({@link #createTopic} makes names unique).
 * By default it is the in-JVM KRaft broker. With {@code -Dstrata.test.kafka=testcontainers} (or
 * the environment variable {@code STRATA_TEST_KAFKA}) it is a Testcontainers Kafka container when
 * a Docker engine runs, and the in-JVM broker, with a log line saying so, when none does.
 */
public final class KafkaBrokerExtension implements BeforeAllCallback, AfterAllCallback {

    public static final String MODE_PROPERTY = "strata.test.kafka";
    public static final String MODE_TESTCONTAINERS = "testcontainers";

    private static final Logger LOG = LoggerFactory.getLogger(KafkaBrokerExtension.class);
    private static final AtomicInteger TOPIC_SEQUENCE = new AtomicInteger();

    private String bootstrapServers;
    private Admin admin;

    @Override
    public void beforeAll(ExtensionContext context) {
        ExtensionContext.Store store =
                context.getRoot().getStore(ExtensionContext.Namespace.create(KafkaBrokerExtension.class));
        SharedBroker broker = store.getOrComputeIfAbsent("broker", key -> SharedBroker.start(), SharedBroker.class);
        bootstrapServers = broker.bootstrapServers();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
            admin = null;
        }
    }

    public String bootstrapServers() {
        if (bootstrapServers == null) {
            throw new IllegalStateException(
                    "no broker yet: register the extension on a static field with @RegisterExtension");
        }
        return bootstrapServers;
    }

    /** An admin client for this class's tests, closed after them. */
    public synchronized Admin admin() {
        if (admin == null) {
            Properties props = new Properties();
            props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
            admin = Admin.create(props);
        }
        return admin;
    }

    /** Creates a topic named {@code prefix} plus a unique suffix; returns its name. */
    public String createTopic(String prefix, int partitions, Map<String, String> configs) {
        String name = prefix + "-" + TOPIC_SEQUENCE.incrementAndGet() + "-"
                + ProcessHandle.current().pid();
        try {
            admin().createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
            // The controller has committed the topic; wait until the broker serves it, or a producer's
            // first batches meet NOT_LEADER_OR_FOLLOWER and an idempotent producer can stall on sequence errors.
            StrataTopics.awaitLeaders(admin(), List.of(name), Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot create topic " + name + ": " + e, e);
        }
        return name;
    }

    /**
     * Every record of {@code topic} (its committed transactions) up to its end offsets as of now;
     * fails, saying how far it got, if they cannot be read within a minute.
     */
    public <K, V> List<ConsumerRecord<K, V>> readAll(String topic, Deserializer<K> keys, Deserializer<V> values) {
        return readAll(bootstrapServers(), topic, keys, values);
    }

    /** As {@link #readAll(String, Deserializer, Deserializer)}, from any cluster. */
    public static <K, V> List<ConsumerRecord<K, V>> readAll(
            String bootstrapServers, String topic, Deserializer<K> keys, Deserializer<V> values) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<ConsumerRecord<K, V>> records = new ArrayList<>();
        try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(props, keys, values)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            Waits.await("reading " + topic + " to its end offsets " + end, Duration.ofSeconds(60))
                    .until(
                            () -> {
                                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                                return partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p));
                            },
                            done -> done);
        }
        return records;
    }

    /** Creates Strata's topics (DESIGN.md) if they do not exist. */
    public void createStrataTopics() {
        try {
            StrataTopics.createMissing(admin(), StrataTopics.all(), (short) 1, Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("creating Strata's topics timed out", e);
        }
    }

    static String mode() {
        String mode = System.getProperty(MODE_PROPERTY);
        if (mode == null) {
            mode = System.getenv("STRATA_TEST_KAFKA");
        }
        return mode == null ? "embedded" : mode;
    }

    /** The broker shared by the whole test run; closed by JUnit when the run ends. */
    static final class SharedBroker implements AutoCloseable {
        private final String bootstrapServers;
        private final AutoCloseable resource;
        private final Path dataDir;

        private SharedBroker(String bootstrapServers, AutoCloseable resource, Path dataDir) {
            this.bootstrapServers = bootstrapServers;
            this.resource = resource;
            this.dataDir = dataDir;
        }

        static SharedBroker start() {
            if (MODE_TESTCONTAINERS.equalsIgnoreCase(mode())) {
                if (ContainerBroker.dockerAvailable()) {
                    ContainerBroker container = ContainerBroker.start();
                    LOG.info("Tests use a Testcontainers Kafka broker at {}", container.bootstrapServers());
                    return new SharedBroker(container.bootstrapServers(), container, null);
                }
                LOG.warn("{}={} but no Docker engine runs: using the in-JVM broker", MODE_PROPERTY, mode());
            }
            try {
                Path dir = Files.createTempDirectory("strata-test-kafka-");
                EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(EmbeddedKafkaBroker.Config.ephemeral(dir));
                return new SharedBroker(broker.bootstrapServers(), broker, dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        String bootstrapServers() {
            return bootstrapServers;
        }

        @Override
        public void close() throws IOException {
            try {
                resource.close();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException("cannot stop the test broker", e);
            }
            if (dataDir != null) {
                FileUtils.deleteDirectory(dataDir.toFile());
            }
        }
    }
}
