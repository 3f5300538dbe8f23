package dev.strata.speed.job;

import dev.strata.schemas.Event;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventDeserializer;
import dev.strata.schemas.wire.SchemaRegistryUnavailableException;
import dev.strata.speed.model.DeadLetter;
import dev.strata.speed.model.Decoded;
import dev.strata.speed.model.IngestedEvent;
import java.io.IOException;
import java.util.Map;
import org.apache.flink.api.common.serialization.DeserializationSchema.InitializationContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.record.TimestampType;

/**
 * Decodes records of {@code events} (Confluent wire format, schema looked up in the registry) into
 * events stamped with the broker's append time. A record that cannot be decoded becomes a dead
 * letter, never a failure of the job. A topic without {@code LogAppendTime} fails the job: the cut
 * would not hold on producer clocks.
 */
public class EventRecordDeserializer implements KafkaRecordDeserializationSchema<Decoded> {

    private static final long serialVersionUID = 1L;

    private final String registryUrl;
    private transient EventDeserializer events;

    public EventRecordDeserializer(String registryUrl) {
        this.registryUrl = registryUrl;
    }

    @Override
    public void open(InitializationContext context) {
        events = new EventDeserializer();
        events.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registryUrl), false);
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Decoded> out) throws IOException {
        if (record.timestampType() != TimestampType.LOG_APPEND_TIME) {
            throw new IOException("topic " + record.topic() + " stamps records with " + record.timestampType()
                    + ": set message.timestamp.type=LogAppendTime on it (the cut relies on the broker's clock)");
        }
        String origin = record.topic() + "-" + record.partition() + "@" + record.offset();
        Event event;
        try {
            event = events.deserialize(record.topic(), record.value());
        } catch (SchemaRegistryUnavailableException e) {
            // Says nothing about the record: fail, and the job restarts from its last checkpoint
            // and reads it again, instead of dead-lettering an acknowledged event.
            throw new IOException(origin + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            out.collect(Decoded.deadLetter(new DeadLetter(
                    record.key(), record.value(), "undecodable", String.valueOf(e.getMessage()), origin)));
            return;
        }
        if (event == null) {
            out.collect(Decoded.deadLetter(new DeadLetter(record.key(), null, "undecodable", "null value", origin)));
            return;
        }
        out.collect(Decoded.event(IngestedEvent.of(event, record.timestamp())));
    }

    @Override
    public TypeInformation<Decoded> getProducedType() {
        return TypeInformation.of(Decoded.class);
    }
}
