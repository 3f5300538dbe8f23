package dev.strata.batch.views;

import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.ViewKey;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A batch-view snapshot in memory: for every view, the aggregate of each (group, window) over every
 * event appended before the snapshot's cut. Keys are {@link ViewKey}s with bucket 0. In the lake it
 * is a snapshot of the {@code batch_views} table ({@code ViewsTable}).
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
}
