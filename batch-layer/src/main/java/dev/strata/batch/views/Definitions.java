package dev.strata.batch.views;

import dev.strata.lake.ViewsTable;
import dev.strata.schemas.views.ViewDefinition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The view definitions a batch snapshot records (each view's canonical description), and the views
 * whose definition changed since a snapshot was computed, with the replay that brings each up to date.
 */
final class Definitions {

    private Definitions() {}

    /** A canonical description of a view: equal exactly when the definitions mean the same. */
    static String describe(ViewDefinition v) {
        return "types=" + new TreeSet<>(v.types()) + " attributes=" + new TreeMap<>(v.attributes())
                + " groupBy=" + v.groupBy() + " window=" + v.window() + " measures="
                + v.measures().stream().map(m -> m.name()).toList();
    }

    /** The descriptions of {@code views}, by name, as a snapshot records them. */
    static Map<String, String> of(List<ViewDefinition> views) {
        Map<String, String> definitions = new TreeMap<>();
        views.forEach(v -> definitions.put(v.name(), describe(v)));
        return definitions;
    }

    /**
     * Each of {@code views} that is new or differs from the definition snapshot {@code head} was
     * computed with, as advice naming the replay; empty when nothing was computed yet.
     */
    static List<String> changed(ViewsTable.Head head, List<ViewDefinition> views) {
        if (head.snapshotId().isEmpty() || head.run() == 0) {
            return List.of();
        }
        List<String> advice = new ArrayList<>();
        for (ViewDefinition view : views) {
            String before = head.definitions().get(view.name());
            if (before == null) {
                advice.add("view " + view.name() + " is new: run ./strata batch replay --view " + view.name());
            } else if (!before.equals(describe(view))) {
                advice.add("view " + view.name() + " changed since the current snapshot was computed: run"
                        + " ./strata batch replay --view " + view.name() + " (add --dry-run to see what changes)");
            }
        }
        return advice;
    }
}
