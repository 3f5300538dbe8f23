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

        @Option(names = "--data", defaultValue = "${env:STRATA_DATA:-data}",
                description = "Data directory of the stack. Default: ${DEFAULT-VALUE}")
        Path data;

        @Option(names = "--host", defaultValue = "127.0.0.1",
                description = "Address every component listens on. Default: ${DEFAULT-VALUE}")
        String host;

        @Option(names = "--kafka-port", defaultValue = "9092", description = "Kafka port. Default: ${DEFAULT-VALUE}")
        int kafkaPort;

        @Option(names = "--kafka-controller-port", defaultValue = "9093",
                description = "Kafka's KRaft controller port. Default: ${DEFAULT-VALUE}")
        int kafkaControllerPort;

        @Option(names = "--registry-port", defaultValue = "8081",
                description = "Schema registry port. Default: ${DEFAULT-VALUE}")
        int registryPort;

        @Option(names = "--gateway-port", defaultValue = "8080",
                description = "Gateway HTTP port. Default: ${DEFAULT-VALUE}")
        int gatewayPort;

        @Option(names = "--mqtt-port", defaultValue = "1883", description = "Gateway MQTT port. Default: ${DEFAULT-VALUE}")
        int mqttPort;

        @Option(names = "--serving-port", defaultValue = "8088",
                description = "Serving layer (API and dashboard) port. Default: ${DEFAULT-VALUE}")
        int servingPort;

        @Option(names = "--flink-web-port", defaultValue = "8083",
                description = "The speed job's Flink web UI port. Default: ${DEFAULT-VALUE}")
        int flinkWebPort;

        @Option(names = "--speed-metrics-port", defaultValue = "9249",
                description = "The speed job's Prometheus reporter port. Default: ${DEFAULT-VALUE}")
        int speedMetricsPort;

        @Option(names = "--batch-metrics-port", defaultValue = "9250",
                description = "The batch scheduler's Prometheus /metrics port. Default: ${DEFAULT-VALUE}")
        int batchMetricsPort;

        @Option(names = "--views", description = "View config (YAML) for the speed and batch layers. Default: the built-in views")
        Path views;

        @Option(names = "--batch-interval", defaultValue = "PT2M",
                description = "Time between batch cycles (archive + batch views). Default: ${DEFAULT-VALUE}")
        String batchInterval;

        @Option(names = "--demo", defaultValue = "false",
                description = "Also run a generator: a few dozen devices over MQTT and a service over HTTP.")
        boolean demo;

        @Override
        public Integer call() throws Exception {
            Path dataDir = (data.isAbsolute() ? data : home().resolve(data)).normalize();
            String bootstrap = host + ":" + kafkaPort;
            List<Supervisor.Launch> launches = new ArrayList<>();
            launches.add(
                    new Supervisor.Launch(
                            Component.KAFKA,
                            List.of(
                                    "--data", dataDir.resolve("kafka").toString(),
                                    "--host", host,
                                    "--port", Integer.toString(kafkaPort),
                                    "--controller-port", Integer.toString(kafkaControllerPort)),
                            "Kafka",
                            host,
                            List.of(kafkaPort, kafkaControllerPort)));
            launches.add(
                    new Supervisor.Launch(
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
            launches.add(
                    new Supervisor.Launch(
                            Component.GATEWAY,
                            List.of(
                                    "--bootstrap-servers", bootstrap,
                                    "--registry-url", registryUrl,
                                    "--host", host,
                                    "--http-port", Integer.toString(gatewayPort),
                                    "--mqtt-port", Integer.toString(mqttPort),
                                    "--tokens", dataDir.resolve("gateway-tokens.yaml").toString(),
                                    "--create-token", tokenFile.toString()),
                            "Gateway HTTP, MQTT",
                            host,
                            List.of(gatewayPort, mqttPort)));
            List<String> speedArgs = new ArrayList<>(List.of(
                    "--bootstrap-servers", bootstrap,
                    "--registry-url", registryUrl,
                    "--data", dataDir.resolve("speed").toString(),
                    "--web-port", Integer.toString(flinkWebPort),
                    "--metrics-port", Integer.toString(speedMetricsPort)));
            if (views != null) {
                speedArgs.addAll(List.of("--views", views.toAbsolutePath().toString()));
            }
            launches.add(new Supervisor.Launch(Component.SPEED, speedArgs, "Speed job (Flink UI)", host,
                    List.of(flinkWebPort, speedMetricsPort)));
            List<String> batchArgs = new ArrayList<>(List.of(
                    "scheduler",
                    "--bootstrap-servers", bootstrap,
                    "--registry-url", registryUrl,
                    "--lake", dataDir.resolve("lake").toString(),
                    "--interval", batchInterval,
                    "--metrics-host", host,
                    "--metrics-port", Integer.toString(batchMetricsPort)));
            if (views != null) {
                batchArgs.addAll(List.of("--views", views.toAbsolutePath().toString()));
            }
            launches.add(new Supervisor.Launch(Component.BATCH, batchArgs, "Batch scheduler (metrics)", host, List.of(batchMetricsPort)));
            List<String> servingArgs = new ArrayList<>(List.of(
                    "--bootstrap-servers", bootstrap,
                    "--lake", dataDir.resolve("lake").toString(),
                    "--data", dataDir.resolve("serving").toString(),
                    "--host", host,
                    "--port", Integer.toString(servingPort)));
            if (views != null) {
                servingArgs.addAll(List.of("--views", views.toAbsolutePath().toString()));
            }
            launches.add(new Supervisor.Launch(Component.SERVING, servingArgs, "Serving API and dashboard", host, List.of(servingPort)));
            if (demo) {
                launches.add(
                        new Supervisor.Launch(
                                Component.DEMO,
                                List.of(
                                        "--http", "http://" + host + ":" + gatewayPort,
                                        "--mqtt-host", host,
                                        "--mqtt-port", Integer.toString(mqttPort),
                                        "--token-file", tokenFile.toString()),
                                "Demo generator",
                                host,
                                List.of()));
            }
            Supervisor supervisor = new Supervisor(home(), dataDir, launches, System.out);
            Runtime.getRuntime()
                    .addShutdownHook(
                            new Thread(
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

        @Unmatched List<String> args = new ArrayList<>();

        ComponentCommand(Component component) {
            this.component = component;
        }

        @Override
        public Integer call() throws Exception {
            Process process = new ProcessBuilder(component.command(home(), args)).inheritIO().start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                process.destroy();
                try {
                    process.waitFor();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "strata-component-shutdown"));
            return process.waitFor();
        }
    }
}
