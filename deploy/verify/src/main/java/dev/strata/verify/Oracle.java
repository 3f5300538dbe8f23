package dev.strata.verify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.schemas.views.Measure;
import dev.strata.schemas.views.ViewDefinition;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The expected views, computed without any of Strata's code: DuckDB over the log of acknowledged
 * events, each id once (a retry resends the same event), each view's filter, groups, window and
 * measures turned into SQL from its definition. Exact measures must be equal: count, sum (DuckDB
 * sums DECIMAL, the values having two decimals), min, max and avg. Sketches within their error: a
 * distinct count (HLL) within 3% (or 1) of the exact one; a quantile (KLL) at a rank within 2% of
 * the one asked for among the cell's values.
 */
final class Oracle {

    static final ObjectMapper JSON = new ObjectMapper();
    static final double DISTINCT_ERROR = 0.03;
    static final double QUANTILE_RANK_ERROR = 0.02;

    /** One cell's expected measures, by measure name: a number, null (no values), or the cell's sorted values. */
    record Cell(ViewDefinition view, Map<String, Object> measures) {}

    /** The acknowledged log's fields, as DuckDB reads them. */
    static final String COLUMNS = "{id: 'VARCHAR', source: 'VARCHAR', type: 'VARCHAR', time: 'BIGINT',"
            + " value: 'DECIMAL(18,2)', attributes: 'JSON', via: 'VARCHAR'}";

