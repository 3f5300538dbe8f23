package dev.strata.serving.lake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Read-only SQL over the lake with DuckDB. Each query gets a fresh in-memory DuckDB with the tables
 * it names as views over their Parquet files (an Iceberg table's: its current snapshot's; on object
 * storage, local copies of them, see {@link LakeFileCache}), then the database is locked down before
 * the query runs: file access only under the lake or the copies ({@code allowed_directories} with
 * {@code enable_external_access=false}), no extension installs or loads, the configuration locked.
 * Only a single SELECT (or WITH … SELECT) is accepted, checked by DuckDB's own parser
 * ({@code json_serialize_sql} serializes SELECT statements only), and it runs as a subquery with a
 * row limit, so nothing can be written, attached, copied or set. A query running longer than the
 * timeout is interrupted.
 */
public final class LakeSql {

    /** The answer: column names and DuckDB types, rows (at most the limit), whether more rows were cut off. */
    public record Result(
            List<String> columns, List<String> types, List<List<Object>> rows, boolean truncated, long millis) {}

    /** The query is not allowed here (not read-only, more than one statement, a file outside the lake). */
    public static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    /** The query is not valid SQL, or names something that does not exist. */
    public static final class Invalid extends Exception {
        private static final long serialVersionUID = 1L;

        Invalid(String message) {
            super(message);
        }
    }

    /** The query ran longer than the limit and was interrupted. */
    public static final class TimedOut extends Exception {
        private static final long serialVersionUID = 1L;

        TimedOut(String message) {
            super(message);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final LakeTables tables;
    private final int maxRows;
    private final Duration timeout;
    private final String memoryLimit;
    private final LakeFileCache cache;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sql-timeout");
        t.setDaemon(true);
        return t;
    });

    /** SQL over a local lake. */
    public LakeSql(LakeTables tables, int maxRows, Duration timeout, String memoryLimit) {
        this.tables = tables;
        this.maxRows = maxRows;
        this.timeout = timeout;
        this.memoryLimit = memoryLimit;
        this.cache = null;
        if (!tables.local()) {
            throw new IllegalArgumentException("a lake on object storage needs a directory for local copies");
        }
    }

    /**
     * SQL over a lake anywhere: on object storage, the files a query reads are copied to {@code
     * cacheDir} first, at most {@code cacheBytes} of them kept.
     */
    public LakeSql(LakeTables tables, int maxRows, Duration timeout, String memoryLimit, Path cacheDir, long cacheBytes)
            throws IOException {
        this.tables = tables;
        this.maxRows = maxRows;
        this.timeout = timeout;
        this.memoryLimit = memoryLimit;
        this.cache = tables.local() ? null : new LakeFileCache(tables.io(), cacheDir, cacheBytes);
    }

    public int maxRows() {
        return maxRows;
    }

    public Result query(String sql, int limit) throws Refused, Invalid, TimedOut, IOException {
        String query = sql == null ? "" : sql.strip();
        while (query.endsWith(";")) {
            query = query.substring(0, query.length() - 1).strip();
        }
        if (query.isEmpty()) {
            throw new Invalid("no query: send {\"sql\": \"SELECT …\"}");
        }
        int rowLimit = limit <= 0 ? maxRows : Math.min(limit, maxRows);
        long started = System.nanoTime();
        List<LakeFileCache.Lease> leases = new ArrayList<>();
        try (Connection db = DriverManager.getConnection("jdbc:duckdb:")) {
            Set<String> named = checkReadOnly(db, query);
            try (Statement setup = db.createStatement()) {
                setup.execute("SET threads = 2");
                setup.execute("SET memory_limit = '" + memoryLimit + "'");
                for (LakeTables.Table table : tables.tables()) {
                    if (!table.files().isEmpty() && named.contains(table.name().toLowerCase(Locale.ROOT))) {
                        List<String> files = table.files();
                        if (cache != null) {
                            LakeFileCache.Lease lease = cache.fetch(files, table.fileBytes());
                            leases.add(lease);
                            files = lease.paths().stream().map(Path::toString).toList();
                        }
                        setup.execute("CREATE VIEW " + identifier(table.name()) + " AS SELECT * FROM " + scan(files));
                    }
                }
                Path readable = cache != null ? cache.directory() : tables.localDirectory();
                setup.execute("SET allowed_directories = [" + literal(readable + "/") + "]");
                setup.execute("SET enable_external_access = false");
                setup.execute("SET autoinstall_known_extensions = false");
                setup.execute("SET autoload_known_extensions = false");
                setup.execute("SET lock_configuration = true");
            }
            return run(db, query, rowLimit, started);
        } catch (SQLException e) {
            throw new IOException("DuckDB: " + e.getMessage(), e);
        } catch (LakeFileCache.TooLarge e) {
            throw new Refused(e.getMessage());
        } finally {
            leases.forEach(LakeFileCache.Lease::close);
        }
    }

