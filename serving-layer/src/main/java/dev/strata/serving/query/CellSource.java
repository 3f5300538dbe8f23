package dev.strata.serving.query;

import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;

/** One side of the merge: cells found by the prefix of their encoded keys. */
public interface CellSource {

    /**
     * Every cell whose encoded key starts with {@code prefix} (a view's, or a view and group's, as
     * {@link ViewKey#prefix} makes them) and that {@code wanted} takes; values are decoded only for those.
     */
    void scan(
            byte[] prefix,
            ViewDefinition view,
            Predicate<ViewKey> wanted,
            Consumer<Map.Entry<ViewKey, Aggregate>> cells);
}
