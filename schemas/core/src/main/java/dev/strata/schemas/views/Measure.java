package dev.strata.schemas.views;

import java.io.Serializable;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One measure of a view, as written in the view config: {@code count}, {@code sum}, {@code min},
 * {@code max}, {@code avg} (of the events' values), {@code p50}/{@code p90}/{@code p95}/{@code p99}
 * (quantiles of the value, a KLL sketch) or {@code distinct(<field>)} (distinct values of
 * {@code source}, {@code type} or {@code attributes.<key>}, an HLL sketch).
 */
public record Measure(String name, Kind kind, String field, double rank) implements Serializable {

    public enum Kind {
        COUNT,
        SUM,
        MIN,
        MAX,
        AVG,
        QUANTILE,
        DISTINCT
    }

    static final Pattern QUANTILE = Pattern.compile("p(50|90|95|99)");
    static final Pattern DISTINCT = Pattern.compile("distinct\\(([^()]+)\\)");

    /**
     * Parses a measure.
     *
     * @throws IllegalArgumentException naming the measure and what is allowed
     */
    public static Measure parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        switch (t) {
            case "count":
                return new Measure("count", Kind.COUNT, null, 0);
            case "sum":
                return new Measure("sum", Kind.SUM, null, 0);
            case "min":
                return new Measure("min", Kind.MIN, null, 0);
            case "max":
                return new Measure("max", Kind.MAX, null, 0);
            case "avg":
                return new Measure("avg", Kind.AVG, null, 0);
            default:
                break;
        }
        Matcher q = QUANTILE.matcher(t);
        if (q.matches()) {
            return new Measure(t, Kind.QUANTILE, null, Integer.parseInt(q.group(1)) / 100.0);
        }
        Matcher d = DISTINCT.matcher(text == null ? "" : text.trim());
        if (d.matches()) {
            String field = d.group(1).trim();
            ViewDefinition.checkField(field);
            return new Measure("distinct_" + field.replace("attributes.", ""), Kind.DISTINCT, field, 0);
        }
        throw new IllegalArgumentException("unknown measure '" + text
                + "' (measures: count, sum, min, max, avg, p50, p90, p95, p99, distinct(<field>))");
    }
}
