package dev.strata.schemas.views;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;
import org.apache.datasketches.hll.Union;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.memory.Memory;

/**
 * The binary encoding of an {@link Aggregate}, as stored in {@code speed-views}, RocksDB and the
 * batch snapshots. Byte 0 is the format version; an unknown version is refused by name.
 *
 * <pre>
 * v1: version(1) count(8) valueCount(8) sumScale(4) sumUnscaledLength(4) sumUnscaled(n) min(8) max(8)
 *     quantilesLength(4) quantiles(n)        (length 0: the view has no quantiles)
 *     distinctCount(4) { nameLength(2) name hllLength(4) hll(n) }*
 * </pre>
 */
public final class AggregateCodec {

    public static final byte VERSION = 1;

    private AggregateCodec() {}

    public static byte[] encode(Aggregate a) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeLong(a.count);
            out.writeLong(a.valueCount);
            BigDecimal sum = a.sum();
            out.writeInt(sum.scale());
            byte[] unscaled = sum.unscaledValue().toByteArray();
            out.writeInt(unscaled.length);
            out.write(unscaled);
            out.writeDouble(a.min);
            out.writeDouble(a.max);
            byte[] kll = a.quantiles == null ? new byte[0] : a.quantiles.toByteArray();
            out.writeInt(kll.length);
            out.write(kll);
            out.writeInt(a.distinct.size());
            for (Map.Entry<String, Union> e : a.distinct.entrySet()) {
                out.writeUTF(e.getKey());
                byte[] hll = e.getValue().getResult(TgtHllType.HLL_8).toCompactByteArray();
                out.writeInt(hll.length);
                out.write(hll);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Decodes a state of {@code view}.
     *
     * @throws IllegalArgumentException for an unknown version or bytes that are not an aggregate
     */
    public static Aggregate decode(ViewDefinition view, byte[] bytes) {
        if (bytes.length == 0) {
            throw new IllegalArgumentException("empty aggregate bytes for view " + view.name());
        }
        if (bytes[0] != VERSION) {
            throw new IllegalArgumentException("aggregate of view " + view.name() + " has format version " + bytes[0]
                    + "; this build reads version " + VERSION + " only");
        }
        Aggregate a = Aggregate.empty(view);
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, 1, bytes.length - 1))) {
            a.count = in.readLong();
            a.valueCount = in.readLong();
            int scale = in.readInt();
            byte[] unscaled = in.readNBytes(in.readInt());
            a.sum(new BigDecimal(new BigInteger(unscaled), scale));
            a.min = in.readDouble();
            a.max = in.readDouble();
            byte[] kll = in.readNBytes(in.readInt());
            if (kll.length > 0 && a.quantiles != null) {
                a.quantiles = KllDoublesSketch.heapify(Memory.wrap(kll));
            }
            int distinct = in.readInt();
            for (int i = 0; i < distinct; i++) {
                String name = in.readUTF();
                byte[] hll = in.readNBytes(in.readInt());
                Union union = a.distinct.get(name);
                if (union != null) {
                    union.update(HllSketch.heapify(hll));
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("corrupt aggregate of view " + view.name() + ": " + e.getMessage(), e);
        }
        return a;
    }
}
