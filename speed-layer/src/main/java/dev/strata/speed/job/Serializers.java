package dev.strata.speed.job;

import dev.strata.schemas.topics.DeadLetters;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.speed.model.DeadLetter;
import dev.strata.speed.model.Upsert;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The job's Kafka (de)serializers: upserts and dead letters out, batch commits in. */
final class Serializers {

    private Serializers() {}

    /** An upsert to the compacted {@code speed-views}; no value is a tombstone. */
    static KafkaRecordSerializationSchema<Upsert> upserts(String topic) {
        return (upsert, context, timestamp) -> new ProducerRecord<>(topic, upsert.key, upsert.value);
    }

    /** A dead letter to {@code events.dlq}, with the reason headers the gateway writes too. */
    static KafkaRecordSerializationSchema<DeadLetter> deadLetters(String topic) {
        return (letter, context, timestamp) -> new ProducerRecord<>(
                topic,
                null,
                null,
                letter.key,
                letter.value,
                List.of(
                        new RecordHeader(DeadLetters.REASON, letter.reason.getBytes(StandardCharsets.UTF_8)),
                        new RecordHeader(DeadLetters.DETAIL, letter.detail.getBytes(StandardCharsets.UTF_8)),
                        new RecordHeader(
                                DeadLetters.ORIGIN, ("speed-layer " + letter.origin).getBytes(StandardCharsets.UTF_8)),
                        new RecordHeader(
                                DeadLetters.TIME, Instant.now().toString().getBytes(StandardCharsets.UTF_8))));
    }

    /** Batch commits; a record that is not one is logged and skipped. */
    static final class BatchCommits implements DeserializationSchema<BatchCommit> {
        private static final long serialVersionUID = 1L;
        private static final Logger LOG = LoggerFactory.getLogger(BatchCommits.class);

        @Override
        public BatchCommit deserialize(byte[] message) {
            throw new UnsupportedOperationException("use deserialize(byte[], Collector)");
        }

        @Override
        public void deserialize(byte[] message, Collector<BatchCommit> out) {
            if (message == null) {
                return;
            }
            try {
                out.collect(BatchCommit.decode(message));
            } catch (IllegalArgumentException e) {
                LOG.warn("Skipping a batch-commits record: {}", e.getMessage());
            }
        }

        @Override
        public boolean isEndOfStream(BatchCommit next) {
            return false;
        }

        @Override
        public TypeInformation<BatchCommit> getProducedType() {
            return TypeInformation.of(BatchCommit.class);
        }
    }
}
