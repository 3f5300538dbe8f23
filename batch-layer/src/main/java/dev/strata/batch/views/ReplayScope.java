package dev.strata.batch.views;

import dev.strata.schemas.views.ViewKey;
import java.util.Optional;

/** A view, a window range, or both, to recompute; empty parts mean "all". */
public record ReplayScope(Optional<String> view, Optional<Long> fromMillis, Optional<Long> toMillis) {
    public static final ReplayScope ALL = new ReplayScope(Optional.empty(), Optional.empty(), Optional.empty());

    boolean covers(ViewKey cell) {
        return view.map(v -> v.equals(cell.view())).orElse(true)
                && fromMillis.map(f -> cell.windowStartMillis() >= f).orElse(true)
                && toMillis.map(t -> cell.windowStartMillis() < t).orElse(true);
    }
}
