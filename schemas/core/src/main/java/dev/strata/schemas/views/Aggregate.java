package dev.strata.schemas.views;

import dev.strata.schemas.Event;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.datasketches.hll.TgtHllType;
import org.apache.datasketches.hll.Union;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.quantilescommon.QuantileSearchCriteria;

/**
 * The state of one view for one (group, window[, ingest bucket]): a monoid. {@link #empty} is the
 * identity, {@link #fold} adds one event, {@link #merge} combines two states, so batch ⊕ speed
 * buckets give what folding every event once would.
 *
 * <p>count, min and max are exact; the sum is exact too (a {@link BigDecimal} holds every double's
 * value exactly, so the order of addition does not change it, as floating-point addition would).
 * Distinct counts are HLL unions (Apache DataSketches), whose registers, and so estimates, do not
 * depend on how the events were split or ordered. Quantiles are KLL sketches: mergeable, with a
 * rank error of about 1.3% at k=200, but randomized, so two ways of merging agree within that bound,
 * not to the bit. Not thread-safe.
 */
public final class Aggregate {

    /** HLL precision: 2^12 registers, about 1.6% relative error. */
    public static final int HLL_LG_K = 12;
    /** KLL accuracy parameter: about 1.3% normalized rank error. */
    public static final int KLL_K = 200;

    final ViewDefinition view;
    long count;
    long valueCount;
    BigDecimal sum = BigDecimal.ZERO;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    KllDoublesSketch quantiles;
    final Map<String, Union> distinct = new LinkedHashMap<>();
    /** The distinct measures' fields and unions (those of {@link #distinct}) as arrays: fold is hot. */
    private String[] distinctFields = new String[0];
    private Union[] distinctUnions = new Union[0];

    private Aggregate(ViewDefinition view) {
        this.view = view;
    }

    /** The identity: no events. */
    public static Aggregate empty(ViewDefinition view) {
        Aggregate a = new Aggregate(view);
        if (view.hasQuantiles()) {
            a.quantiles = KllDoublesSketch.newHeapInstance(KLL_K);
        }
        List<Measure> distinctMeasures = view.distinctMeasures();
        a.distinctFields = new String[distinctMeasures.size()];
        a.distinctUnions = new Union[distinctMeasures.size()];
        for (int i = 0; i < distinctMeasures.size(); i++) {
            Measure m = distinctMeasures.get(i);
            a.distinctFields[i] = m.field();
            a.distinctUnions[i] = new Union(HLL_LG_K);
            a.distinct.put(m.name(), a.distinctUnions[i]);
        }
        return a;
    }

    public ViewDefinition view() {
        return view;
    }

    /** Adds one event (the caller has checked {@link ViewDefinition#matches}). */
    public Aggregate fold(Event event) {
        count++;
        Double value = event.getValue();
        if (value != null) {
            valueCount++;
            sum = sum.add(new BigDecimal(value));
            min = Math.min(min, value);
            max = Math.max(max, value);
            if (quantiles != null) {
                quantiles.update(value);
            }
        }
        for (int i = 0; i < distinctUnions.length; i++) {
            distinctUnions[i].update(ViewDefinition.field(event, distinctFields[i]));
        }
        return this;
    }

    /** Adds {@code other}'s events to this state; {@code other} is left as it was. */
    public Aggregate merge(Aggregate other) {
        if (!other.view.name().equals(view.name())) {
            throw new IllegalArgumentException("cannot merge view " + other.view.name() + " into " + view.name());
        }
        count += other.count;
        valueCount += other.valueCount;
        sum = sum.add(other.sum);
        min = Math.min(min, other.min);
        max = Math.max(max, other.max);
        if (quantiles != null && other.quantiles != null && !other.quantiles.isEmpty()) {
            quantiles.merge(other.quantiles);
        }
        for (Map.Entry<String, Union> e : distinct.entrySet()) {
            Union theirs = other.distinct.get(e.getKey());
            if (theirs != null) {
                e.getValue().update(theirs.getResult(TgtHllType.HLL_8));
            }
        }
        return this;
    }

    public long count() {
        return count;
    }

    public boolean isEmpty() {
        return count == 0;
    }

    /** The measures' values by name; value measures are absent (null) when no event had a value. */
    public Map<String, Double> measures() {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Measure m : view.measures()) {
            out.put(m.name(), value(m));
        }
        return out;
    }

    Double value(Measure m) {
        boolean noValues = valueCount == 0;
        return switch (m.kind()) {
            case COUNT -> (double) count;
            case SUM -> noValues ? null : sum.doubleValue();
            case MIN -> noValues ? null : min;
            case MAX -> noValues ? null : max;
            case AVG -> noValues ? null : sum.divide(BigDecimal.valueOf(valueCount), java.math.MathContext.DECIMAL64).doubleValue();
            case QUANTILE -> noValues ? null : quantiles.getQuantile(m.rank(), QuantileSearchCriteria.INCLUSIVE);
            case DISTINCT -> (double) Math.round(distinct.get(m.name()).getEstimate());
        };
    }

    /** The exact sum of the values (for tests and for rolling windows up). */
    public BigDecimal exactSum() {
        return sum;
    }

}
