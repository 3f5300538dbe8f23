package dev.strata.schemas.views;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The key of a speed-layer aggregate, and of its record in the compacted {@code speed-views}
 * topic: (view, group, window start, ingest bucket). The bucket is the broker's append time rounded
 * down to the bucket size, which is what places each event on exactly one side of the cut.
 *
 * <p>Encoding: version(1) view(UTF) groupSize(2) {value(UTF)}* windowStart(8) bucket(8).
 */
public record ViewKey(String view, List<String> group, long windowStartMillis, long bucketMillis) {

    public static final byte VERSION = 1;

    public ViewKey {
        group = List.copyOf(group);
    }

    /** The bucket of an append time: rounded down to a multiple of {@code bucketSizeMillis}. */
    public static long bucketOf(long appendTimeMillis, long bucketSizeMillis) {
        return Math.floorDiv(appendTimeMillis, bucketSizeMillis) * bucketSizeMillis;
    }

    public byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeUTF(view);
            out.writeShort(group.size());
            for (String value : group) {
                out.writeUTF(value);
            }
            out.writeLong(windowStartMillis);
            out.writeLong(bucketMillis);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * The bytes every encoded key of {@code view} starts with, and (when {@code group} is given)
     * of that group: stores sorted by key bytes hold a view's or a group's cells together, its
     * windows in order (for non-negative times) and each window's buckets together.
     */
    public static byte[] prefix(String view, Optional<List<String>> group) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(32);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeUTF(view);
            if (group.isPresent()) {
                out.writeShort(group.get().size());
                for (String value : group.get()) {
                    out.writeUTF(value);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** @throws IllegalArgumentException for an unknown version or bytes that are not a key */
    public static ViewKey decode(byte[] bytes) {
        if (bytes == null || bytes.length == 0 || bytes[0] != VERSION) {
            throw new IllegalArgumentException("view key has format version "
                    + (bytes == null || bytes.length == 0 ? "none" : Byte.toString(bytes[0]))
                    + "; this build reads version " + VERSION + " only");
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, 1, bytes.length - 1))) {
            String view = in.readUTF();
            int size = in.readUnsignedShort();
            List<String> group = new ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                group.add(in.readUTF());
            }
            return new ViewKey(view, group, in.readLong(), in.readLong());
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt view key: " + e, e);
        }
    }
}
