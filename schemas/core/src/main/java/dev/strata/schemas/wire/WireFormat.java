package dev.strata.schemas.wire;

import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;

/**
 * The Confluent wire format: byte 0 is the magic byte 0x00, bytes 1-4 the schema id (big-endian
 * int), then the Avro binary encoding of the record.
 */
public final class WireFormat {

    public static final byte MAGIC_BYTE = 0x0;
    public static final int ID_SIZE = 4;
    public static final int HEADER_SIZE = 1 + ID_SIZE;

    private WireFormat() {}

    /** Writes the 5-byte header into {@code out} at its position. */
    public static void writeHeader(ByteBuffer out, int schemaId) {
        out.put(MAGIC_BYTE).putInt(schemaId);
    }

    /**
     * Reads and checks the header of {@code payload}; on return the buffer is positioned at the
     * Avro body.
     *
     * @return the schema id
     * @throws SerializationException if the payload is too short or the magic byte is wrong
     */
    public static int readHeader(ByteBuffer payload) {
        if (payload.remaining() < HEADER_SIZE) {
            throw new SerializationException("Not in the Confluent wire format: " + payload.remaining()
                    + " bytes, fewer than the " + HEADER_SIZE + "-byte header");
        }
        byte magic = payload.get();
        if (magic != MAGIC_BYTE) {
            throw new SerializationException(
                    String.format("Unknown magic byte 0x%02x: not in the Confluent wire format", magic));
        }
        return payload.getInt();
    }
}
