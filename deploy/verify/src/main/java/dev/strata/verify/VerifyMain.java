package dev.strata.verify;

import com.fasterxml.jackson.databind.JsonNode;
import dev.strata.cli.PrometheusText;
import dev.strata.schemas.topics.DeadLetters;
import dev.strata.schemas.topics.StrataTopics;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.commons.io.FileUtils;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code strata verify}: DESIGN.md's guarantees, end to end. Each run starts the whole stack as
 * separate processes from the commands a user runs, drives a seeded workload over HTTP, MQTT and
 * Kafka while faults chosen by the seed hit the processes (SIGKILL and restart, SIGSTOP/SIGCONT),
 * lets several batch cycles pass, then compares the serving layer's merged answers for every view
 * and window with an oracle computed by DuckDB from the log of acknowledged events. A run passes
 * when nothing acknowledged is missing, nothing is counted twice, and merged == oracle everywhere.
 */
@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        description =
                "Runs the end-to-end guarantee suite: the stack as processes, a seeded workload, faults, an oracle.")
public final class VerifyMain implements Callable<Integer> {

    @Option(
            names = "--runs",
            defaultValue = "1",
            description = "Seeded runs, one after the other. Default: ${DEFAULT-VALUE}")
    int runs;

    @Option(names = "--seed", description = "Seed of the first run (then seed+1, …). Default: from the clock")
    Long seed;

    @Option(names = "--events", defaultValue = "3000", description = "Events per run. Default: ${DEFAULT-VALUE}")
    int events;

    @Option(
            names = "--faults",
            defaultValue = "4",
            description = "Faults injected per run (0: none). Default: ${DEFAULT-VALUE}")
    int faults;

    @Option(
            names = "--disk-full",
            defaultValue = "true",
            negatable = true,
            fallbackValue = "true",
            description =
                    "Fill the lake's disk once per run (needs root: the lake goes on a small tmpfs). Default: ${DEFAULT-VALUE}")
    boolean diskFullFault;

    @Option(
            names = "--cluster",
            defaultValue = "false",
            description = {
                "Cluster mode: three Kafka brokers (replication factor 3, min.insync.replicas 2) and a Flink session cluster",
                "(a JobManager and a TaskManager) that runs the speed job and the batch jobs. The first fault kills a broker,",
                "the second the TaskManager; further ones are picked by the seed."
            })
    boolean cluster;

    @Option(names = "--home", description = "The Strata checkout. Default: the working directory")
    Path home;

    @Option(
            names = "--data",
            defaultValue = "data/verify",
            description = "Where runs keep their stacks (deleted after a pass). Default: ${DEFAULT-VALUE}")
    Path data;

    @Option(
            names = "--converge-timeout",
            defaultValue = "PT4M",
            description = "How long the views may take to converge. Default: ${DEFAULT-VALUE}")
    Duration convergeTimeout;

    static final Duration BUCKET = Duration.ofSeconds(10);
    /** The views the stack runs (it is started without --views): the oracle computes each from its definition. */
    static final List<ViewDefinition> VIEWS = ViewConfig.defaults();

    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final Duration BATCH_INTERVAL = Duration.ofSeconds(20);
    static final List<String> FAULTY = List.of("gateway", "speed", "batch", "serving", "kafka", "registry");
    static final List<String> FAULTY_IN_CLUSTER =
            List.of("gateway", "batch", "serving", "registry", "kafka-1", "kafka-2", "kafka-3", "flink-taskmanager");

    @Override
    public Integer call() throws Exception {
        Path root = home != null ? home : Path.of("").toAbsolutePath();
        long first = seed != null ? seed : System.currentTimeMillis();
        int failed = 0;
        long checked = 0;
        int faultsInjected = 0;
        for (int run = 0; run < runs; run++) {
            RunResult result = run(root, first + run);
            checked += result.cellsChecked;
            faultsInjected += result.faults.size();
            say(String.format(
                    "run %d/%d seed %d: %s — %d events acknowledged (%d resent, %d retried sends, %d bad inputs refused, %d of them dead-lettered),"
                            + " %d cells checked, faults %s, %d mismatches",
                    run + 1,
                    runs,
                    first + run,
                    result.passed() ? "PASS" : "FAIL",
                    result.acknowledged,
                    result.resent,
                    result.retries,
                    result.refused,
                    result.poison.size(),
                    result.cellsChecked,
                    result.faults,
                    result.mismatches.size()));
            result.mismatches.stream().limit(20).forEach(m -> say("  mismatch: " + m));
            result.problems.stream().limit(20).forEach(m -> say("  problem: " + m));
            if (!result.passed()) {
                failed++;
            }
        }
        say(String.format(
                "%d run(s), %d passed, %d failed; %d faults injected; %d cells checked",
                runs, runs - failed, failed, faultsInjected, checked));
        return failed == 0 ? 0 : 1;
    }

