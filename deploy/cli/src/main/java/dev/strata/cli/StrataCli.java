package dev.strata.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
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
                description = "Data directory of the stack. Default: ${DEFAULT-VALUE}")
        Path data;

        @Option(
                names = "--host",
                defaultValue = "127.0.0.1",
                description = "Address every component listens on. Default: ${DEFAULT-VALUE}")
        String host;

        @Option(names = "--kafka-port", defaultValue = "9092", description = "Kafka port. Default: ${DEFAULT-VALUE}")
        int kafkaPort;

        @Option(
                names = "--kafka-controller-port",
                defaultValue = "9093",
                description = "Kafka's KRaft controller port. Default: ${DEFAULT-VALUE}")
        int kafkaControllerPort;

        @Option(
                names = "--registry-port",
                defaultValue = "8081",
                description = "Schema registry port. Default: ${DEFAULT-VALUE}")
        int registryPort;

        @Option(
                names = "--gateway-port",
                defaultValue = "8080",
                description = "Gateway HTTP port. Default: ${DEFAULT-VALUE}")
        int gatewayPort;

        @Option(
                names = "--mqtt-port",
                defaultValue = "1883",
                description = "Gateway MQTT port. Default: ${DEFAULT-VALUE}")
        int mqttPort;

        @Option(
                names = "--serving-port",
                defaultValue = "8088",
                description = "Serving layer (API and dashboard) port. Default: ${DEFAULT-VALUE}")
        int servingPort;

        @Option(
                names = "--flink-web-port",
                defaultValue = "8083",
                description = "The speed job's Flink web UI port. Default: ${DEFAULT-VALUE}")
        int flinkWebPort;

        @Option(
                names = "--speed-metrics-port",
                defaultValue = "9249",
                description = "The speed job's Prometheus reporter port. Default: ${DEFAULT-VALUE}")
        int speedMetricsPort;

        @Option(
                names = "--batch-metrics-port",
                defaultValue = "9250",
                description = "The batch scheduler's Prometheus /metrics port. Default: ${DEFAULT-VALUE}")
        int batchMetricsPort;

        @Option(
                names = "--views",
                description = "View config (YAML) for the speed and batch layers. Default: the built-in views")
        Path views;

        @Option(
                names = "--batch-interval",
                defaultValue = "PT2M",
                description = "Time between batch cycles (archive + batch views). Default: ${DEFAULT-VALUE}")
        String batchInterval;

        @Option(
                names = "--bucket",
                defaultValue = "PT1M",
                description =
                        "Ingest bucket of the speed and batch layers (they must agree). Default: ${DEFAULT-VALUE}")
        String bucket;

        @Option(
                names = "--safety-margin",
                defaultValue = "PT1M",
                description = "How far behind the clock the batch layer's cut stays. Default: ${DEFAULT-VALUE}")
        String safetyMargin;

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
                defaultValue = "6123",
                description = "Cluster mode: the JobManager's RPC port. Default: ${DEFAULT-VALUE}")
        int flinkRpcPort;

        @Option(
                names = "--flink-jobmanager-metrics-port",
                defaultValue = "9251",
                description =
                        "Cluster mode: the JobManager's Prometheus reporter port (the TaskManager's is --speed-metrics-port)."
                                + " Default: ${DEFAULT-VALUE}")
        int jobManagerMetricsPort;

        /** Brokers of cluster mode. */
        static final int BROKERS = 3;

        @Override
        public Integer call() throws Exception {
            Path dataDir = (cluster && data.equals(Path.of("data")) ? Path.of("data/cluster") : data);
            dataDir = (dataDir.isAbsolute() ? dataDir : home().resolve(dataDir)).normalize();
            List<Supervisor.Launch> launches = new ArrayList<>();
            String bootstrap;
            if (cluster) {
                bootstrap = addKafkaCluster(launches, dataDir);
            } else {
                bootstrap = host + ":" + kafkaPort;
                launches.add(new Supervisor.Launch(
                        Component.KAFKA,
                        List.of(
                                "--data", dataDir.resolve("kafka").toString(),
                                "--host", host,
                                "--port", Integer.toString(kafkaPort),
                                "--controller-port", Integer.toString(kafkaControllerPort)),
                        "Kafka",
                        host,
                        List.of(kafkaPort, kafkaControllerPort)));
            }
            launches.add(new Supervisor.Launch(
                    Component.REGISTRY,
                    List.of(
                            "--bootstrap-servers", bootstrap,
                            "--host", host,
                            "--port", Integer.toString(registryPort)),
                    "Schema registry",
                    host,
                    List.of(registryPort)));
            String registryUrl = "http://" + host + ":" + registryPort;
            Path tokenFile = dataDir.resolve("local.token");
            launches.add(new Supervisor.Launch(
                    Component.GATEWAY,
                    List.of(
                            "--bootstrap-servers", bootstrap,
                            "--registry-url", registryUrl,
                            "--host", host,
                            "--http-port", Integer.toString(gatewayPort),
                            "--mqtt-port", Integer.toString(mqttPort),
                            "--tokens", dataDir.resolve("gateway-tokens.yaml").toString(),
                            "--create-token", tokenFile.toString(),
                            "--lake", dataDir.resolve("lake").toString(),
                            "--landing", dataDir.resolve("landing").toString()),
                    "Gateway HTTP, MQTT",
                    host,
                    List.of(gatewayPort, mqttPort)));
            List<String> speedArgs = new ArrayList<>(List.of(
                    "--bootstrap-servers", bootstrap,
                    "--registry-url", registryUrl,
                    "--bucket", bucket));
            if (views != null) {
                speedArgs.addAll(List.of("--views", views.toAbsolutePath().toString()));
            }
            String jobManager = host + ":" + flinkWebPort;
            if (cluster) {
                addFlinkCluster(launches, dataDir);
                speedArgs.addAll(List.of(
                        "submit",
                        "--jobmanager",
                        jobManager,
                        "--from-checkpoints",
                        dataDir.resolve("flink/checkpoints").toString()));
                launches.add(new Supervisor.Launch(
                        Component.SPEED, speedArgs, "Speed job", host, List.of(), "speed", Supervisor.Start.ONE_SHOT));
            } else {
                speedArgs.addAll(List.of(
                        "--data", dataDir.resolve("speed").toString(),
                        "--web-port", Integer.toString(flinkWebPort),
                        "--metrics-port", Integer.toString(speedMetricsPort)));
                launches.add(new Supervisor.Launch(
                        Component.SPEED,
                        speedArgs,
                        "Speed job (Flink UI)",
                        host,
                        List.of(flinkWebPort, speedMetricsPort)));
            }
            List<String> batchArgs = new ArrayList<>(List.of(
                    "scheduler",
                    "--bootstrap-servers",
                    bootstrap,
                    "--registry-url",
                    registryUrl,
                    "--lake",
                    dataDir.resolve("lake").toString(),
                    "--interval",
                    batchInterval,
                    "--bucket",
                    bucket,
                    "--safety-margin",
                    safetyMargin,
                    "--metrics-host",
                    host,
                    "--metrics-port",
                    Integer.toString(batchMetricsPort)));
            if (cluster) {
                batchArgs.addAll(List.of("--jobmanager", jobManager));
            }
            if (views != null) {
                batchArgs.addAll(List.of("--views", views.toAbsolutePath().toString()));
            }
            launches.add(new Supervisor.Launch(
                    Component.BATCH, batchArgs, "Batch scheduler (metrics)", host, List.of(batchMetricsPort)));
            List<String> servingArgs = new ArrayList<>(List.of(
                    "--bootstrap-servers", bootstrap,
                    "--lake", dataDir.resolve("lake").toString(),
                    "--data", dataDir.resolve("serving").toString(),
                    "--host", host,
                    "--port", Integer.toString(servingPort)));
            if (views != null) {
                servingArgs.addAll(List.of("--views", views.toAbsolutePath().toString()));
            }
            launches.add(new Supervisor.Launch(
                    Component.SERVING, servingArgs, "Serving API and dashboard", host, List.of(servingPort)));
            if (demo) {
                launches.add(new Supervisor.Launch(
                        Component.DEMO,
                        List.of(
                                "--http",
                                "http://" + host + ":" + gatewayPort,
                                "--mqtt-host",
                                host,
                                "--mqtt-port",
                                Integer.toString(mqttPort),
                                "--token-file",
                                tokenFile.toString()),
                        "Demo generator",
                        host,
                        List.of()));
            }
            Supervisor supervisor = new Supervisor(home(), dataDir, launches, System.out);
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

        /**
         * Three KRaft nodes, each broker and controller, started together (none is ready before a
         * quorum runs); the cluster's id is kept in the data directory so restarts find their logs.
         * Returns the bootstrap list.
         */
        private String addKafkaCluster(List<Supervisor.Launch> launches, Path dataDir) throws java.io.IOException {
            Path idFile = dataDir.resolve("kafka-cluster-id");
            java.nio.file.Files.createDirectories(dataDir);
            if (!java.nio.file.Files.exists(idFile)) {
                java.nio.file.Files.writeString(
                        idFile, org.apache.kafka.common.Uuid.randomUuid().toString());
            }
            String clusterId = java.nio.file.Files.readString(idFile).trim();
            List<String> voters = new ArrayList<>();
            List<String> servers = new ArrayList<>();
            for (int node = 1; node <= BROKERS; node++) {
                voters.add(node + "@" + host + ":" + (kafkaControllerPort + 2 * (node - 1)));
                servers.add(host + ":" + (kafkaPort + 2 * (node - 1)));
            }
            for (int node = 1; node <= BROKERS; node++) {
                int port = kafkaPort + 2 * (node - 1);
                int controller = kafkaControllerPort + 2 * (node - 1);
                launches.add(new Supervisor.Launch(
                        Component.KAFKA,
                        List.of(
                                "--data", dataDir.resolve("kafka-" + node).toString(),
                                "--host", host,
                                "--port", Integer.toString(port),
                                "--controller-port", Integer.toString(controller),
                                "--node-id", Integer.toString(node),
                                "--controller-quorum-voters", String.join(",", voters),
                                "--cluster-id", clusterId,
                                "--replication-factor", Integer.toString(BROKERS)),
                        "Kafka broker " + node,
                        host,
                        List.of(port, controller),
                        "kafka-" + node,
                        node < BROKERS ? Supervisor.Start.WITH_NEXT : Supervisor.Start.READY));
            }
            return String.join(",", servers);
        }

        /** A JobManager (REST and web UI on --flink-web-port) and one TaskManager, with Strata's cluster config. */
        private void addFlinkCluster(List<Supervisor.Launch> launches, Path dataDir) throws java.io.IOException {
            Path flink = dataDir.resolve("flink");
            for (String dir : List.of("checkpoints", "jobmanager-tmp", "web-tmp", "taskmanager-1")) {
                java.nio.file.Files.createDirectories(flink.resolve(dir));
            }
            List<String> common = List.of(
                    "-Djobmanager.rpc.address=" + host,
                    "-Djobmanager.rpc.port=" + flinkRpcPort,
                    "-Djobmanager.bind-host=" + host,
                    "-Drest.address=" + host,
                    "-Drest.bind-address=" + host,
                    "-Drest.port=" + flinkWebPort,
                    "-Dtaskmanager.host=" + host,
                    "-Dtaskmanager.bind-host=" + host,
                    "-Dexecution.checkpointing.dir="
                            + flink.resolve("checkpoints").toUri());
            List<String> jobManager = new ArrayList<>(common);
            jobManager.addAll(List.of(
                    "-Dmetrics.reporter.prom.port=" + jobManagerMetricsPort,
                    "-Dio.tmp.dirs=" + flink.resolve("jobmanager-tmp"),
                    "-Dweb.tmpdir=" + flink.resolve("web-tmp")));
            launches.add(new Supervisor.Launch(
                    Component.FLINK_JOBMANAGER,
                    jobManager,
                    "Flink JobManager (UI)",
                    host,
                    List.of(flinkWebPort, flinkRpcPort, jobManagerMetricsPort)));
            List<String> taskManager = new ArrayList<>(common);
            taskManager.addAll(List.of(
                    "-Dtaskmanager.resource-id=taskmanager-1",
                    "-Dmetrics.reporter.prom.port=" + speedMetricsPort,
                    "-Dio.tmp.dirs=" + flink.resolve("taskmanager-1")));
            launches.add(new Supervisor.Launch(
                    Component.FLINK_TASKMANAGER, taskManager, "Flink TaskManager", host, List.of(speedMetricsPort)));
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
