package dev.strata.serving.merge;

import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The merge of DESIGN.md's cut, for one view:
 *
 * <pre>
 * merged(view, group, window) = batch(view, group, window) ⊕ Σ over buckets b ≥ cut of speed(view, group, window, b)
 * </pre>
 *
 * Speed cells of buckets below the cut are left out even while the speed job has not yet
 * tombstoned them: those events are in the batch snapshot. A {@code step} rolls windows up by
 * combining their states (an hour's average is its sum over its count, not an average of averages).
 * Inputs are never modified.
 */
public final class Merge {

    /** One point of a series: a group's merged state over [start, start + width). */
    public record Point(List<String> group, long startMillis, Aggregate aggregate) {}

    /** Which cells a query wants: an optional group, windows starting in [from, to), an optional step. */
    public record Query(Optional<List<String>> group, long fromMillis, long toMillis, Optional<Duration> step) {}

    private Merge() {}

    /**
     * The merged points of {@code view} for {@code query}, by group then start.
     *
     * @param batch the current snapshot's cells (bucket 0) of the view
     * @param speed the speed cells of the view, any bucket
     * @throws IllegalArgumentException for a step that is not a positive multiple of the view's window
     */
    public static List<Point> series(
            ViewDefinition view,
            long cutMillis,
            Iterable<Map.Entry<ViewKey, Aggregate>> batch,
            Iterable<Map.Entry<ViewKey, Aggregate>> speed,
            Query query) {
        long window = view.window().toMillis();
        long width = query.step().map(Duration::toMillis).orElse(window);
        if (width <= 0 || width % window != 0) {
            throw new IllegalArgumentException(
                    "step " + query.step().orElseThrow() + " is not a multiple of the view's window " + view.window());
        }
        Map<List<Object>, Point> points = new HashMap<>();
        for (Map.Entry<ViewKey, Aggregate> cell : batch) {
            add(view, cell, width, query, points);
        }
        for (Map.Entry<ViewKey, Aggregate> cell : speed) {
            if (cell.getKey().bucketMillis() >= cutMillis) {
                add(view, cell, width, query, points);
            }
        }
        List<Point> series = new ArrayList<>(points.values());
        series.sort(Comparator.comparing((Point p) -> String.join("\u0000", p.group()))
                .thenComparingLong(Point::startMillis));
        return series;
    }

    private static void add(
            ViewDefinition view,
            Map.Entry<ViewKey, Aggregate> cell,
            long width,
            Query query,
            Map<List<Object>, Point> points) {
        ViewKey key = cell.getKey();
        if (!key.view().equals(view.name())
                || key.windowStartMillis() < query.fromMillis()
                || key.windowStartMillis() >= query.toMillis()
                || query.group().map(g -> !g.equals(key.group())).orElse(false)) {
            return;
        }
        long start = Math.floorDiv(key.windowStartMillis(), width) * width;
        points.computeIfAbsent(List.of(key.group(), start), k -> new Point(key.group(), start, Aggregate.empty(view)))
                .aggregate()
                .merge(cell.getValue());
    }
}