    /** How many events the log acknowledged: distinct (source, id). */
    static long events(Path ackLog) throws Exception {
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                Statement sql = duck.createStatement();
                ResultSet r = sql.executeQuery("SELECT count(*) FROM (SELECT DISTINCT source, id FROM read_json('"
                        + ackLog + "', format = 'newline_delimited', columns = " + COLUMNS + "))")) {
            r.next();
            return r.getLong(1);
        }
    }

    /** "view|[group…]|windowStart" → expected measures of every view. */
    static Map<String, Cell> compute(Path ackLog, List<ViewDefinition> views) throws Exception {
        Map<String, Cell> cells = new TreeMap<>();
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                Statement sql = duck.createStatement()) {
            sql.execute("CREATE TABLE acked AS SELECT * FROM read_json('" + ackLog + "', format = 'newline_delimited',"
                    + " columns = " + COLUMNS + ")");
            // An event is identified by (source, id): another source's event with the same id counts too.
            sql.execute("CREATE TABLE events AS SELECT id, source, any_value(type) AS type,"
                    + " any_value(time) AS time, any_value(value) AS value, any_value(attributes) AS attributes"
                    + " FROM acked GROUP BY source, id");
            for (ViewDefinition view : views) {
                try (ResultSet r = sql.executeQuery(query(view))) {
                    while (r.next()) {
                        List<String> group = new ArrayList<>();
                        for (int g = 0; g < view.groupBy().size(); g++) {
                            group.add(r.getString("g" + g));
                        }
                        Map<String, Object> measures = new LinkedHashMap<>();
                        for (Measure m : view.measures()) {
                            measures.put(m.name(), expected(m, r));
                        }
                        cells.put(key(view.name(), group, r.getLong("w")), new Cell(view, measures));
                    }
                }
            }
        }
        return cells;
    }

    static String key(String view, List<String> group, long windowStart) throws JsonProcessingException {
        return view + "|" + JSON.writeValueAsString(group) + "|" + windowStart;
    }

    /** The view as one SQL query: its filter, its groups g0…, its window start w and each measure's inputs. */
    static String query(ViewDefinition view) {
        List<String> select = new ArrayList<>();
        for (int g = 0; g < view.groupBy().size(); g++) {
            select.add(field(view.groupBy().get(g)) + " AS g" + g);
        }
        long size = view.window().toMillis();
        select.add("time // " + size + " * " + size + " AS w");
        select.add("count(*) AS count");
        select.add("sum(value) AS sum");
        select.add("min(value) AS min");
        select.add("max(value) AS max");
        select.add("count(value) AS n");
        select.add("list(value::DOUBLE ORDER BY value) FILTER (WHERE value IS NOT NULL) AS vals");
        for (Measure m : view.distinctMeasures()) {
            select.add("count(DISTINCT " + field(m.field()) + ") AS \"" + m.name() + "\"");
        }
        List<String> where = new ArrayList<>();
        if (!view.types().isEmpty()) {
            where.add("type IN (" + view.types().stream().map(Oracle::literal).collect(Collectors.joining(", ")) + ")");
        }
        view.attributes().forEach((k, v) -> where.add("attributes->>" + literal(k) + " = " + literal(v)));
        return "SELECT " + String.join(", ", select) + " FROM events"
                + (where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where)) + " GROUP BY ALL";
    }

    /** A group-by or distinct field in SQL: source, type, or an attribute ("" when absent, as views have it). */
    static String field(String field) {
        if (field.equals("source") || field.equals("type")) {
            return field;
        }
        return "coalesce(attributes->>" + literal(field.substring("attributes.".length())) + ", '')";
    }

    static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    private static Object expected(Measure m, ResultSet r) throws SQLException {
        BigDecimal sum = r.getBigDecimal("sum");
        return switch (m.kind()) {
            case COUNT -> r.getLong("count");
            case SUM -> sum;
            case MIN -> sum == null ? null : r.getDouble("min");
            case MAX -> sum == null ? null : r.getDouble("max");
            case AVG -> sum == null ? null : sum.doubleValue() / r.getLong("n");
            case DISTINCT -> r.getLong(m.name());
            case QUANTILE -> sum == null ? null : sortedValues(r.getArray("vals"));
        };
    }

    private static double[] sortedValues(Array array) throws SQLException {
        Object[] values = (Object[]) array.getArray();
        return Arrays.stream(values)
                .mapToDouble(v -> ((Number) v).doubleValue())
                .toArray();
    }

    /** The mismatches between the expected cells and the serving layer's merged points ("view|group|start" → measures). */
    static List<String> compare(Map<String, Cell> expected, Map<String, JsonNode> merged) {
        List<String> mismatches = new ArrayList<>();
        for (Map.Entry<String, Cell> e : expected.entrySet()) {
            JsonNode actual = merged.get(e.getKey());
            Cell cell = e.getValue();
            if (actual == null) {
                mismatches.add(e.getKey() + ": missing (expected count "
                        + cell.measures().get("count") + ")");
                continue;
            }
            for (Measure m : cell.view().measures()) {
                String problem = mismatch(m, cell.measures().get(m.name()), actual.get(m.name()));
                if (problem != null) {
                    mismatches.add(e.getKey() + ": " + m.name() + " " + problem);
                }
            }
        }
        for (String key : merged.keySet()) {
            if (!expected.containsKey(key)) {
                mismatches.add(key + ": in the merged view, but no acknowledged event is (counted "
                        + merged.get(key).get("count") + ")");
            }
        }
        return mismatches;
    }

    /** Null if the merged value of {@code m} is right, else what is wrong. */
    static String mismatch(Measure m, Object expected, JsonNode actual) {
        if (actual == null) {
            return "absent from the answer";
        }
        if (expected == null || actual.isNull()) {
            return expected == null && actual.isNull() ? null : actual + ", expected " + expected;
        }
        double value = actual.asDouble();
        return switch (m.kind()) {
            case COUNT -> value == ((Long) expected) ? null : value + ", expected " + expected;
            case SUM, AVG -> {
                double want = expected instanceof BigDecimal d ? d.doubleValue() : (Double) expected;
                yield Math.abs(value - want) <= 1e-9 * Math.max(1, Math.abs(want))
                        ? null
                        : value + ", expected " + want;
            }
            case MIN, MAX -> value == (Double) expected ? null : value + ", expected " + expected;
            case DISTINCT -> {
                long exact = (Long) expected;
                yield Math.abs(value - exact) <= Math.max(1, DISTINCT_ERROR * exact)
                        ? null
                        : value + ", expected " + exact + " within " + (int) (DISTINCT_ERROR * 100) + "%";
            }
            case QUANTILE -> {
                double[] sorted = (double[]) expected;
                long below = Arrays.stream(sorted).filter(v -> v < value).count();
                long atOrBelow = Arrays.stream(sorted).filter(v -> v <= value).count();
                boolean ok = (double) below / sorted.length <= m.rank() + QUANTILE_RANK_ERROR
                        && (double) atOrBelow / sorted.length >= m.rank() - QUANTILE_RANK_ERROR;
                yield ok
                        ? null
                        : value + " is at ranks " + below + ".." + atOrBelow + " of " + sorted.length
                                + " values, expected about " + m.rank();
            }
        };
    }
}
