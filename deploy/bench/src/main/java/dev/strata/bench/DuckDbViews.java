package dev.strata.bench;

import dev.strata.lake.EventsTable;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.stream.Collectors;
import org.apache.iceberg.expressions.Expressions;

/**
 * The reference of {@code strata bench batch}'s recompute: both default views (per source and
 * minute: count, sum, min, max, avg, p95; per type and hour: count, distinct sources) computed by
 * DuckDB over the files of the events table's current snapshot, with the same dedup by (source, id)
 * (first appended counts) or without it.
 */
final class DuckDbViews {

    private DuckDbViews() {}

    /** Computes both views; returns the number of cells. */
    static int run(Statement sql, EventsTable table, boolean dedup) throws Exception {
        // The files of the table's current snapshot, as Iceberg plans them.
        String files = "read_parquet("
                + table.files(Expressions.alwaysTrue()).stream()
                        .map(f -> "'" + f.location().replaceFirst("^file:", "") + "'")
                        .collect(Collectors.joining(",", "[", "]"))
                + ")";
        String rows = dedup
                ? "(SELECT * FROM " + files
                        + " QUALIFY row_number() OVER (PARTITION BY source, id ORDER BY append_time,"
                        + " kafka_partition, kafka_offset) = 1)"
                : files;
        sql.execute("CREATE OR REPLACE TEMP TABLE bench_rows AS SELECT source, type, time, value FROM " + rows);
        int cells = 0;
        try (ResultSet r = sql.executeQuery(
                "SELECT source, time_bucket(INTERVAL 1 minute, time), count(*), sum(value), min(value),"
                        + " max(value), avg(value), approx_quantile(value, 0.95) FROM bench_rows GROUP BY ALL")) {
            while (r.next()) {
                cells++;
            }
        }
        try (ResultSet r = sql.executeQuery(
                "SELECT type, time_bucket(INTERVAL 1 hour, time), count(*), approx_count_distinct(source)"
                        + " FROM bench_rows GROUP BY ALL")) {
            while (r.next()) {
                cells++;
            }
        }
        return cells;
    }
}
