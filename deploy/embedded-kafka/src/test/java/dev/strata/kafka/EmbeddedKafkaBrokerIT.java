package dev.strata.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.schemas.topics.StrataTopics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-JVM broker the local stack and the tests run on: a real KRaft broker with real data. */
class EmbeddedKafkaBrokerIT {

    /** An event time far in the past: the broker must replace it with its append time. */
    static final long OLD_EVENT_TIME = 1_000L;

    @TempDir
    Path dataDir;

    @Test
    void createsStrataTopicsWithTheirConfigsAndStampsEventsWithAppendTime() throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(EmbeddedKafkaBroker.Config.ephemeral(dataDir));
                Admin admin = admin(broker)) {
            List<String> created =
                    StrataTopics.createMissing(admin, StrataTopics.all(), (short) 1, Duration.ofSeconds(30));
            assertThat(created)
                    .containsExactlyInAnyOrder("events", "events.dlq", "speed-views", "_schemas", "batch-commits");
            assertThat(StrataTopics.createMissing(admin, StrataTopics.all(), (short) 1, Duration.ofSeconds(30)))
                    .isEmpty();

            Map<String, String> events = topicConfig(admin, "events");
            assertThat(events)
                    .containsEntry("message.timestamp.type", "LogAppendTime")
                    .containsEntry("cleanup.policy", "delete");
            assertThat(topicConfig(admin, "speed-views")).containsEntry("cleanup.policy", "compact");
            assertThat(topicConfig(admin, "_schemas")).containsEntry("cleanup.policy", "compact");
            assertThat(topicConfig(admin, "batch-commits")).containsEntry("cleanup.policy", "compact");
            assertThat(topicConfig(admin, "events.dlq"))
                    .containsEntry("retention.ms", "-1")
                    .containsEntry("retention.bytes", "1073741824");
            assertThat(admin.describeTopics(Set.of("events"))
                            .allTopicNames()
                            .get()
                            .get("events")
                            .partitions())
                    .hasSize(StrataTopics.DEFAULT_PARTITIONS);

            long before = System.currentTimeMillis();
            produce(broker, "events", "late-event");
            ConsumerRecord<String, String> record = readAll(broker, "events", 1).get(0);
            assertThat(record.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME);
            assertThat(record.timestamp()).isGreaterThanOrEqualTo(before).isNotEqualTo(OLD_EVENT_TIME);
        }
    }

    @Test
    void aRestartOnTheSameDataDirectoryKeepsTopicsAndRecords() throws Exception {
        EmbeddedKafkaBroker.Config config = EmbeddedKafkaBroker.Config.ephemeral(dataDir);
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(config);
                Admin admin = admin(broker)) {
            StrataTopics.createMissing(
                    admin, StrataTopics.all(2, Duration.ofDays(1)), (short) 1, Duration.ofSeconds(30));
            produce(broker, "events", "kept-1");
            produce(broker, "events", "kept-2");
        }

        try (EmbeddedKafkaBroker restarted = EmbeddedKafkaBroker.start(config);
                Admin admin = admin(restarted)) {
            assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).contains("events", "_schemas");
            assertThat(readAll(restarted, "events", 2))
                    .extracting(ConsumerRecord::value)
                    .containsExactlyInAnyOrder("kept-1", "kept-2");
        }
    }

    static Admin admin(EmbeddedKafkaBroker broker) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return Admin.create(props);
    }

    static Map<String, String> topicConfig(Admin admin, String topic) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config config = admin.describeConfigs(List.of(resource))
                .all()
                .get(30, TimeUnit.SECONDS)
                .get(resource);
        Map<String, String> values = new HashMap<>();
        config.entries().forEach(e -> values.put(e.name(), e.value()));
        return values;
    }

    static void produce(EmbeddedKafkaBroker broker, String topic, String value) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, null, OLD_EVENT_TIME, "k", value))
                    .get(30, TimeUnit.SECONDS);
        }
    }

    static List<ConsumerRecord<String, String>> readAll(EmbeddedKafkaBroker broker, String topic, int count) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Awaitility.await(count + " records of " + topic)
                    .atMost(Duration.ofSeconds(30))
                    .pollDelay(Duration.ZERO)
                    .until(
                            () -> {
                                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                                return records.size();
                            },
                            n -> n >= count);
        }
        return records;
    }
}
