package dev.strata.verify;

import static dev.strata.verify.VerifyMain.say;

import dev.strata.cli.PrometheusText;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The faults of a run, at moments the seed picks: SIGKILL of a process and a restart with the same
 * command, SIGSTOP/SIGCONT, and the lake's disk filling up until a batch cycle has failed on it.
 */
final class Faults {

    static final List<String> FAULTY = List.of("gateway", "speed", "batch", "serving", "kafka", "registry");
    static final List<String> FAULTY_IN_CLUSTER =
            List.of("gateway", "batch", "serving", "registry", "kafka-1", "kafka-2", "kafka-3", "flink-taskmanager");

    private final Stack stack;
    private final Random random;
    private final RunResult result;
    private final int count;

    Faults(Stack stack, Random random, RunResult result, int count) {
        this.stack = stack;
        this.random = random;
        this.result = result;
        this.count = count;
    }

    /**
     * Faults at seeded moments from the workload's start: a kill and restart, or a pause, of one
     * process; all of them, unless the run fails first.
     */
    void inject(AtomicBoolean running) {
        try {
            for (int i = 0; i < count && running.get(); i++) {
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
    void fillTheLake() {
        try {
            TimeUnit.SECONDS.sleep(10);
            int failuresBefore = batchFailures();
            Path filler = stack.fillLake();
            say("fault: the lake's disk is full at " + Instant.now());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (batchFailures() == failuresBefore && System.nanoTime() < deadline) {
                TimeUnit.SECONDS.sleep(1);
            }
            boolean failed = batchFailures() > failuresBefore;
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
    private int batchFailures() {
        try {
            HttpResponse<String> metrics = Checks.HTTP.send(
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
}
