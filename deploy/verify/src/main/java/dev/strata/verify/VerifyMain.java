package dev.strata.verify;

import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.commons.io.FileUtils;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code strata verify}: DESIGN.md's guarantees, end to end. Each run starts the whole stack as
 * separate processes from the commands a user runs, drives a seeded workload over HTTP, MQTT and
 * Kafka while faults chosen by the seed hit the processes (SIGKILL and restart, SIGSTOP/SIGCONT),
 * lets several batch cycles pass, then compares the serving layer's merged answers for every view
 * and window with an oracle computed by DuckDB from the log of acknowledged events. A run passes
 * when nothing acknowledged is missing, nothing is counted twice, and merged == oracle everywhere;
 * and a transform the batch scheduler runs through the faults holds each record of the lake's
 * events exactly once.
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

    @Option(
            names = "--s3",
            defaultValue = "false",
            description = {
                "The lake on object storage, as `strata up --s3` keeps it: the stack's own S3 server (its directory on the",
                "small tmpfs for the disk-full fault), the lake at s3://strata/lake. The S3 server is one of the processes faults may kill."
            })
    boolean objectStore;

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

    static final Duration BATCH_INTERVAL = Duration.ofSeconds(20);

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
                    "run %d/%d seed %d: %s — %d events acknowledged (%d resent, %d ids shared by two sources, %d retried sends, %d bad inputs refused, %d of them dead-lettered),"
                            + " %d cells checked, faults %s, %d mismatches",
                    run + 1,
                    runs,
                    first + run,
                    result.passed() ? "PASS" : "FAIL",
                    result.acknowledged,
                    result.resent,
                    result.sharedIds,
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

    RunResult run(Path root, long runSeed) throws Exception {
        RunResult result = new RunResult();
        Path dir = root.resolve(data).resolve("run-" + runSeed);
        if (Files.exists(dir)) {
            FileUtils.deleteDirectory(dir.toFile());
        }
        Files.createDirectories(dir);
        Random random = new Random(runSeed);
        try (Stack stack = startStack(root, dir, runSeed, cluster, objectStore)) {
            Path ackLog = dir.resolve("acknowledged.ndjson");
            long lastAcknowledged;
            try (Workload workload = new Workload(stack.spec, runSeed, ackLog)) {
                List<Workload.Planned> planned = workload.plan(events, System.currentTimeMillis());
                // Every fault is injected, however fast the events go out; the events are spread over
                // at least the faults' mean spacing, so most faults meet traffic.
                AtomicBoolean running = new AtomicBoolean(true);
                Faults injected = new Faults(stack, random, result, faults);
                Thread injector = new Thread(() -> injected.inject(running), "faults");
                injector.start();
                Thread diskFull = new Thread(injected::fillTheLake, "disk-full");
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
                result.sharedIds = workload.sharedIds;
                result.retries = workload.retries.get();
                result.refused = workload.refused.get();
                result.problems.addAll(workload.problems);
                result.poison.addAll(workload.poison);
            }
            // The cut moves over the whole run: every acknowledged event is then in the batch snapshot,
            // whose later cycles must succeed exactly after the faults (the full disk included).
            Checks.awaitBatchCommit(
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
                    mismatches = Oracle.compare(expected, Checks.merged(stack, expected));
                } catch (Exception e) {
                    mismatches = List.of("no merged answer: " + e.getMessage());
                }
                if (mismatches.isEmpty()) {
                    break;
                }
                TimeUnit.SECONDS.sleep(2);
            } while (System.nanoTime() < deadline);
            result.mismatches = mismatches;
            result.problems.addAll(Checks.missingDeadLetters(stack, result.poison, Duration.ofSeconds(60)));
            // The transform runs after the cycle that archived the last events; a run a fault failed
            // is tried again a minute later.
            Checks.transformApplied(stack, Oracle.events(ackLog), Duration.ofMinutes(3))
                    .ifPresent(result.problems::add);
            if (stack.spec.cluster()) {
                result.problems.addAll(Checks.speedJobRecovered(stack, result));
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
    private static Stack startStack(Path root, Path dir, long runSeed, boolean cluster, boolean objectStore)
            throws Exception {
        for (int attempt = 1; ; attempt++) {
            Stack stack = new Stack(root, dir, BUCKET, BATCH_INTERVAL, cluster, objectStore);
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

    static void say(String line) {
        System.out.println("[verify] " + line);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new VerifyMain()).execute(args));
    }
}