    /** The names of the tables a parsed query reads (its CTEs' names too: harmless). */
    private static Set<String> tableNames(JsonNode parsed) {
        Set<String> names = new HashSet<>();
        List<JsonNode> pending = new ArrayList<>(List.of(parsed));
        while (!pending.isEmpty()) {
            JsonNode node = pending.remove(pending.size() - 1);
            if (node.isObject() && "BASE_TABLE".equals(node.path("type").asText()) && node.hasNonNull("table_name")) {
                names.add(node.path("table_name").asText().toLowerCase(Locale.ROOT));
            }
            node.forEach(pending::add);
        }
        return names;
    }

    /** DuckDB's parser decides: one statement, and a SELECT; returns the tables it names. */
    private static Set<String> checkReadOnly(Connection db, String query)
            throws SQLException, Refused, Invalid, IOException {
        try (PreparedStatement parse = db.prepareStatement("SELECT json_serialize_sql(?::VARCHAR)")) {
            parse.setString(1, query);
            try (ResultSet r = parse.executeQuery()) {
                r.next();
                JsonNode parsed = JSON.readTree(r.getString(1));
                if (parsed.path("error").asBoolean()) {
                    String message = parsed.path("error_message").asText();
                    if (parsed.path("error_type").asText().equals("not implemented")) {
                        throw new Refused("only read-only queries run here: one SELECT (or WITH … SELECT) statement; "
                                + "nothing that writes, copies, attaches, installs, sets or pragmas (" + message + ")");
                    }
                    throw new Invalid(message);
                }
                if (parsed.path("statements").size() != 1) {
                    throw new Refused("one statement per request; this has "
                            + parsed.path("statements").size());
                }
                return tableNames(parsed);
            }
        }
    }

    private Result run(Connection db, String query, int rowLimit, long started)
            throws Refused, Invalid, TimedOut, SQLException {
        AtomicBoolean cancelled = new AtomicBoolean();
        try (Statement statement = db.createStatement()) {
            ScheduledFuture<?> deadline = timer.schedule(
                    () -> {
                        cancelled.set(true);
                        try {
                            statement.cancel();
                        } catch (SQLException e) {
                            // finished meanwhile
                        }
                    },
                    timeout.toMillis(),
                    TimeUnit.MILLISECONDS);
            try (ResultSet rs =
                    statement.executeQuery("SELECT * FROM (\n" + query + "\n) AS query LIMIT " + (rowLimit + 1))) {
                ResultSetMetaData meta = rs.getMetaData();
                List<String> columns = new ArrayList<>();
                List<String> types = new ArrayList<>();
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    columns.add(meta.getColumnLabel(i));
                    types.add(meta.getColumnTypeName(i));
                }
                List<List<Object>> rows = new ArrayList<>();
                boolean truncated = false;
                while (rs.next()) {
                    if (rows.size() == rowLimit) {
                        truncated = true;
                        break;
                    }
                    List<Object> row = new ArrayList<>(columns.size());
                    for (int i = 1; i <= columns.size(); i++) {
                        row.add(jsonValue(rs.getObject(i)));
                    }
                    rows.add(row);
                }
                return new Result(columns, types, rows, truncated, (System.nanoTime() - started) / 1_000_000);
            } finally {
                deadline.cancel(false);
            }
        } catch (SQLException e) {
            if (cancelled.get()) {
                throw new TimedOut("the query ran longer than " + timeout.toMillis() + " ms and was stopped");
            }
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            if (message.contains("Permission Error")) {
                throw new Refused("only the lake's files can be read: " + firstLine(cut(message, "Permission Error")));
            }
            throw new Invalid(firstLine(cut(message, "Error: ")));
        }
    }

    /**
     * Exactly the table's files, those of its current snapshot (DuckDB reads them without its Iceberg
     * extension: the tables are appended to and overwritten, never given delete files).
     */
    private static String scan(List<String> files) {
        StringBuilder list = new StringBuilder("read_parquet([");
        for (int i = 0; i < files.size(); i++) {
            list.append(i == 0 ? "" : ", ").append(literal(files.get(i)));
        }
        // union_by_name: a file written before a column was added reads it as null.
        return list.append("], hive_partitioning = false, union_by_name = true)")
                .toString();
    }

    private static Object jsonValue(Object value) {
        if (value == null
                || value instanceof String
                || value instanceof Boolean
                || value instanceof Integer
                || value instanceof Long
                || value instanceof Double
                || value instanceof Float
                || value instanceof Short
                || value instanceof Byte
                || value instanceof BigDecimal
                || value instanceof BigInteger) {
            return value;
        }
        if (value instanceof byte[] bytes) {
            return Base64.getEncoder().encodeToString(bytes);
        }
        if (value instanceof Timestamp ts) {
            return ts.toInstant().toString();
        }
        if (value instanceof OffsetDateTime odt) {
            return odt.toInstant().toString();
        }
        return value.toString();
    }

    static String identifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    private static String cut(String message, String marker) {
        int at = message.lastIndexOf(marker);
        return at < 0 ? message : message.substring(at);
    }

    private static String firstLine(String message) {
        int nl = message.indexOf('\n');
        return (nl < 0 ? message : message.substring(0, nl)).strip();
    }
}
