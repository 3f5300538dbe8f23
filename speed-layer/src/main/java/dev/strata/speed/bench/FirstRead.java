package dev.strata.speed.bench;

import dev.strata.speed.job.EventRecordDeserializer;
import dev.strata.speed.model.Decoded;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** The production deserializer, noting when the first event of a run was read. */
final class FirstRead implements KafkaRecordDeserializationSchema<Decoded> {
    private static final long serialVersionUID = 1L;
    static final AtomicLong nanos = new AtomicLong();
    private final EventRecordDeserializer inner;

    FirstRead(EventRecordDeserializer inner) {
        this.inner = inner;
    }

    static void reset() {
        nanos.set(0);
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) throws Exception {
        inner.open(context);
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Decoded> out) throws IOException {
        if (nanos.get() == 0) {
            nanos.compareAndSet(0, System.nanoTime());
        }
        inner.deserialize(record, out);
    }

    @Override
    public TypeInformation<Decoded> getProducedType() {
        return inner.getProducedType();
    }
}
