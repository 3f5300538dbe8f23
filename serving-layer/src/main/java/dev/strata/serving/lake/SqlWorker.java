package dev.strata.serving.lake;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * Runs one query of {@link LakeSql} with DuckDB, in a process of its own ({@link SqlWorkers}: a
 * query's memory is bounded by the process's limit, which also holds what DuckDB's
 * {@code memory_limit} does not count, such as one huge string). Reads a job (one JSON line) from
 * stdin, answers one JSON line on stdout, and waits for the next.
 *
 * <p>Each job gets a fresh in-memory DuckDB: the named tables as views over exactly their files,
 * then the database locked down (file access to exactly those files with {@code allowed_paths} and
 * {@code enable_external_access=false}, no extension installs or loads, the configuration locked),
 * memory, spill and time bounded; the query runs as a subquery with a row limit, its columns renamed
 * by position plus one more, each row's size as text, read before the row, so no answer past the
 * byte bound is ever held.
 */
public final class SqlWorker {

    /**
     * What to run: the query, its tables' files, the files it may read, and its bounds.
     *
     * @param timeoutMillis the time left of the request's {@code --sql-timeout} ({@code sqlTimeoutMillis})
     */
    public record Job(
            String query,
            int rowLimit,
            Map<String, List<String>> views,
            List<String> readable,
            String memoryLimit,
            String spillDirectory,
            long spillBytes,
            long maxResultBytes,
            long timeoutMillis,
            long sqlTimeoutMillis) {}

