package dev.strata.batch.views;

import dev.strata.batch.lake.LakeFs;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.SnapshotCodec;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.fs.Path;

/**
 * A batch-view snapshot: for every view, the aggregate of each (group, window) over every event
 * appended before the snapshot's cut. Keys are {@link ViewKey}s with bucket 0. One file in the
 * format of {@link SnapshotCodec} (shared with the serving layer), written whole and renamed into
 * place through the lake's file system.
 */
public final class Snapshot {

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
        LakeFs.writeAtomically(file, SnapshotCodec.encode(run, cutMillis, cells));
    }

    /**
     * Reads a snapshot; views no longer defined are skipped.
     *
     * @throws IOException for a file that is not a snapshot or has an unknown version
     */
    public static Snapshot read(Path file, Map<String, ViewDefinition> views) throws IOException {
        try {
            SnapshotCodec.Decoded d = SnapshotCodec.decode(LakeFs.read(file), views);
            return new Snapshot(d.run(), d.cutMillis(), d.cells());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }
}
