package dev.strata.schemas.views;

import dev.strata.schemas.Event;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Arrays;
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
 * Folding adds each value to a short exact expansion of doubles first (Shewchuk's two-sum, as
 * Python's {@code math.fsum}: the expansion's terms add up to the exact sum) and only reading,
 * merging or encoding turns it into the {@link BigDecimal}: a {@code new BigDecimal(double)} per
 * event was the largest single cost of a recompute.
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
    /** The exact sum of the values folded before the last {@link #settle}; {@link #pending} holds the rest. */
    private BigDecimal sum = BigDecimal.ZERO;
    /** Non-overlapping doubles whose exact sum is what was folded since the last {@link #settle}. */
    private double[] pending = new double[4];

    private int pendingCount;
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
        foldValue(event.getValue());
        for (int i = 0; i < distinctUnions.length; i++) {
            distinctUnions[i].update(ViewDefinition.field(event, distinctFields[i]));
        }
        return this;
    }

    /**
     * Adds one event given as its value and the values of the view's distinct fields, in the order
     * of {@link ViewDefinition#distinctMeasures()}: the same as {@link #fold(Event)} of that event.
     */
    public Aggregate fold(Double value, String[] distinctValues) {
        if (distinctValues.length != distinctUnions.length) {
            throw new IllegalArgumentException("view " + view.name() + " has " + distinctUnions.length
                    + " distinct measures; got " + distinctValues.length + " values");
        }
        foldValue(value);
        for (int i = 0; i < distinctUnions.length; i++) {
            distinctUnions[i].update(distinctValues[i]);
        }
        return this;
    }

    private void foldValue(Double value) {
        count++;
        if (value != null) {
            valueCount++;
            addExactly(value);
            min = Math.min(min, value);
            max = Math.max(max, value);
            if (quantiles != null) {
                quantiles.update(value);
            }
        }
    }

    /** Adds {@code other}'s events to this state; {@code other} is left as it was. */
    public Aggregate merge(Aggregate other) {
        if (!other.view.name().equals(view.name())) {
            throw new IllegalArgumentException("cannot merge view " + other.view.name() + " into " + view.name());
        }
        count += other.count;
        valueCount += other.valueCount;
        sum = sum().add(other.sum());
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

    /** Adds {@code x} to the expansion {@link #pending} without rounding (Shewchuk's grow-expansion). */
    private void addExactly(double x) {
        int kept = 0;
        for (int j = 0; j < pendingCount; j++) {
            double y = pending[j];
            if (Math.abs(x) < Math.abs(y)) {
                double t = x;
                x = y;
                y = t;
            }
            double hi = x + y;
            if (Double.isInfinite(hi)) { // two-sum needs a finite sum: add what is left exactly instead
                BigDecimal rest = new BigDecimal(x).add(new BigDecimal(y));
                for (int r = j + 1; r < pendingCount; r++) {
                    rest = rest.add(new BigDecimal(pending[r]));
                }
                pendingCount = kept;
                sum = sum().add(rest);
                return;
            }
            double lo = y - (hi - x);
            if (lo != 0.0) {
                pending[kept++] = lo;
            }
            x = hi;
        }
        if (kept == pending.length) {
            pending = Arrays.copyOf(pending, kept * 2);
        }
        pending[kept++] = x;
        pendingCount = kept;
    }

    /** The exact sum: {@link #sum} plus the pending expansion, which is emptied. */
    BigDecimal sum() {
        for (int i = 0; i < pendingCount; i++) {
            sum = sum.add(new BigDecimal(pending[i]));
        }
        pendingCount = 0;
        return sum;
    }

    void sum(BigDecimal exact) {
        sum = exact;
        pendingCount = 0;
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
            case SUM -> noValues ? null : sum().doubleValue();
            case MIN -> noValues ? null : min;
            case MAX -> noValues ? null : max;
            case AVG ->
                noValues
                        ? null
                        : sum().divide(BigDecimal.valueOf(valueCount), MathContext.DECIMAL64)
                                .doubleValue();
            case QUANTILE -> noValues ? null : quantiles.getQuantile(m.rank(), QuantileSearchCriteria.INCLUSIVE);
            case DISTINCT -> (double) Math.round(distinct.get(m.name()).getEstimate());
        };
    }

    /** The exact sum of the values (for tests and for rolling windows up). */
    public BigDecimal exactSum() {
        return sum();
    }
}