    static final ObjectMapper JSON = new ObjectMapper();

    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sql-timeout");
        t.setDaemon(true);
        return t;
    });

    private SqlWorker() {}

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        System.setOut(new PrintStream(System.err, true, StandardCharsets.UTF_8)); // only answers on stdout
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            ObjectNode answer;
            try {
                answer = answer(execute(JSON.readValue(line, Job.class)));
            } catch (LakeSql.Refused e) {
                answer = error("refused", e.getMessage());
            } catch (LakeSql.Invalid e) {
                answer = error("invalid", e.getMessage());
            } catch (LakeSql.TimedOut e) {
                answer = error("timeout", e.getMessage());
            } catch (LakeSql.TooLarge e) {
                answer = error("too_large", e.getMessage());
            } catch (Exception | OutOfMemoryError e) {
                answer = error("failed", String.valueOf(e.getMessage()));
            }
            out.println(JSON.writeValueAsString(answer));
            out.flush();
        }
    }

    static ObjectNode error(String kind, String message) {
        return JSON.createObjectNode().put("error", kind).put("message", message);
    }

    static ObjectNode answer(LakeSql.Result result) {
        ObjectNode answer = JSON.createObjectNode();
        ArrayNode columns = answer.putArray("columns");
        result.columns().forEach(columns::add);
        ArrayNode types = answer.putArray("types");
        result.types().forEach(types::add);
        answer.set("rows", JSON.valueToTree(result.rows()));
        answer.put("truncated", result.truncated());
        return answer;
    }

    /** Runs {@code job} here; the bounds of the job hold, the process's memory limit is the caller's. */
    static LakeSql.Result execute(Job job)
            throws SQLException, LakeSql.Refused, LakeSql.Invalid, LakeSql.TimedOut, LakeSql.TooLarge {
        long started = System.nanoTime();
        Properties streaming = new Properties();
        streaming.setProperty("jdbc_stream_results", "true"); // rows as they come, not all held at once
        try (Connection db = DriverManager.getConnection("jdbc:duckdb:", streaming)) {
            try (Statement setup = db.createStatement()) {
                setup.execute("SET threads = 2");
                setup.execute("SET memory_limit = '" + job.memoryLimit() + "'");
                setup.execute("SET temp_directory = " + LakeSql.literal(job.spillDirectory()));
                setup.execute("SET max_temp_directory_size = '" + job.spillBytes() + "B'");
                for (Map.Entry<String, List<String>> view : job.views().entrySet()) {
                    setup.execute("CREATE VIEW " + LakeSql.identifier(view.getKey()) + " AS SELECT * FROM "
                            + scan(view.getValue()));
                }
                // Exactly the named tables' files: nothing else of the lake (raw uploads, rejects,
                // uploads in flight, files of runs that never committed), nothing outside it.
                setup.execute("SET allowed_directories = []");
                setup.execute("SET allowed_paths = ["
                        + job.readable().stream().map(LakeSql::literal).collect(Collectors.joining(", ")) + "]");
                setup.execute("SET enable_external_access = false");
                setup.execute("SET autoinstall_known_extensions = false");
                setup.execute("SET autoload_known_extensions = false");
                setup.execute("SET lock_configuration = true");
            }
            return run(db, job, started);
        }
    }

    private static LakeSql.Result run(Connection db, Job job, long started)
            throws LakeSql.Refused, LakeSql.Invalid, LakeSql.TimedOut, LakeSql.TooLarge {
        AtomicBoolean cancelled = new AtomicBoolean();
        List<String> columns = new ArrayList<>();
        List<String> types = new ArrayList<>();
        String query = job.query();
        try (Statement statement = db.createStatement()) {
            ScheduledFuture<?> stop = TIMER.schedule(
                    () -> {
                        cancelled.set(true);
                        try {
                            statement.cancel();
                        } catch (SQLException e) {
                            // finished meanwhile
                        }
                    },
                    Math.max(0, job.timeoutMillis()),
                    TimeUnit.MILLISECONDS);
            try {
                try (PreparedStatement described = db.prepareStatement("SELECT * FROM (\n" + query + "\n) AS query")) {
                    ResultSetMetaData meta = described.getMetaData();
                    for (int i = 1; i <= meta.getColumnCount(); i++) {
                        columns.add(meta.getColumnLabel(i));
                        types.add(meta.getColumnTypeName(i));
                    }
                }
                StringBuilder sized = new StringBuilder("SELECT *, 0");
                StringBuilder names = new StringBuilder();
                for (int i = 1; i <= columns.size(); i++) {
                    sized.append(" + coalesce(strlen(CAST(c").append(i).append(" AS VARCHAR)), 0) + 8");
                    names.append(i == 1 ? "" : ", ").append('c').append(i);
                }
                try (ResultSet rs = statement.executeQuery(
                        sized + " FROM (\n" + query + "\n) AS query(" + names + ") LIMIT " + (job.rowLimit() + 1))) {
                    List<List<Object>> rows = new ArrayList<>();
                    boolean truncated = false;
                    long bytes = 0;
                    while (rs.next()) {
                        if (rows.size() == job.rowLimit()) {
                            truncated = true;
                            break;
                        }
                        bytes += rs.getLong(columns.size() + 1);
                        if (bytes > job.maxResultBytes()) {
                            throw new LakeSql.TooLarge("the answer is larger than --sql-max-result-bytes ("
                                    + job.maxResultBytes() + " bytes) after " + rows.size()
                                    + " rows: select fewer rows (LIMIT) or smaller columns");
                        }
                        List<Object> row = new ArrayList<>(columns.size());
                        for (int i = 1; i <= columns.size(); i++) {
                            row.add(jsonValue(rs.getObject(i)));
                        }
                        rows.add(row);
                    }
                    return new LakeSql.Result(
                            columns, types, rows, truncated, (System.nanoTime() - started) / 1_000_000);
                }
            } finally {
                stop.cancel(false);
            }
        } catch (SQLException e) {
            if (cancelled.get()) {
                throw new LakeSql.TimedOut(LakeSql.timedOut(job.sqlTimeoutMillis()));
            }
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            if (message.contains("Permission Error")) {
                throw new LakeSql.Refused(
                        "only the tables' files can be read: " + firstLine(cut(message, "Permission Error")));
            }
            if (message.contains("Out of Memory Error")) {
                throw new LakeSql.TooLarge("the query needs more than --sql-memory (" + job.memoryLimit()
                        + ") and --sql-spill-bytes (" + job.spillBytes() + " bytes of disk to spill to): "
                        + firstLine(cut(message, "Out of Memory Error")));
            }
            throw new LakeSql.Invalid(firstLine(cut(message, "Error: ")));
        }
    }

    /**
     * Exactly the table's files, those of its current snapshot (DuckDB reads them without its Iceberg
     * extension: the tables are appended to and overwritten, never given delete files).
     */
    private static String scan(List<String> files) {
        StringBuilder list = new StringBuilder("read_parquet([");
        for (int i = 0; i < files.size(); i++) {
            list.append(i == 0 ? "" : ", ").append(LakeSql.literal(files.get(i)));
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

    static String cut(String message, String marker) {
        int at = message.lastIndexOf(marker);
        return at < 0 ? message : message.substring(at);
    }

    static String firstLine(String message) {
        int nl = message.indexOf('\n');
        return (nl < 0 ? message : message.substring(0, nl)).strip();
    }
}
