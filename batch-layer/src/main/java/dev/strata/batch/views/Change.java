package dev.strata.batch.views;

import dev.strata.schemas.views.ViewKey;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** A cell whose measures differ between two snapshots (null: absent on that side). */
public record Change(ViewKey cell, Map<String, Double> before, Map<String, Double> after) {

    /** The cells whose measures differ between two snapshots, by view, window and group. */
    public static List<Change> diff(Snapshot before, Snapshot after) {
        Set<ViewKey> cells = new HashSet<>(before.cells().keySet());
        cells.addAll(after.cells().keySet());
        List<Change> changes = new ArrayList<>();
        for (ViewKey cell : cells) {
            Map<String, Double> b =
                    before.cells().containsKey(cell) ? before.cells().get(cell).measures() : null;
            Map<String, Double> a =
                    after.cells().containsKey(cell) ? after.cells().get(cell).measures() : null;
            if (!Objects.equals(b, a)) {
                changes.add(new Change(cell, b, a));
            }
        }
        changes.sort(Comparator.comparing((Change c) -> c.cell().view())
                .thenComparingLong(c -> c.cell().windowStartMillis())
                .thenComparing(c -> c.cell().group().toString()));
        return changes;
    }
}
