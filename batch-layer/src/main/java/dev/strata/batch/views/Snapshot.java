package dev.strata.batch.views;

import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.AggregateCodec;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import dev.strata.batch.lake.LakeFs;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.core.fs.Path;

/**
 * A batch-view snapshot: for every view, the aggregate of each (group, window) over every event
 * appended before the snapshot's cut. Keys are {@link ViewKey}s with bucket 0. One file, versioned,
 * written whole and renamed into place (through the lake's file system):
 *
 * <pre>
 * "STRATASNAP" version(4) run(8) cut(8) entries(8) { key(len+bytes) aggregate(len+bytes) }*
 * </pre>
 */
public final class Snapshot {

    public static final String MAGIC = "STRATASNAP";
    public static final int VERSION = 1;

    private final long run;
    private final long cutMillis;
    private final Map<ViewKey, Aggregate> cells;

    public Snapshot(long run, long cutMillis, Map<ViewKey, Aggregate> cells) {
        this.run = run;
        this.cutMillis = cutMillis;
        this.cells = cells;
    }

    public static Snapshot empty() {
        return new Snapshot(0, Long.MIN_VALUE, new HashMap<>());
    }

    public long run() {
        return run;
    }

    public long cutMillis() {
        return cutMillis;
    }

    public Map<ViewKey, Aggregate> cells() {
        return cells;
    }

    /** The cell key of a view, group and window. */
    public static ViewKey cell(String view, List<String> group, long windowStart) {
        return new ViewKey(view, group, windowStart, 0);
    }

    public void write(Path file) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeBytes(MAGIC);
            out.writeInt(VERSION);
            out.writeLong(run);
            out.writeLong(cutMillis);
            out.writeLong(cells.size());
            for (Map.Entry<ViewKey, Aggregate> e : byBytes(cells).entrySet()) {
                byte[] key = e.getKey().encode();
                byte[] value = AggregateCodec.encode(e.getValue());
                out.writeInt(key.length);
                out.write(key);
                out.writeInt(value.length);
                out.write(value);
            }
        }
        LakeFs.writeAtomically(file, bytes.toByteArray());
    }

    private static Map<ViewKey, Aggregate> byBytes(Map<ViewKey, Aggregate> cells) {
        Map<ViewKey, Aggregate> sorted = new TreeMap<>((a, b) -> java.util.Arrays.compare(a.encode(), b.encode()));
        sorted.putAll(cells);
        return sorted;
    }

    /**
     * Reads a snapshot; views no longer defined are skipped.
     *
     * @throws IOException for a file that is not a snapshot or has an unknown version
     */
    public static Snapshot read(Path file, Map<String, ViewDefinition> views) throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(LakeFs.read(file)))) {
            byte[] magic = in.readNBytes(MAGIC.length());
            if (!MAGIC.equals(new String(magic, java.nio.charset.StandardCharsets.US_ASCII))) {
                throw new IOException(file + " is not a Strata snapshot");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new IOException(file + " has snapshot version " + version + "; this build reads " + VERSION);
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
            return new Snapshot(run, cut, cells);
        }
    }
}
