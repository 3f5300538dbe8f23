package dev.strata.speed.job;

import dev.strata.schemas.kafka.KafkaClients;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.speed.model.DeadLetter;
import dev.strata.speed.model.Decoded;
import dev.strata.speed.model.Upsert;
import java.util.Properties;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;

/**
 * The job's Kafka sources and sinks. Upserts are idempotent (the latest state of a key), so
 * at-least-once delivery is exact; offsets live in Flink's checkpoints.
 */
public record KafkaWiring(
        String bootstrapServers,
        String registryUrl,
        String eventsTopic,
        String commitsTopic,
        String viewsTopic,
        String dlqTopic,
        String groupId) {

    public KafkaSource<Decoded> events() {
        return eventsSource().build();
    }

    /** The events source as {@link #events()} builds it, for a caller to bound or to wrap its deserializer. */
    public KafkaSourceBuilder<Decoded> eventsSource() {
        return KafkaSource.<Decoded>builder()
                .setBootstrapServers(bootstrapServers)
                .setProperties(KafkaClients.properties())
                .setTopics(eventsTopic)
                .setGroupId(groupId)
                // A start without a checkpoint has empty state, so every record at or after the cut
                // must be folded again: from the earliest retained offset (records below the cut are
                // dropped once the cut is known). Committed group offsets would skip the records whose
                // state was lost. With a checkpoint, the offsets come from it.
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setDeserializer(new EventRecordDeserializer(registryUrl))
                .setProperty("isolation.level", "read_committed")
                // Fetches of some size: the broker answers a fetch once 64 KiB is there or 20 ms have
                // passed, not at each producer's batch. Under a steady load that is several times fewer
                // requests for the broker and the source's fetcher; an event waits at most 20 ms more,
                // beside the emission interval of 500 ms.
                .setProperty("fetch.min.bytes", Integer.toString(64 * 1024))
                .setProperty("fetch.max.wait.ms", "20");
    }

    public KafkaSource<BatchCommit> commits() {
        return commitsSource().build();
    }

    /** The batch-commits source as {@link #commits()} builds it. */
    public KafkaSourceBuilder<BatchCommit> commitsSource() {
        return KafkaSource.<BatchCommit>builder()
                .setBootstrapServers(bootstrapServers)
                .setProperties(KafkaClients.properties())
                .setTopics(commitsTopic)
                .setGroupId(groupId + "-commits")
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setValueOnlyDeserializer(new Serializers.BatchCommits());
    }

    public KafkaSink<Upsert> views() {
        return KafkaSink.<Upsert>builder()
                .setBootstrapServers(bootstrapServers)
                .setRecordSerializer(Serializers.upserts(viewsTopic))
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .setKafkaProducerConfig(producerProps())
                .build();
    }

    public KafkaSink<DeadLetter> deadLetters() {
        return KafkaSink.<DeadLetter>builder()
                .setBootstrapServers(bootstrapServers)
                .setRecordSerializer(Serializers.deadLetters(dlqTopic))
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .setKafkaProducerConfig(producerProps())
                .build();
    }

    private static Properties producerProps() {
        Properties props = KafkaClients.properties();
        props.put("acks", "all");
        props.put("enable.idempotence", "true");
        props.put("linger.ms", "5"); // upserts are at most one per key and emit interval: batches fill anyway
        return props;
    }
}
