package dev.strata.batch.views;

import dev.strata.schemas.kafka.KafkaClients;
import dev.strata.schemas.views.BatchCommit;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** The {@code batch-commits} topic: where a batch cycle announces each snapshot it commits, and reads the last one. */
final class CommitsTopic {

    private final String bootstrapServers;
    private final String topic;

    CommitsTopic(String bootstrapServers, String topic) {
        this.bootstrapServers = bootstrapServers;
        this.topic = topic;
    }

    /** The newest record of the topic. */
    Optional<BatchCommit> last() {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        KafkaClients.secure(props);
        props.put("enable.auto.commit", "false");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition p = new TopicPartition(topic, 0);
            consumer.assign(List.of(p));
            long end = consumer.endOffsets(List.of(p)).get(p);
            if (end == 0) {
                return Optional.empty();
            }
            consumer.seek(p, end - 1);
            BatchCommit last = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (consumer.position(p) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value() != null) {
                        last = BatchCommit.decode(r.value());
                    }
                }
            }
            return Optional.ofNullable(last);
        }
    }

    /** Appends an announcement, acknowledged by every in-sync replica. */
    void announce(BatchCommit commit) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        KafkaClients.secure(props);
        props.put("acks", "all");
        props.put("enable.idempotence", "true");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, BatchCommit.KEY, commit.encode()))
                    .get(30, TimeUnit.SECONDS);
        }
    }
}