    static final class RunResult {
        long acknowledged;
        long resent;
        long retries;
        long refused;
        long cellsChecked;
        final List<String> poison = new ArrayList<>();
        final List<String> faults = new ArrayList<>();
        List<String> mismatches = List.of();
        final List<String> problems = new ArrayList<>();

        boolean passed() {
            return mismatches.isEmpty() && problems.isEmpty() && acknowledged > 0;
        }
    }

    RunResult run(Path root, long runSeed) throws Exception {
        RunResult result = new RunResult();
        Path dir = root.resolve(data).resolve("run-" + runSeed);
        if (Files.exists(dir)) {
            FileUtils.deleteDirectory(dir.toFile());
        }
        Files.createDirectories(dir);
        Random random = new Random(runSeed);
        try (Stack stack = startStack(root, dir, runSeed, cluster)) {
            Path ackLog = dir.resolve("acknowledged.ndjson");
            long lastAcknowledged;
            try (Workload workload = new Workload(stack.spec, runSeed, ackLog)) {
                List<Workload.Planned> planned = workload.plan(events, System.currentTimeMillis());
                // Every fault is injected, however fast the events go out; the events are spread over
                // at least the faults' mean spacing, so most faults meet traffic.
                AtomicBoolean running = new AtomicBoolean(true);
                Thread injector = new Thread(() -> inject(stack, random, running, result), "faults");
                injector.start();
                Thread diskFull = new Thread(() -> fillTheLake(stack, result), "disk-full");
                if (stack.lakeMounted && diskFullFault) {
                    diskFull.start();
                }
                long started = System.nanoTime();
                boolean sent = false;
                try {
                    workload.send(planned, Duration.ofSeconds(7L * faults));
                    sent = true;
                } finally {
                    if (!sent) {
                        running.set(false);
                    }
                    injector.join();
                    diskFull.join();
                }
                say(String.format(
                        "seed %d: %d events acknowledged in %.0f s; waiting for a batch commit whose cut covers them",
                        runSeed, workload.acknowledged.get(), (System.nanoTime() - started) / 1e9));
                lastAcknowledged = workload.lastAcknowledgedMillis.get();
                result.acknowledged = workload.acknowledged.get();
                result.resent = workload.resent.get();
                result.retries = workload.retries.get();
                result.refused = workload.refused.get();
                result.problems.addAll(workload.problems);
                result.poison.addAll(workload.poison);
            }
            // The cut moves over the whole run: every acknowledged event is then in the batch snapshot,
            // whose later cycles must succeed exactly after the faults (the full disk included).
            awaitBatchCommit(
                            stack,
                            lastAcknowledged,
                            BATCH_INTERVAL.multipliedBy(4).plus(convergeTimeout))
                    .ifPresent(result.problems::add);
            Map<String, Oracle.Cell> expected = Oracle.compute(ackLog, VIEWS);
            result.cellsChecked = expected.size();
            long deadline = System.nanoTime() + convergeTimeout.toNanos();
            List<String> mismatches;
            do {
                try {
                    mismatches = Oracle.compare(expected, merged(stack, expected));
                } catch (Exception e) {
                    mismatches = List.of("no merged answer: " + e.getMessage());
                }
                if (mismatches.isEmpty()) {
                    break;
                }
                TimeUnit.SECONDS.sleep(2);
            } while (System.nanoTime() < deadline);
            result.mismatches = mismatches;
            result.problems.addAll(missingDeadLetters(stack, result.poison, Duration.ofSeconds(60)));
            if (stack.spec.cluster()) {
                result.problems.addAll(speedJobRecovered(stack, result));
            }
            for (String name : stack.processes()) {
                if (!stack.running(name)) {
                    result.problems.add(name + " is not running at the end of the run");
                }
            }
        }
        if (result.passed()) {
            FileUtils.deleteDirectory(dir.toFile());
        } else {
            say("seed " + runSeed + ": the run's data and logs stay in " + dir);
        }
        return result;
    }

    /**
     * Starts a stack on free ports. A port found free can be taken by another process before the
     * component binds it; then the start is tried again on new ports (three times at most), and
     * said so. Nothing of the workload has run yet, so this changes nothing the run checks.
     */
    private static Stack startStack(Path root, Path dir, long runSeed, boolean cluster) throws Exception {
        for (int attempt = 1; ; attempt++) {
            Stack stack = new Stack(root, dir, BUCKET, BATCH_INTERVAL, cluster);
            say("seed " + runSeed + ": starting the stack in " + dir);
            try {
                stack.start();
                return stack;
            } catch (Exception e) {
                stack.close();
                if (attempt == 3) {
                    throw e;
                }
                say("seed " + runSeed + ": the stack did not start (" + e.getMessage() + "); again on new ports");
                FileUtils.deleteDirectory(dir.toFile());
                Files.createDirectories(dir);
            }
        }
    }

