package dev.strata.cli;

import dev.strata.cli.stack.Component;
import dev.strata.cli.stack.StackPorts;
import dev.strata.cli.stack.StackSpec;
import dev.strata.cli.stack.Supervisor;
import dev.strata.schemas.cli.CutOptions;
import dev.strata.schemas.cli.ViewOptions;
import dev.strata.schemas.net.StrataPorts;
import dev.strata.schemas.views.CutSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/** The {@code strata} command. */
@Command(
        name = "strata",
        mixinStandardHelpOptions = true,
        version = "strata 0.1.0-SNAPSHOT",
        description = "Strata: a Lambda-architecture event pipeline on Kafka, Flink and Parquet.",
        subcommands = {
            StrataCli.Up.class,
            BenchCommand.class,
            StatusCommand.class,
            CatalogCommand.class,
        })
public final class StrataCli implements Callable<Integer> {

    /** The repository (or installation) root: the script sets it; tests set it too. */
    static Path home() {
        return Path.of(System.getProperty("strata.home", ".")).toAbsolutePath().normalize();
    }

    @Override
    public Integer call() {
        commandLine().usage(System.out);
        return 0;
    }

    /** The command with one pass-through subcommand per component that runs alone. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new StrataCli());
        for (Component c : Component.values()) {
            if (c.description() != null) {
                CommandLine sub = new CommandLine(new ComponentCommand(c));
                sub.getCommandSpec().usageMessage().description(c.description() + " See: strata " + c.id() + " --help");
                cli.addSubcommand(c.id(), sub);
            }
        }
        return cli;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    @Command(
            name = "up",
            mixinStandardHelpOptions = true,
            description = {
                "Starts the local stack, each component in its own JVM: Kafka, the schema registry, the gateway, the speed job, the batch scheduler.",
                "Data stays under --data, so a restart resumes where the last run stopped. Ctrl-C stops everything."
            })
    static final class Up implements Callable<Integer> {

        @Option(
                names = "--data",
                defaultValue = "${env:STRATA_DATA:-data}",
                description = "Data directory of the stack (cluster mode: data/cluster). Default: ${DEFAULT-VALUE}")
        Path data;

        @Option(
                names = "--host",
                defaultValue = "127.0.0.1",
                description = "Address every component listens on. Default: ${DEFAULT-VALUE}")
        String host;

        @Option(
                names = "--kafka-port",
                defaultValue = "" + StrataPorts.KAFKA,
                description = "Kafka port. Default: ${DEFAULT-VALUE}")
        int kafkaPort;

        @Option(
                names = "--kafka-controller-port",
                defaultValue = "" + StrataPorts.KAFKA_CONTROLLER,
                description = "Kafka's KRaft controller port. Default: ${DEFAULT-VALUE}")
        int kafkaControllerPort;

        @Option(
                names = "--registry-port",
                defaultValue = "" + StrataPorts.REGISTRY,
                description = "Schema registry port. Default: ${DEFAULT-VALUE}")
        int registryPort;

        @Option(
                names = "--gateway-port",
                defaultValue = "" + StrataPorts.GATEWAY_HTTP,
                description = "Gateway HTTP port. Default: ${DEFAULT-VALUE}")
        int gatewayPort;

        @Option(
                names = "--mqtt-port",
                defaultValue = "" + StrataPorts.MQTT,
                description = "Gateway MQTT port. Default: ${DEFAULT-VALUE}")
        int mqttPort;

        @Option(
                names = "--serving-port",
                defaultValue = "" + StrataPorts.SERVING,
                description = "Serving layer (API and dashboard) port. Default: ${DEFAULT-VALUE}")
        int servingPort;

        @Option(
                names = "--flink-web-port",
                defaultValue = "" + StrataPorts.FLINK_WEB,
                description = "The speed job's Flink web UI port. Default: ${DEFAULT-VALUE}")
        int flinkWebPort;

        @Option(
                names = "--speed-metrics-port",
                defaultValue = "" + StrataPorts.SPEED_METRICS,
                description = "The speed job's Prometheus reporter port. Default: ${DEFAULT-VALUE}")
        int speedMetricsPort;

        @Option(
                names = "--batch-metrics-port",
                defaultValue = "" + StrataPorts.BATCH_METRICS,
                description = "The batch scheduler's Prometheus /metrics port. Default: ${DEFAULT-VALUE}")
        int batchMetricsPort;

        @Mixin
        ViewOptions views;

        @Option(
                names = "--batch-interval",
                description = "Time between batch cycles (archive + batch views). Default: the batch scheduler's")
        Duration batchInterval;

        @Mixin
        CutOptions cut;

        @Option(
                names = "--safety-margin",
                defaultValue = CutSettings.DEFAULT_SAFETY_MARGIN,
                description = "How far behind the clock the batch layer's cut stays. Default: ${DEFAULT-VALUE}")
        Duration safetyMargin;

        @Option(
                names = "--demo",
                defaultValue = "false",
                description = "Also run a generator: a few dozen devices over MQTT and a service over HTTP.")
        boolean demo;

        @Option(
                names = "--cluster",
                defaultValue = "false",
                description = {
                    "Cluster mode, on this machine: three Kafka brokers (separate processes, replication factor 3,"
                            + " min.insync.replicas 2; ports --kafka-port, +2, +4 and --kafka-controller-port, +2, +4),",
                    "a Flink session cluster (a JobManager, its REST API and web UI on --flink-web-port, and a TaskManager,"
                            + " each its own process from Flink's entry points), the speed job submitted to it,",
                    "the batch jobs run on it. Data under --data (default data/cluster)."
                })
        boolean cluster;

        @Option(
                names = "--flink-rpc-port",
                defaultValue = "" + StrataPorts.FLINK_RPC,
                description = "Cluster mode: the JobManager's RPC port. Default: ${DEFAULT-VALUE}")
        int flinkRpcPort;

        @Option(
                names = "--flink-jobmanager-metrics-port",
                defaultValue = "" + StrataPorts.JOBMANAGER_METRICS,
                description =
                        "Cluster mode: the JobManager's Prometheus reporter port (the TaskManager's is --speed-metrics-port)."
                                + " Default: ${DEFAULT-VALUE}")
        int jobManagerMetricsPort;

        @Option(
                names = "--s3",
                defaultValue = "false",
                description = {
                    "Keep the lake on object storage: an S3-compatible store (strata s3, S3Proxy on --data's s3/) on --s3-port,",
                    "the lake at s3://strata/lake, its catalog in --data's catalog.db; the gateway, batch and serving reach it over S3."
                })
        boolean s3;

        @Option(
                names = "--s3-port",
                defaultValue = "" + StrataPorts.S3,
                description = "With --s3: the S3 server's port. Default: ${DEFAULT-VALUE}")
        int s3Port;

        @Override
        public Integer call() throws Exception {
            Path dataDir = (cluster && data.equals(Path.of("data")) ? Path.of("data/cluster") : data);
            dataDir = (dataDir.isAbsolute() ? dataDir : home().resolve(dataDir)).normalize();
            StackPorts ports = StackPorts.fixed(
                    cluster ? StackSpec.CLUSTER_BROKERS : 1,
                    kafkaPort,
                    kafkaControllerPort,
                    registryPort,
                    gatewayPort,
                    mqttPort,
                    servingPort,
                    flinkWebPort,
                    speedMetricsPort,
                    batchMetricsPort,
                    flinkRpcPort,
                    jobManagerMetricsPort,
                    s3Port);
            StackSpec.Builder builder = StackSpec.builder(home(), dataDir, ports)
                    .host(host)
                    .cluster(cluster)
                    .cut(cut.settings(), safetyMargin)
                    .views(views.file())
                    .objectStore(s3)
                    .demo(demo);
            if (batchInterval != null) {
                builder.batchInterval(batchInterval);
            }
            Supervisor supervisor = Supervisor.of(builder.build(), System.out);
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(
                            () -> {
                                supervisor.requestStop();
                                try {
                                    supervisor.awaitStopped(Duration.ofSeconds(90));
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            },
                            "strata-up-shutdown"));
            return supervisor.run();
        }
    }

    /**
     * Runs one component in the foreground, in its own JVM, passing every argument through: the
     * component parses (and documents, with --help) its own options. One instance per component
     * that runs alone, registered in {@link #commandLine()}.
     */
    @Command(mixinStandardHelpOptions = false)
    static final class ComponentCommand implements Callable<Integer> {

        private final Component component;

        @Unmatched
        List<String> args = new ArrayList<>();

        ComponentCommand(Component component) {
            this.component = component;
        }

        @Override
        public Integer call() throws Exception {
            Process process = new ProcessBuilder(component.command(home(), args))
                    .inheritIO()
                    .start();
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(
                            () -> {
                                process.destroy();
                                try {
                                    process.waitFor();
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            },
                            "strata-component-shutdown"));
            return process.waitFor();
        }
    }
}
