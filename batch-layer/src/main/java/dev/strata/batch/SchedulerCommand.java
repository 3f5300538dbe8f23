package dev.strata.batch;

import dev.strata.batch.lake.Archiver;
import dev.strata.batch.transform.TransformScheduler;
import dev.strata.batch.views.BatchCycle;
import dev.strata.batch.views.Snapshot;
import dev.strata.lake.Maintenance;
import dev.strata.schemas.cli.TransformOptions;
import dev.strata.schemas.net.StrataPorts;
import dev.strata.schemas.views.BatchCommit;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code strata batch scheduler}, the batch layer's component of the stack: a batch cycle now and
 * every {@code --interval}, the transforms due after each, the lake's upkeep every
 * {@code --maintenance-interval}, and {@code /metrics} for Prometheus.
 */
@Command(
        name = "scheduler",
        mixinStandardHelpOptions = true,
        description = "Runs a cycle now and then every --interval.")
final class SchedulerCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(SchedulerCommand.class);

    @Mixin
    BatchMain.Options options;

    @Option(
            names = "--interval",
            defaultValue = "PT2M",
            description = "Time between cycles (hourly is usual in production). Default: ${DEFAULT-VALUE}")
    Duration interval;

    @Option(
            names = "--metrics-host",
            defaultValue = "127.0.0.1",
            description = "Address of /metrics. Default: ${DEFAULT-VALUE}")
    String metricsHost;

    @Option(
            names = "--metrics-port",
            defaultValue = "" + StrataPorts.BATCH_METRICS,
            description = "Port of the scheduler's Prometheus /metrics (0: any free port). Default: ${DEFAULT-VALUE}")
    int metricsPort;

    @Option(
            names = "--maintenance-interval",
            defaultValue = "PT1H",
            description = {
                "How often a cycle is followed by the lake's upkeep (strata lake maintain, with the options below);",
                "PT0S: never. Default: ${DEFAULT-VALUE}"
            })
    Duration maintenanceInterval;

    @Mixin
    MaintenanceOptions maintenance;

    @Mixin
    TransformOptions transforms;

    @Override
    public Integer call() throws Exception {
        Maintenance.Settings upkeep =
                maintenance.settings(options.cut.settings().dedupHorizon());
        BatchCycle cycle = options.cycle();
        Optional<TransformScheduler> transformRuns = transforms
                .configured()
                .map(list -> new TransformScheduler(cycle.engine(), options.lake(), list, System::nanoTime));
        long[] lastMaintained = {System.nanoTime()};
        cycle.changedViews().forEach(advice -> LOG.warn("{}", advice));
        SchedulerMetrics metrics = new SchedulerMetrics(
                metricsHost,
                metricsPort,
                interval,
                interval.plus(options.cut.settings().bucket()).plus(options.margin),
                Clock.systemUTC());
        Snapshot current = cycle.currentSnapshot();
        if (current.run() > 0) {
            metrics.current(current.run(), current.cutMillis());
        }
        ScheduledExecutorService scheduler =
                Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "batch-cycle"));
        scheduler.scheduleWithFixedDelay(
                () -> {
                    long started = System.nanoTime();
                    long now = System.currentTimeMillis();
                    metrics.started();
                    try {
                        Optional<BatchCommit> commit = cycle.run(now);
                        Duration took = Duration.ofNanos(System.nanoTime() - started);
                        if (commit.isEmpty()) {
                            LOG.info("Batch cycle: nothing new");
                            metrics.nothingNew(
                                    Archiver.cutAt(now, options.cut.settings().bucket(), options.margin), took);
                        } else {
                            metrics.committed(commit.get(), took);
                        }
                    } catch (Exception e) {
                        // A failed cycle is reported and retried at the next one; its intent makes the retry exact.
                        LOG.error("Batch cycle failed; the next cycle recovers it", e);
                        metrics.failed(Duration.ofNanos(System.nanoTime() - started));
                    }
                    transformRuns.ifPresent(TransformScheduler::runDue);
                    if (!maintenanceInterval.isZero()
                            && System.nanoTime() - lastMaintained[0] >= maintenanceInterval.toNanos()) {
                        lastMaintained[0] = System.nanoTime();
                        try {
                            LOG.info("Lake maintained: {}", Maintenance.run(options.lake(), upkeep, Clock.systemUTC()));
                        } catch (RuntimeException e) {
                            LOG.error("The lake's upkeep failed; it runs again in {}", maintenanceInterval, e);
                        }
                    }
                },
                0,
                interval.toMillis(),
                TimeUnit.MILLISECONDS);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            scheduler.shutdown();
                            try {
                                scheduler.awaitTermination(60, TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                            metrics.close();
                            stopped.countDown();
                        },
                        "batch-shutdown"));
        System.out.println("READY batch cycles every " + interval + " into "
                + options.lake.config().describe() + ", metrics on http://" + metricsHost + ":" + metrics.port()
                + "/metrics");
        stopped.await();
        return 0;
    }
}
