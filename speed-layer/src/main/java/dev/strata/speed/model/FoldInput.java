package dev.strata.speed.model;

import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.ViewDefinition;

/**
 * What an {@link Aggregate} folds of one event for one view: its value and the values of the view's
 * distinct fields (in the order of {@link ViewDefinition#distinctMeasures()}). The speed layer buffers these per key
 * and folds them at emission. A Flink POJO.
 */
public class FoldInput {
    public Double value;
    public String[] distinct;

    public FoldInput() {}

    public FoldInput(Double value, String[] distinct) {
        this.value = value;
        this.distinct = distinct;
    }

    /** Adds this event to {@code aggregate}. */
    public void foldInto(Aggregate aggregate) {
        aggregate.fold(value, distinct);
    }
}
