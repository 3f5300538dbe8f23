package dev.strata.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.schemas.Event;
import dev.strata.schemas.registry.SchemaRegistryClient;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.AvroSerializer;
import dev.strata.schemas.wire.EventDeserializer;
import dev.strata.schemas.wire.EventSerializer;
import dev.strata.testing.KafkaBrokerExtension;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Events through a real broker in the Confluent wire format, schemas through the real registry. */
class ConfluentWireFormatIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final Instant EVENT_TIME = Instant.parse("2026-01-02T03:04:05.678Z");
    static final Instant INGEST_TIME = Instant.parse("2026-01-02T03:04:06Z");
    static final Event EVENT = Event.newBuilder()
            .setId("e-1")
            .setSource("sensor-7")
            .setType("temperature")
            .setTime(EVENT_TIME)
            .setValue(21.5)
            .setAttributes(Map.of("site", "north"))
            .setIngestTime(INGEST_TIME)
            .build();

    static RegistryServer registry;

    @BeforeAll
    static void startRegistry() throws Exception {
        registry = RegistryServer.start(RegistryServer.Config.of(KAFKA.bootstrapServers())
                .withPort(0)
                .withTopic("_schemas-wire-" + ProcessHandle.current().pid()));
    }

    @AfterAll
    static void stopRegistry() {
        registry.close();
    }

    @Test
    void serializedEventIsTheConfluentWireFormatByteForByte() {
        EventSerializer serializer = new EventSerializer();
        serializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registry.url()), false);

        byte[] actual = serializer.serialize("wire-bytes", EVENT);

        int id = new SchemaRegistryClient(registry.url())
                .latestVersion("wire-bytes-value")
                .id();
        assertThat(actual).isEqualTo(expectedBytes(id));
    }

    @Test
    void eventsRoundTripThroughKafkaWithTheSchemaLookedUpById() {
        String topic = KAFKA.createTopic("wire-roundtrip", 2, Map.of("message.timestamp.type", "LogAppendTime"));
        List<Event> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            sent.add(Event.newBuilder(EVENT)
                    .setId("e-" + i)
                    .setSource("sensor-" + (i % 3))
                    .setValue(i % 4 == 0 ? null : i * 1.5)
                    .build());
        }
        try (KafkaProducer<String, Event> producer = producer(new EventSerializer())) {
            for (Event e : sent) {
                producer.send(new ProducerRecord<>(topic, e.getSource(), e));
            }
            producer.flush();
        }

        // A fresh deserializer knows no schema: it must look the writer's schema up by its id.
        List<ConsumerRecord<String, Event>> received = consume(topic, sent.size(), new EventDeserializer());

        assertThat(received).extracting(ConsumerRecord::value).containsExactlyInAnyOrderElementsOf(sent);
        assertThat(received).allSatisfy(r -> assertThat(r.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME));
    }

    @Test
    void readsEventsWrittenWithANewerCompatibleSchema() {
        String topic = KAFKA.createTopic("wire-evolved", 1, Map.of());
        Schema newer = new Schema.Parser()
                .parse(Event.getClassSchema()
                        .toString()
                        .replace(
                                "{\"name\":\"ingestTime\"",
                                "{\"name\":\"unit\",\"type\":\"string\",\"default\":\"\"},{\"name\":\"ingestTime\""));
        GenericRecord written = new GenericData.Record(newer);
        written.put("id", "evolved-1");
        written.put("source", "sensor-9");
        written.put("type", "temperature");
        written.put("time", EVENT_TIME.toEpochMilli());
        written.put("value", 3.25);
        written.put("attributes", Map.of());
        written.put("unit", "celsius");
        written.put("ingestTime", INGEST_TIME.toEpochMilli());
        try (KafkaProducer<String, GenericRecord> producer = producer(new AvroSerializer<>())) {
            producer.send(new ProducerRecord<>(topic, "sensor-9", written));
        }

        Event read = consume(topic, 1, new EventDeserializer()).get(0).value();

        assertThat(read.getId()).isEqualTo("evolved-1");
        assertThat(read.getValue()).isEqualTo(3.25);
        assertThat(read.getTime()).isEqualTo(EVENT_TIME);
        assertThat(new SchemaRegistryClient(registry.url())
                        .latestVersion(topic + "-value")
                        .version())
                .isEqualTo(1);
    }

    @Test
    void refusesBytesThatAreNotInTheWireFormat() {
        EventDeserializer deserializer = new EventDeserializer();
        deserializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registry.url()), false);

        assertThatThrownBy(() -> deserializer.deserialize("t", "{\"json\":true}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("Unknown magic byte 0x7b");
        assertThatThrownBy(() -> deserializer.deserialize("t", new byte[] {0, 0, 1}))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("fewer than the 5-byte header");
        assertThatThrownBy(() -> deserializer.deserialize("t", new byte[] {0, 0, 0, 0x7f, 0x7f, 1}))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("Cannot get the schema with id 32639");
    }

    // ---- the expected bytes, written from the format's definition, not with Avro's encoder ----

    /** Magic byte, 4-byte big-endian schema id, then the Avro binary encoding of {@link #EVENT}. */
    static byte[] expectedBytes(int schemaId) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x00);
        out.writeBytes(ByteBuffer.allocate(4)
                .order(ByteOrder.BIG_ENDIAN)
                .putInt(schemaId)
                .array());
        avroString(out, "e-1");
        avroString(out, "sensor-7");
        avroString(out, "temperature");
        avroLong(out, EVENT_TIME.toEpochMilli());
        avroLong(out, 1); // union branch 1: double
        out.writeBytes(ByteBuffer.allocate(8)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putDouble(21.5)
                .array());
        avroLong(out, 1); // map: one block of one entry
        avroString(out, "site");
        avroString(out, "north");
        avroLong(out, 0); // end of map
        avroLong(out, INGEST_TIME.toEpochMilli());
        return out.toByteArray();
    }

    /** Avro long: zig-zag, then base-128 varint, low groups first. */
    static void avroLong(ByteArrayOutputStream out, long value) {
        long zigzag = (value << 1) ^ (value >> 63);
        while ((zigzag & ~0x7FL) != 0) {
            out.write((int) ((zigzag & 0x7F) | 0x80));
            zigzag >>>= 7;
        }
        out.write((int) zigzag);
    }

    /** Avro string: length as a long, then UTF-8 bytes. */
    static void avroString(ByteArrayOutputStream out, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        avroLong(out, bytes.length);
        out.writeBytes(bytes);
    }

    // ---- Kafka clients ----

    static <V> KafkaProducer<String, V> producer(Serializer<V> valueSerializer) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        valueSerializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registry.url()), false);
        return new KafkaProducer<>(props, new StringSerializer(), valueSerializer);
    }

    static List<ConsumerRecord<String, Event>> consume(String topic, int count, EventDeserializer deserializer) {
        deserializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registry.url()), false);
        List<ConsumerRecord<String, Event>> records = KAFKA.readAll(topic, new StringDeserializer(), deserializer);
        assertThat(records).as("the records written to " + topic).hasSize(count);
        return records;
    }
}
