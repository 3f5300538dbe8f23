package dev.strata.speed;

import dev.strata.schemas.JobJar;
import dev.strata.schemas.cli.ViewOptions;
import dev.strata.schemas.net.StrataPorts;
import dev.strata.schemas.views.ViewDefinition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code strata speed}: the speed job on a local Flink MiniCluster (RocksDB state, incremental
 * checkpoints kept on cancel, web UI), resuming from its latest checkpoint after a restart.
 */
@Command(
        name = "speed",
        mixinStandardHelpOptions = true,
        subcommands = SpeedMain.Submit.class,
        description = {
            "Runs the speed layer's Flink job on a local MiniCluster with the web UI,",
            "or, with `submit`, sends the job jar to a Flink cluster."
        })
public final class SpeedMain implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(SpeedMain.class);

    @Mixin
    SpeedJobOptions job;

    @Mixin
    ViewOptions views;

    @Option(
            names = "--data",
            defaultValue = "${env:STRATA_SPEED_DATA:-data/speed}",
            description = "RocksDB and checkpoint directory. Default: ${DEFAULT-VALUE}")
    Path data;

    @Option(
            names = "--web-port",
            defaultValue = "" + StrataPorts.FLINK_WEB,
            description = "Flink web UI port. Default: ${DEFAULT-VALUE}")
    int webPort;

    @Option(
            names = "--metrics-port",
            defaultValue = "" + StrataPorts.SPEED_METRICS,
            description = "Port of Flink's Prometheus reporter (/metrics; 0: none). Default: ${DEFAULT-VALUE}")
    int metricsPort;

    @Option(names = "--parallelism", defaultValue = "2", description = "Default: ${DEFAULT-VALUE}")
    int parallelism;

    @Option(names = "--checkpoint-interval", defaultValue = "PT10S", description = "Default: ${DEFAULT-VALUE}")
    Duration checkpointInterval;

    @Override
    public Integer call() throws Exception {
        List<ViewDefinition> definitions = views.load();
        Path checkpoints = data.toAbsolutePath().resolve("checkpoints");
        Configuration conf = localConfiguration(data, checkpointInterval);
        conf.addAll(Configuration.fromMap(Map.ofEntries(
                Map.entry("rest.port", Integer.toString(webPort)), Map.entry("rest.bind-address", "127.0.0.1"))));
        if (metricsPort > 0) {
            conf.setString(
                    "metrics.reporter.prom.factory.class",
                    "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
            conf.setString("metrics.reporter.prom.port", Integer.toString(metricsPort));
        }
        Optional<Path> restore = latestCheckpoint(checkpoints);
        restore.ifPresent(
                p -> conf.setString("execution.state-recovery.path", p.toUri().toString()));
        LOG.info(
                "Views: {}; restoring from {}",
                definitions.stream().map(ViewDefinition::name).toList(),
                restore.map(Path::toString).orElse("nothing (first start: every retained record of events)"));

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
        env.setParallelism(parallelism);
        job.build(env, definitions);
        JobClient client = env.executeAsync(SpeedJobOptions.JOB_NAME);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            LOG.info("Cancelling the speed job (its latest checkpoint is kept)");
                            try {
                                client.cancel().get();
                            } catch (Exception e) {
                                LOG.warn("Cancel failed: {}", e.toString());
                            }
                            stopped.countDown();
                        },
                        "speed-shutdown"));
        System.out.println(
                "READY speed http://127.0.0.1:" + webPort + " (Flink web UI, job " + client.getJobID() + ")");
        client.getJobExecutionResult().whenComplete((r, e) -> {
            if (e != null && stopped.getCount() > 0) {
                LOG.error("The speed job failed", e);
                System.exit(1);
            }
        });
        stopped.await();
        return 0;
    }

    /** {@code strata speed submit --jobmanager HOST:PORT}: the job jar, unchanged, to a Flink cluster. */
    @Command(
            name = "submit",
            mixinStandardHelpOptions = true,
            description = {
                "Submits the shaded job jar to a Flink cluster (its JobManager's REST address) and exits.",
                "State backend and checkpoint storage are the cluster's; the checkpointing and restart settings are the job's."
            })
    static final class Submit implements Callable<Integer> {

        @CommandLine.ParentCommand
        SpeedMain parent;

        @Option(names = "--jobmanager", required = true, description = "HOST:PORT of the JobManager's REST endpoint")
        String jobManager;

        @Option(names = "--jar", description = "The job jar. Default: speed-layer/target/strata-speed-layer-*-job.jar")
        Path jar;

        @Option(
                names = "--from-checkpoints",
                description = {
                    "The cluster's checkpoint directory (a local path): resume from the newest retained checkpoint in it, if any,",
                    "as after a cluster restart. Default: empty state, from the earliest retained record of events"
                })
        Path checkpoints;

        @Override
        public Integer call() throws Exception {
            String[] hostPort = jobManager.split(":", 2);
            if (hostPort.length != 2) {
                throw new IllegalArgumentException(
                        "--jobmanager must be HOST:PORT, e.g. flink-jobmanager:8081; got " + jobManager);
            }
            Path jobJar = jar != null ? jar : JobJar.of("speed-layer");
            List<ViewDefinition> views = parent.views.load();
            Configuration conf = jobConfiguration(parent.checkpointInterval);
            Optional<Path> restore = checkpoints != null && Files.isDirectory(checkpoints)
                    ? latestCheckpoint(checkpoints)
                    : Optional.empty();
            restore.ifPresent(p ->
                    conf.setString("execution.state-recovery.path", p.toUri().toString()));
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createRemoteEnvironment(
                    hostPort[0], Integer.parseInt(hostPort[1]), conf, jobJar.toString());
            env.setParallelism(parent.parallelism);
            parent.job.build(env, views);
            JobClient job = env.executeAsync(SpeedJobOptions.JOB_NAME);
            System.out.println(
                    "Submitted the speed job " + job.getJobID() + " to " + jobManager + " (" + jobJar.getFileName()
                            + "), " + restore.map(p -> "resuming from " + p).orElse("with empty state"));
            System.out.println("READY speed http://" + jobManager + "/#/job/running/" + job.getJobID() + "/overview");
            return 0;
        }
    }

    /**
     * What the job sets for itself wherever it runs: checkpoints every {@code interval}, kept when
     * the job is cancelled (a resubmission resumes from them), and a bounded number of restarts: a
     * job that keeps failing ends and says so, instead of restarting forever out of sight.
     */
    static Configuration jobConfiguration(Duration interval) {
        return Configuration.fromMap(Map.ofEntries(
                Map.entry("execution.checkpointing.interval", interval.toMillis() + "ms"),
                Map.entry("execution.checkpointing.incremental", "true"),
                Map.entry("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION"),
                Map.entry("execution.checkpointing.num-retained", "2"),
                // Timers on the heap, as the versions before 2026-12 had them (their view folder
                // registered a timer per key and event): a checkpoint of theirs restores only into
                // the same timer store. No operator registers keyed timers now.
                Map.entry("state.backend.rocksdb.timer-service.factory", "HEAP"),
                // Most lookups are misses (the dedup flag of a new event): a bloom filter answers
                // them without reading the SST files' blocks.
                Map.entry("state.backend.rocksdb.use-bloom-filter", "true"),
                // A checkpoint's synchronous part flushes each state's memtable; memtables of 8 MB (64 by
                // default) are flushed in the background as they fill, so the checkpoint flushes at most
                // that much while the task waits (`strata bench speed --latency-rate 60000`: 400-700 ms
                // synchronous parts and p99 1.5 s at 64 MB, 150-350 ms and 0.8-0.95 s at 8 MB; 4 MB
                // compacted so much more that the machine fell behind).
                Map.entry("state.backend.rocksdb.writebuffer.size", "8mb"),
                // A checkpoint's barrier overtakes the records queued in the network buffers instead of
                // waiting behind them (those are stored with the checkpoint): under load, aligning
                // the barriers at the job's two shuffles held each checkpointed channel still
                // (`strata bench speed --latency-rate 42000`: p99 2.2 s aligned, 1.6 s unaligned).
                Map.entry("execution.checkpointing.unaligned.enabled", "true"),
                Map.entry("restart-strategy.type", "fixed-delay"),
                Map.entry("restart-strategy.fixed-delay.attempts", "10"),
                Map.entry("restart-strategy.fixed-delay.delay", "5 s")));
    }

    /** Flink's managed memory on the local MiniCluster: RocksDB's block cache and write buffers. */
    public static final String LOCAL_MANAGED_MEMORY = "512m";

    /**
     * The job's settings on a local MiniCluster: {@link #jobConfiguration}, RocksDB state under
     * {@code data}/rocksdb and checkpoints in {@code data}/checkpoints (created).
     */
    public static Configuration localConfiguration(Path data, Duration checkpointInterval) throws IOException {
        Path abs = data.toAbsolutePath();
        Path checkpoints = abs.resolve("checkpoints");
        Files.createDirectories(checkpoints);
        Configuration conf = jobConfiguration(checkpointInterval);
        conf.addAll(Configuration.fromMap(Map.ofEntries(
                Map.entry("state.backend.type", "rocksdb"),
                Map.entry("taskmanager.memory.managed.size", LOCAL_MANAGED_MEMORY),
                Map.entry(
                        "state.backend.rocksdb.localdir", abs.resolve("rocksdb").toString()),
                Map.entry("execution.checkpointing.storage", "filesystem"),
                Map.entry("execution.checkpointing.dir", checkpoints.toUri().toString()))));
        return conf;
    }

    /** The newest completed checkpoint (a chk-N directory holding _metadata), if any. */
    static Optional<Path> latestCheckpoint(Path checkpoints) throws IOException {
        try (Stream<Path> files = Files.walk(checkpoints, 3)) {
            return files.filter(p -> p.getFileName().toString().equals("_metadata"))
                    .map(Path::getParent)
                    .filter(p -> p.getFileName().toString().startsWith("chk-"))
                    .max(Comparator.comparingLong(p -> p.toFile().lastModified()));
        }
    }

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new SpeedMain());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("strata speed: cannot start: " + e.getMessage());
            LOG.debug("Startup failure", e);
            return 1;
        });
        System.exit(cli.execute(args));
    }
}