    /**
     * Faults at seeded moments from the workload's start: a kill and restart, or a pause, of one
     * process; all of them, unless the run fails first.
     */
    private void inject(Stack stack, Random random, AtomicBoolean running, RunResult result) {
        try {
            for (int i = 0; i < faults && running.get(); i++) {
                TimeUnit.MILLISECONDS.sleep(3_000 + random.nextInt(8_000));
                if (!running.get()) {
                    return;
                }
                String name;
                boolean kill;
                if (stack.spec.cluster() && i == 0) {
                    name = "kafka-" + (1 + random.nextInt(3)); // a broker first,
                    kill = true;
                } else if (stack.spec.cluster() && i == 1) {
                    name = "flink-taskmanager"; // then the TaskManager running the speed job (and a batch job, if one
                    // runs)
                    kill = true;
                } else {
                    List<String> faulty = stack.spec.cluster() ? FAULTY_IN_CLUSTER : FAULTY;
                    name = faulty.get(random.nextInt(faulty.size()));
                    kill = random.nextInt(3) != 0;
                }
                String fault = (kill ? "SIGKILL " : "SIGSTOP ") + name;
                say("fault: " + fault + " at " + Instant.now());
                if (kill) {
                    stack.killAndRestart(name, Duration.ofMillis(500 + random.nextInt(2_000)));
                } else {
                    stack.pause(name, Duration.ofMillis(1_000 + random.nextInt(4_000)));
                }
                synchronized (result.faults) {
                    result.faults.add(fault);
                }
            }
        } catch (Exception e) {
            synchronized (result.problems) {
                result.problems.add("fault injection failed: " + e);
            }
        }
    }

    /**
     * The lake's disk filling up: ten seconds in, the lake's filesystem is filled to the last byte
     * until a batch cycle has failed on it (the batch process must log the failure and keep
     * running), then the space comes back; the convergence check then needs the later cycles to
     * succeed exactly.
     */
    private void fillTheLake(Stack stack, RunResult result) {
        try {
            TimeUnit.SECONDS.sleep(10);
            int failuresBefore = batchFailures(stack);
            Path filler = stack.fillLake();
            say("fault: the lake's disk is full at " + Instant.now());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (batchFailures(stack) == failuresBefore && System.nanoTime() < deadline) {
                TimeUnit.SECONDS.sleep(1);
            }
            boolean failed = batchFailures(stack) > failuresBefore;
            stack.freeLake(filler);
            say("the lake's disk has space again at " + Instant.now() + (failed ? "; a batch cycle failed on it" : ""));
            synchronized (result.problems) {
                if (!failed) {
                    result.problems.add("no batch cycle failed while the lake's disk was full");
                } else if (!stack.running("batch")) {
                    result.problems.add("the batch process did not survive the full disk");
                }
            }
            synchronized (result.faults) {
                result.faults.add("DISK FULL lake");
            }
        } catch (Exception e) {
            synchronized (result.problems) {
                result.problems.add("disk-full fault failed: " + e);
            }
        }
    }

