package dev.strata.schemas.wire;

import dev.strata.schemas.registry.SchemaRegistryClient;
import dev.strata.schemas.registry.SchemaRegistryException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads the Confluent wire format: looks the writer's schema up by the id in the header (cached)
 * and resolves it against a reader schema, so records written with an older or newer compatible
 * schema decode into today's classes. Without a reader schema it yields {@code GenericRecord}s of
 * the writer's schema, as Confluent's {@code KafkaAvroDeserializer} does.
 *
 * <p>A record that cannot be decoded fails with a {@link SerializationException}: it is bad data
 * (dead-letter it). A registry that cannot answer now fails with a
 * {@link SchemaRegistryUnavailableException} instead: the record may be good, so a caller must not
 * dead-letter or skip it but try again later.
 */
public class AvroDeserializer<T> implements Deserializer<T> {

    private SchemaRegistryClient registry;
    private final Schema readerSchema;
    private boolean specific;
    private final SpecificData readerModel;
    private final Map<Integer, DatumReader<Object>> readers = new ConcurrentHashMap<>();

    public AvroDeserializer() {
        this(null, null);
    }

    /**
     * @param registry a registry client, or null to create one from {@code schema.registry.url}
     * @param readerSchema the schema to read into (a generated class's schema for specific
     *     records), or null to read with the writer's schema
     */
    public AvroDeserializer(SchemaRegistryClient registry, Schema readerSchema) {
        this(registry, readerSchema, null);
    }

    /**
     * @param readerClass the generated class of {@code readerSchema}; records are read into it
     */
    protected AvroDeserializer(SchemaRegistryClient registry, Schema readerSchema, Class<?> readerClass) {
        this.registry = registry;
        this.readerSchema = readerSchema;
        this.specific = readerSchema != null;
        this.readerModel = readerClass == null ? null : SpecificData.getForClass(readerClass);
        if (readerClass != null) {
            TrustedAvroClasses.trust(readerClass);
        }
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        if (registry == null) {
            registry = AvroSerdeConfig.registry(configs);
        }
        specific = AvroSerdeConfig.flag(configs, AvroSerdeConfig.SPECIFIC_AVRO_READER, specific);
    }

    @Override
    @SuppressWarnings("unchecked")
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        if (registry == null) {
            throw new IllegalStateException(
                    "AvroDeserializer is not configured: call configure() with " + AvroSerdeConfig.SCHEMA_REGISTRY_URL);
        }
        ByteBuffer buffer = ByteBuffer.wrap(data);
        int id = WireFormat.readHeader(buffer);
        DatumReader<Object> reader;
        try {
            reader = readers.computeIfAbsent(id, this::readerFor);
        } catch (SchemaRegistryException e) {
            if (e.isTransient()) {
                throw new SchemaRegistryUnavailableException(id, e);
            }
            throw new SerializationException("Cannot get the schema with id " + id + ": " + e.getMessage(), e);
        }
        try {
            BinaryDecoder decoder =
                    DecoderFactory.get().binaryDecoder(data, buffer.position(), buffer.remaining(), null);
            return (T) reader.read(null, decoder);
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("Cannot decode Avro body of a record with schema id " + id + ": " + e, e);
        }
    }

    private DatumReader<Object> readerFor(int id) {
        Schema writer = registry.schemaById(id);
        if (!specific) {
            return new GenericDatumReader<>(writer, readerSchema != null ? readerSchema : writer);
        }
        Schema reader = readerSchema != null ? readerSchema : writer;
        return new SpecificDatumReader<>(
                writer, reader, readerModel != null ? readerModel : SpecificData.getForSchema(reader));
    }
}
