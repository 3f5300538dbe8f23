package dev.strata.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The expected views, computed without any of Strata's code: DuckDB over the log of acknowledged
 * events, each id once (a retry resends the same event), grouped as the default views group them.
 * Exact measures must be equal: count, sum (DuckDB sums DECIMAL, the values having two decimals),
 * min and max. The distinct count of sources per type and hour is an HLL estimate in Strata; it must
 * be within 3% (or 1) of the exact count.
 */
final class Oracle {

    static final ObjectMapper JSON = new ObjectMapper();

    /** One cell's expected measures. */
    record Cell(long count, BigDecimal sum, Double min, Double max, Long distinctSources) {}

    /** "view|group|windowStart" → expected measures. */
    static Map<String, Cell> compute(Path ackLog) throws Exception {
        Map<String, Cell> cells = new TreeMap<>();
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                Statement sql = duck.createStatement()) {
            sql.execute("CREATE TABLE acked AS SELECT * FROM read_json('" + ackLog + "', format = 'newline_delimited',"
                    + " columns = {id: 'VARCHAR', source: 'VARCHAR', type: 'VARCHAR', time: 'BIGINT', value: 'DECIMAL(18,2)',"
                    + " attributes: 'JSON', via: 'VARCHAR'})");
            sql.execute("CREATE TABLE events AS SELECT id, any_value(source) AS source, any_value(type) AS type,"
                    + " any_value(time) AS time, any_value(value) AS value FROM acked GROUP BY id");
            try (ResultSet r = sql.executeQuery(
                    "SELECT source, time // 60000 * 60000 AS w, count(*), sum(value), min(value), max(value)"
                            + " FROM events GROUP BY ALL")) {
                while (r.next()) {
                    BigDecimal sum = r.getBigDecimal(4);
                    cells.put(
                            "events_per_source_1m|[\"" + r.getString(1) + "\"]|" + r.getLong(2),
                            new Cell(
                                    r.getLong(3),
                                    sum,
                                    sum == null ? null : r.getDouble(5),
                                    sum == null ? null : r.getDouble(6),
                                    null));
                }
            }
            try (ResultSet r =
                    sql.executeQuery("SELECT type, time // 3600000 * 3600000 AS w, count(*), count(DISTINCT source)"
                            + " FROM events GROUP BY ALL")) {
                while (r.next()) {
                    cells.put(
                            "events_per_type_1h|[\"" + r.getString(1) + "\"]|" + r.getLong(2),
                            new Cell(r.getLong(3), null, null, null, r.getLong(4)));
                }
            }
        }
        return cells;
    }

    /** The mismatches between the expected cells and the serving layer's merged points ("view|group|start" → measures). */
    static List<String> compare(Map<String, Cell> expected, Map<String, JsonNode> merged) {
        List<String> mismatches = new ArrayList<>();
        for (Map.Entry<String, Cell> e : expected.entrySet()) {
            JsonNode m = merged.get(e.getKey());
            Cell c = e.getValue();
            if (m == null) {
                mismatches.add(e.getKey() + ": missing (expected count " + c.count() + ")");
                continue;
            }
            if (m.get("count").asLong() != c.count()) {
                mismatches.add(e.getKey() + ": count " + m.get("count").asLong() + ", expected " + c.count());
            }
            if (e.getKey().startsWith("events_per_source_1m")) {
                if (c.sum() == null
                        ? !m.get("sum").isNull()
                        : m.get("sum").isNull()
                                || Math.abs(m.get("sum").asDouble() - c.sum().doubleValue())
                                        > 1e-9 * Math.max(1, Math.abs(c.sum().doubleValue()))) {
                    mismatches.add(e.getKey() + ": sum " + m.get("sum") + ", expected " + c.sum());
                }
                if (c.min() != null
                        && (m.get("min").asDouble() != c.min() || m.get("max").asDouble() != c.max())) {
                    mismatches.add(e.getKey() + ": min/max " + m.get("min") + "/" + m.get("max") + ", expected "
                            + c.min() + "/" + c.max());
                }
            } else {
                long estimate = m.get("distinct_source").asLong();
                if (Math.abs(estimate - c.distinctSources()) > Math.max(1, 0.03 * c.distinctSources())) {
                    mismatches.add(e.getKey() + ": distinct sources " + estimate + ", expected " + c.distinctSources());
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
}