    /**
     * Failed batch cycles so far, from the batch scheduler's own metrics
     * ({@code strata_batch_cycles_total{outcome="failed"}}); -1 while they cannot be read.
     */
    private static int batchFailures(Stack stack) {
        try {
            HttpResponse<String> metrics = HTTP.send(
                    HttpRequest.newBuilder(URI.create(stack.spec.batchMetricsUrl()))
                            .timeout(Duration.ofSeconds(5))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return (int) PrometheusText.parse(metrics.body()).sum("strata_batch_cycles_total", "outcome", "failed");
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /**
     * Waits until {@code batch-commits} announces a cut at or after {@code millis}; returns the
     * problem if none does within {@code timeout}.
     */
    static Optional<String> awaitBatchCommit(Stack stack, long millis, Duration timeout) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.spec.bootstrapServers());
        long newest = Long.MIN_VALUE;
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(StrataTopics.BATCH_COMMITS, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    if (record.value() != null) {
                        newest = Math.max(
                                newest, BatchCommit.decode(record.value()).cutMillis());
                    }
                }
                if (newest >= millis) {
                    say("a batch commit's cut (" + Instant.ofEpochMilli(newest) + ") covers the run");
                    return Optional.empty();
                }
            }
        }
        return Optional.of("no batch commit's cut reached the last acknowledgement (" + Instant.ofEpochMilli(millis)
                + ") within " + timeout.toSeconds() + " s; the newest: "
                + (newest == Long.MIN_VALUE ? "none" : Instant.ofEpochMilli(newest)));
    }

    /**
     * Every unreadable record written straight to Kafka must be in {@code events.dlq} with its bytes
     * and a reason header. Returns what is missing when the deadline passes.
     */
    static List<String> missingDeadLetters(Stack stack, List<String> poison, Duration timeout) {
        Set<String> missing = new TreeSet<>(poison);
        List<String> problems = new ArrayList<>();
        if (missing.isEmpty()) {
            return problems;
        }
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.spec.bootstrapServers());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(StrataTopics.EVENTS_DLQ).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!missing.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    String value = record.value() == null ? "" : new String(record.value(), StandardCharsets.UTF_8);
                    if (missing.contains(value)) {
                        if (record.headers().lastHeader(DeadLetters.REASON) == null) {
                            problems.add("dead letter " + value + " has no reason header");
                        }
                        missing.remove(value);
                    }
                }
            }
        }
        missing.forEach(
                value -> problems.add("unreadable record " + value + " never reached " + StrataTopics.EVENTS_DLQ));
        return problems;
    }

    /**
     * Cluster mode: the speed job must be running on the session cluster and, once its TaskManager
     * was killed, must have been restarted from a checkpoint (else the fault did not hit it).
     */
    static List<String> speedJobRecovered(Stack stack, RunResult result) throws Exception {
        HttpClient http = HTTP;
        JsonNode jobs = Workload.JSON
                .readTree(http.send(
                                HttpRequest.newBuilder(URI.create(stack.spec.flinkUrl() + "/jobs/overview"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body())
                .path("jobs");
        for (JsonNode job : jobs) {
            if (!job.path("name").asText().equals("strata-speed-layer")) {
                continue;
            }
            if (!job.path("state").asText().equals("RUNNING")) {
                return List.of("the speed job is " + job.path("state").asText() + " on the cluster");
            }
            JsonNode checkpoints = Workload.JSON.readTree(http.send(
                            HttpRequest.newBuilder(URI.create(stack.spec.flinkUrl() + "/jobs/"
                                            + job.path("jid").asText() + "/checkpoints"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body());
            JsonNode restored = checkpoints.path("latest").path("restored");
            boolean taskManagerKilled;
            synchronized (result.faults) {
                taskManagerKilled = result.faults.contains("SIGKILL flink-taskmanager");
            }
            if (taskManagerKilled && (restored.isMissingNode() || restored.isNull())) {
                return List.of("the TaskManager was killed but the speed job never restored from a checkpoint");
            }
            say("the speed job runs on the cluster; "
                    + (restored.isObject()
                            ? "last restored from checkpoint "
                                    + restored.path("id").asLong() + " ("
                                    + restored.path("external_path").asText() + ")"
                            : "never restored")
                    + ", " + checkpoints.path("counts").path("completed").asLong() + " checkpoints completed");
            return List.of();
        }
        return List.of("no speed job on the cluster");
    }

    /** The serving layer's merged points of every view over the whole time range: "view|group|start" → measures. */
    /**
     * The serving layer's merged points of every view the stack runs, over the whole time range of
     * the expected cells, each view asked in its own windows: "view|group|start" → measures.
     */
    static Map<String, JsonNode> merged(Stack stack, Map<String, Oracle.Cell> expected) throws Exception {
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (String key : expected.keySet()) {
            long start = Long.parseLong(key.substring(key.lastIndexOf('|') + 1));
            min = Math.min(min, start);
            max = Math.max(max, start);
        }
        Map<String, JsonNode> merged = new TreeMap<>();
        for (ViewDefinition view : VIEWS) {
            long from = view.windowStartMillis(min);
            long to = view.windowStartMillis(max) + view.window().toMillis();
            HttpResponse<String> response = HTTP.send(
                    HttpRequest.newBuilder(URI.create(stack.spec.servingUrl() + "/v1/views/" + view.name() + "?from="
                                    + from + "&to=" + to))
                            .timeout(Duration.ofSeconds(30))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("serving answered " + response.statusCode() + ": " + response.body());
            }
            for (JsonNode p : Workload.JSON.readTree(response.body()).get("points")) {
                List<String> group = new ArrayList<>();
                p.get("group").forEach(g -> group.add(g.asText()));
                merged.put(Oracle.key(view.name(), group, p.get("startMillis").asLong()), p.get("measures"));
            }
        }
        return merged;
    }

    static void say(String line) {
        System.out.println("[verify] " + line);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new VerifyMain()).execute(args));
    }
}
