package dev.strata.schemas.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class WireFormatTest {

    @Test
    void headerIsMagicByteThenBigEndianSchemaId() {
        ByteBuffer buffer = ByteBuffer.allocate(WireFormat.HEADER_SIZE);
        WireFormat.writeHeader(buffer, 0x01020304);

        assertThat(buffer.array()).containsExactly(0x00, 0x01, 0x02, 0x03, 0x04);
        assertThat(WireFormat.readHeader(ByteBuffer.wrap(buffer.array()))).isEqualTo(0x01020304);
    }

    @Test
    void readingLeavesTheBufferAtTheAvroBody() {
        ByteBuffer payload = ByteBuffer.wrap(new byte[] {0, 0, 0, 0, 7, 42, 43});

        assertThat(WireFormat.readHeader(payload)).isEqualTo(7);
        assertThat(payload.position()).isEqualTo(5);
        assertThat(payload.get()).isEqualTo((byte) 42);
    }

    @Test
    void refusesAWrongMagicByteAndAShortPayload() {
        assertThatThrownBy(() -> WireFormat.readHeader(ByteBuffer.wrap(new byte[] {1, 0, 0, 0, 1})))
                .isInstanceOf(SerializationException.class)
                .hasMessage("Unknown magic byte 0x01: not in the Confluent wire format");
        assertThatThrownBy(() -> WireFormat.readHeader(ByteBuffer.wrap(new byte[] {0, 0})))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("2 bytes, fewer than the 5-byte header");
    }

    @Test
    void serdesWithoutARegistryUrlFailAtConfigurationNamingTheKey() {
        assertThatThrownBy(() -> new EventSerializer().configure(Map.of(), false))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("schema.registry.url is not set");
        assertThatThrownBy(() -> new EventDeserializer()
                        .configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, "ftp://x"), false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must be http:// or https://");
    }

    @Test
    void subjectsFollowTheTopicNameStrategy() {
        assertThat(AvroSerdeConfig.subject("events", false)).isEqualTo("events-value");
        assertThat(AvroSerdeConfig.subject("events", true)).isEqualTo("events-key");
    }
}
