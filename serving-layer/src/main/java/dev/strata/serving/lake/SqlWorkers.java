package dev.strata.serving.lake;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The processes {@link LakeSql}'s queries run in ({@link SqlWorker}), kept for the next query once
 * one is answered. Each runs under a limit of its private memory ({@code prlimit --data}:
 * {@code --sql-memory} plus room for its own JVM), so a query that builds more than DuckDB's
 * {@code memory_limit} counts (one huge string) ends that process, not the serving layer: it is
 * answered 413 and a new process takes the next query. A query past its time is ended by killing
 * its process.
 */
final class SqlWorkers {

    private static final Logger LOG = LoggerFactory.getLogger(SqlWorkers.class);
    private static final ObjectMapper JSON =
            new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    /** The worker's own JVM, DuckDB's code and buffers DuckDB does not count. */
    static final long PROCESS_OVERHEAD_BYTES = 768L << 20;

    private static final class Worker {
        final Process process;
        final BufferedWriter in;
        final BufferedReader out;

        Worker(Process process) {
            this.process = process;
            this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }
    }

    private final String memoryLimit;
    private final long dataBytes;
    private final ConcurrentLinkedQueue<Worker> idle = new ConcurrentLinkedQueue<>();
    private final ExecutorService readers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "sql-worker-reader");
        t.setDaemon(true);
        return t;
    });

    SqlWorkers(String memoryLimit) {
        this.memoryLimit = memoryLimit;
        this.dataBytes = bytes(memoryLimit) + PROCESS_OVERHEAD_BYTES;
    }

    LakeSql.Result run(SqlWorker.Job job, long deadlineNanos)
            throws LakeSql.Refused, LakeSql.Invalid, LakeSql.TimedOut, LakeSql.TooLarge, IOException {
        Worker worker = idle.poll();
        while (worker != null && !worker.process.isAlive()) {
            worker = idle.poll();
        }
        if (worker == null) {
            worker = start();
        }
        boolean healthy = false;
        long started = System.nanoTime();
        try {
            worker.in.write(JSON.writeValueAsString(job));
            worker.in.newLine();
            worker.in.flush();
            Worker w = worker;
            CompletableFuture<String> line = CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            return w.out.readLine();
                        } catch (IOException e) {
                            return null;
                        }
                    },
                    readers);
            // The worker stops the statement at the deadline itself; this is for a process that cannot.
            long wait = Math.max(0, deadlineNanos - System.nanoTime()) + TimeUnit.SECONDS.toNanos(5);
            String answer;
            try {
                answer = line.get(wait, TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                throw new LakeSql.TimedOut(LakeSql.timedOut(job.sqlTimeoutMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for the query", e);
            } catch (ExecutionException e) {
                throw new IOException(e.getCause());
            }
            if (answer == null) {
                int exit = waitForExit(worker.process);
                throw new LakeSql.TooLarge("the query's process ended (exit " + exit + ") after "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)
                        + " ms: the query needed more memory than --sql-memory (" + memoryLimit
                        + ") lets one query have, beyond what DuckDB counts itself (e.g. one huge value)");
            }
            healthy = true;
            return result(JSON.readTree(answer), job, started);
        } finally {
            if (healthy) {
                idle.offer(worker);
            } else {
                worker.process.destroyForcibly();
            }
        }
    }

    private static int waitForExit(Process process) {
        try {
            return process.waitFor(10, TimeUnit.SECONDS) ? process.exitValue() : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static LakeSql.Result result(JsonNode answer, SqlWorker.Job job, long started)
            throws LakeSql.Refused, LakeSql.Invalid, LakeSql.TimedOut, LakeSql.TooLarge, IOException {
        if (answer.has("error")) {
            String message = answer.path("message").asText();
            switch (answer.path("error").asText()) {
                case "refused" -> throw new LakeSql.Refused(message);
                case "invalid" -> throw new LakeSql.Invalid(message);
                case "timeout" -> throw new LakeSql.TimedOut(message);
                case "too_large" -> throw new LakeSql.TooLarge(message);
                default -> throw new IOException("DuckDB: " + message);
            }
        }
        List<String> columns = new ArrayList<>();
        answer.path("columns").forEach(c -> columns.add(c.asText()));
        List<String> types = new ArrayList<>();
        answer.path("types").forEach(t -> types.add(t.asText()));
        List<List<Object>> rows = new ArrayList<>();
        for (JsonNode row : answer.path("rows")) {
            List<Object> values = new ArrayList<>(columns.size());
            for (int i = 0; i < columns.size(); i++) {
                values.add(typed(row.get(i), types.get(i)));
            }
            rows.add(values);
        }
        return new LakeSql.Result(
                columns,
                types,
                rows,
                answer.path("truncated").asBoolean(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    /** A value as the JDBC driver gave it in the worker, by its column's DuckDB type. */
    static Object typed(JsonNode value, String type) {
        if (value == null || value.isNull()) {
            return null;
        }
        String t = type.toUpperCase(Locale.ROOT);
        if (!value.isNumber()) {
            return value.isBoolean() ? value.booleanValue() : value.asText();
        }
        return switch (t) {
            case "BIGINT", "UINTEGER" -> value.longValue();
            case "INTEGER", "USMALLINT" -> value.intValue();
            case "SMALLINT", "UTINYINT" -> value.shortValue();
            case "TINYINT" -> (byte) value.intValue();
            case "DOUBLE" -> value.doubleValue();
            case "FLOAT" -> value.floatValue();
            case "HUGEINT", "UBIGINT", "UHUGEINT" -> value.bigIntegerValue();
            default -> t.startsWith("DECIMAL") ? value.decimalValue() : value.numberValue();
        };
    }

    private Worker start() throws IOException {
        List<String> command = new ArrayList<>();
        boolean limited = Files.isExecutable(Path.of("/usr/bin/prlimit"));
        if (limited) {
            command.addAll(List.of("/usr/bin/prlimit", "--data=" + dataBytes, "--"));
        } else {
            LOG.warn("No prlimit: SQL queries run without a process memory limit beyond --sql-memory");
        }
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(
                "-Xmx128m",
                "-Xss512k",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-XX:ReservedCodeCacheSize=48m",
                "-XX:MaxMetaspaceSize=128m",
                "-cp",
                System.getProperty("java.class.path"),
                SqlWorker.class.getName()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        builder.environment().put("MALLOC_ARENA_MAX", "2");
        Process process = builder.start();
        try {
            // Out of memory in a container, the kernel ends a query's process before the serving layer.
            Files.writeString(Path.of("/proc", Long.toString(process.pid()), "oom_score_adj"), "1000");
        } catch (IOException | RuntimeException e) {
            LOG.debug("Cannot raise the OOM score of SQL process {}: {}", process.pid(), e.toString());
        }
        return new Worker(process);
    }

    /** Bytes of a DuckDB size ({@code 512MB}, {@code 1GiB}, {@code 256 mb}); 1024-based either way. */
    static long bytes(String size) {
        Matcher m = Pattern.compile("\\s*([0-9.]+)\\s*([KMGT]?I?B?)\\s*", Pattern.CASE_INSENSITIVE)
                .matcher(size);
        if (!m.matches()) {
            throw new IllegalArgumentException("--sql-memory '" + size + "' is not a size such as 512MB or 1GB");
        }
        double n = Double.parseDouble(m.group(1));
        String unit = m.group(2).toUpperCase(Locale.ROOT);
        long scale = unit.startsWith("K")
                ? 1L << 10
                : unit.startsWith("M")
                        ? 1L << 20
                        : unit.startsWith("G") ? 1L << 30 : unit.startsWith("T") ? 1L << 40 : 1;
        return (long) (n * scale);
    }
}
