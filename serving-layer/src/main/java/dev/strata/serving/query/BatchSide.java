package dev.strata.serving.query;

import dev.strata.schemas.views.BatchCommit;
import java.util.Optional;

/** One batch snapshot as a query holds it: its commit, its cut and its cells. */
public interface BatchSide extends CellSource {

    /** The commit of this snapshot; empty before any snapshot (cut 0: everything is speed). */
    Optional<BatchCommit> commit();

    default long cutMillis() {
        return commit().map(BatchCommit::cutMillis).orElse(0L);
    }
}
