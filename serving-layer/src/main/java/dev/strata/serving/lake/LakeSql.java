package dev.strata.serving.lake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Read-only SQL over the lake with DuckDB. Each query gets a fresh in-memory DuckDB, in a process of
 * its own under a memory limit ({@link SqlWorkers}, {@link SqlWorker}), with the tables it names as
 * views over their Parquet files (an Iceberg table's: its current snapshot's; on object storage,
 * local copies of them, see {@link LakeFileCache}), then the database is locked down before
 * the query runs: file access only to exactly those files ({@code allowed_paths} with
 * {@code enable_external_access=false}), no extension installs or loads, the configuration locked,
 * memory and disk to spill to bounded ({@link Limits}).
 * Only a single SELECT (or WITH … SELECT) is accepted, checked by DuckDB's own parser
 * ({@code json_serialize_sql} serializes SELECT statements only), and it runs as a subquery with a
 * row limit and a bound on its answer's bytes, so nothing can be written, attached, copied or set,
 * and no answer fills the heap. A request running longer than the timeout is interrupted.
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

    /** The query needed more than a limit allows (the answer's bytes, memory, disk to spill to). */
    public static final class TooLarge extends Exception {
        private static final long serialVersionUID = 1L;

        TooLarge(String message) {
            super(message);
        }
    }

    /**
     * What one query may take: rows and bytes of its answer, time (the whole request: planning the
     * tables, fetching their files and running), DuckDB's memory, and disk to spill to (a directory
     * of its own, removed after the query).
     */
    public record Limits(int maxRows, long maxResultBytes, Duration timeout, String memoryLimit, long spillBytes) {
        public static final long DEFAULT_MAX_RESULT_BYTES = 16L << 20;
        public static final long DEFAULT_SPILL_BYTES = 1L << 30;

        public static Limits of(int maxRows, Duration timeout, String memoryLimit) {
            return new Limits(maxRows, DEFAULT_MAX_RESULT_BYTES, timeout, memoryLimit, DEFAULT_SPILL_BYTES);
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
    private final Limits limits;
    private final LakeFileCache cache;
    /** Where each query spills, in a directory of its own. */
    private final Path spill;
    /** The processes the queries run in, each under a memory limit of its own. */
    private final SqlWorkers workers;

    /** SQL over a local lake, spilling under a temporary directory (tests). */
    public LakeSql(LakeTables tables, int maxRows, Duration timeout, String memoryLimit) throws IOException {
        this(tables, Limits.of(maxRows, timeout, memoryLimit), Files.createTempDirectory("strata-sql"), 0);
        if (!tables.local()) {
            throw new IllegalArgumentException("a lake on object storage needs a directory for local copies");
        }
    }

    /**
     * SQL over a lake anywhere: queries spill under {@code workDir}'s {@code sql-spill/}; on object
     * storage, the files a query reads are copied to {@code workDir}'s {@code lake-cache/} first, at
     * most {@code cacheBytes} of them kept.
     */
    public LakeSql(LakeTables tables, Limits limits, Path workDir, long cacheBytes) throws IOException {
        this.tables = tables;
        this.limits = limits;
        this.cache = tables.local() ? null : new LakeFileCache(tables.io(), workDir.resolve("lake-cache"), cacheBytes);
        this.spill = workDir.resolve("sql-spill");
        this.workers = new SqlWorkers(limits.memoryLimit());
        Files.createDirectories(spill);
        try (DirectoryStream<Path> left = Files.newDirectoryStream(spill)) {
            for (Path dir : left) { // a query's of a process that was killed
                deleteTree(dir);
            }
        }
    }

    public int maxRows() {
        return limits.maxRows();
    }

    public Result query(String sql, int limit) throws Refused, Invalid, TimedOut, TooLarge, IOException {
        String query = sql == null ? "" : sql.strip();
        while (query.endsWith(";")) {
            query = query.substring(0, query.length() - 1).strip();
        }
        if (query.isEmpty()) {
            throw new Invalid("no query: send {\"sql\": \"SELECT …\"}");
        }
        int rowLimit = limit <= 0 ? limits.maxRows() : Math.min(limit, limits.maxRows());
        long started = System.nanoTime();
        long deadline = started + limits.timeout().toNanos();
        List<LakeFileCache.Lease> leases = new ArrayList<>();
        Path spillDir = spill.resolve(UUID.randomUUID().toString());
        try {
            Set<String> named;
            try (Connection parser = DriverManager.getConnection("jdbc:duckdb:")) {
                named = checkReadOnly(parser, query);
            }
            Map<String, List<String>> views = new LinkedHashMap<>();
            List<String> readable = new ArrayList<>();
            for (LakeTables.Table table : tables.tables(named)) {
                checkDeadline(deadline);
                if (!table.files().isEmpty()) {
                    List<String> files = table.files();
                    if (cache != null) {
                        LakeFileCache.Lease lease = cache.fetch(files, table.fileBytes());
                        leases.add(lease);
                        files = lease.paths().stream().map(Path::toString).toList();
                    }
                    readable.addAll(files);
                    views.put(table.name(), files);
                }
            }
            checkDeadline(deadline);
            SqlWorker.Job job = new SqlWorker.Job(
                    query,
                    rowLimit,
                    views,
                    readable,
                    limits.memoryLimit(),
                    spillDir.toString(),
                    limits.spillBytes(),
                    limits.maxResultBytes(),
                    Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())),
                    limits.timeout().toMillis());
            LakeSql.Result result = workers.run(job, deadline);
            return new Result(
                    result.columns(),
                    result.types(),
                    result.rows(),
                    result.truncated(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        } catch (SQLException e) {
            throw new IOException("DuckDB: " + e.getMessage(), e);
        } catch (LakeFileCache.TooLarge e) {
            throw new Refused(e.getMessage());
        } finally {
            leases.forEach(LakeFileCache.Lease::close);
            deleteTree(spillDir);
        }
    }

    private void checkDeadline(long deadline) throws TimedOut {
        if (System.nanoTime() > deadline) {
            throw new TimedOut(timedOut());
        }
    }

    private String timedOut() {
        return timedOut(limits.timeout().toMillis());
    }

    static String timedOut(long timeoutMillis) {
        return "the query took longer than --sql-timeout (" + timeoutMillis
                + " ms, finding and fetching the tables' files included) and was stopped";
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // left for the next start's sweep
                }
            });
        } catch (IOException e) {
            // left for the next start's sweep
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

    static String identifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }
}
