package dev.strata.schemas.lake;

import java.util.List;
import java.util.Optional;

/** The names an uploaded dataset may have: each is a table of the lake's {@code strata} namespace. */
public final class DatasetNames {

    /** Names the lake uses itself: its tables and its zones. */
    public static final List<String> RESERVED =
            List.of("events", "batch_views", "views", "raw", "rejects", "landing", "metadata");

    private DatasetNames() {}

    /** Why {@code name} cannot name a dataset, or empty if it can. */
    public static Optional<String> invalid(String name) {
        if (name == null || !name.matches("[a-z][a-z0-9_]{0,62}")) {
            return Optional.of(
                    "a dataset name is 1-63 lower-case letters, digits or underscores, starting with a letter");
        }
        if (RESERVED.contains(name)) {
            return Optional.of("'" + name + "' is a name the lake uses itself; reserved: " + RESERVED);
        }
        return Optional.empty();
    }
}
