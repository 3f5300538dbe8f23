package dev.strata.schemas.views;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The bytes of a batch-view snapshot, written by the batch layer and read by the serving layer:
 * for every view, the aggregate of each (group, window) over every event appended before the cut.
 * Keys are {@link ViewKey}s with bucket 0, in byte order:
 *
 * <pre>
 * "STRATASNAP" version(4) run(8) cut(8) entries(8) { key(len+bytes) aggregate(len+bytes) }*
 * </pre>
 */
public final class SnapshotCodec {

    public static final String MAGIC = "STRATASNAP";
    public static final int VERSION = 1;

    /** A decoded snapshot. */
    public record Decoded(long run, long cutMillis, Map<ViewKey, Aggregate> cells) {}

    private SnapshotCodec() {}

    public static byte[] encode(long run, long cutMillis, Map<ViewKey, Aggregate> cells) {
        Map<ViewKey, Aggregate> sorted = new TreeMap<>((a, b) -> Arrays.compare(a.encode(), b.encode()));
        sorted.putAll(cells);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeBytes(MAGIC);
            out.writeInt(VERSION);
            out.writeLong(run);
            out.writeLong(cutMillis);
            out.writeLong(sorted.size());
            for (Map.Entry<ViewKey, Aggregate> e : sorted.entrySet()) {
                byte[] key = e.getKey().encode();
                byte[] value = AggregateCodec.encode(e.getValue());
                out.writeInt(key.length);
                out.write(key);
                out.writeInt(value.length);
                out.write(value);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Decodes a snapshot; cells of views no longer defined are skipped.
     *
     * @throws IllegalArgumentException for bytes that are not a snapshot or of an unknown version
     */
    public static Decoded decode(byte[] bytes, Map<String, ViewDefinition> views) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            byte[] magic = in.readNBytes(MAGIC.length());
            if (!MAGIC.equals(new String(magic, StandardCharsets.US_ASCII))) {
                throw new IllegalArgumentException("not a Strata snapshot");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new IllegalArgumentException("snapshot version " + version + "; this build reads " + VERSION);
            }
            long run = in.readLong();
            long cut = in.readLong();
            long count = in.readLong();
            Map<ViewKey, Aggregate> cells = new HashMap<>();
            for (long i = 0; i < count; i++) {
                ViewKey key = ViewKey.decode(in.readNBytes(in.readInt()));
                byte[] value = in.readNBytes(in.readInt());
                ViewDefinition view = views.get(key.view());
                if (view != null) {
                    cells.put(key, AggregateCodec.decode(view, value));
                }
            }
            return new Decoded(run, cut, cells);
        } catch (IOException e) {
            throw new IllegalArgumentException("truncated snapshot: " + e.getMessage(), e);
        }
    }
}
