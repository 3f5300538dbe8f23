package dev.strata.kafka;

import dev.strata.schemas.net.StrataPorts;
import dev.strata.schemas.topics.StrataTopics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code strata kafka}: a single-node KRaft broker with Strata's topics, as its own process. */
@Command(
        name = "kafka",
        mixinStandardHelpOptions = true,
        description = "Runs a single-node Kafka broker (KRaft) and creates Strata's topics.")
public final class KafkaMain implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaMain.class);

    @Option(
            names = "--data",
            defaultValue = "${env:STRATA_KAFKA_DATA:-data/kafka}",
            description = "Data directory; formatted on first start, reused after. Default: ${DEFAULT-VALUE}")
    Path data;

    @Option(
            names = "--host",
            defaultValue = "${env:STRATA_KAFKA_HOST:-127.0.0.1}",
            description = "Address to listen on and advertise. Default: ${DEFAULT-VALUE}")
    String host;

    @Option(
            names = "--port",
            defaultValue = "${env:STRATA_KAFKA_PORT:-" + StrataPorts.KAFKA + "}",
            description = "Client port. Default: ${DEFAULT-VALUE}")
    int port;

    @Option(
            names = "--controller-port",
            defaultValue = "${env:STRATA_KAFKA_CONTROLLER_PORT:-" + StrataPorts.KAFKA_CONTROLLER + "}",
            description = "KRaft controller port. Default: ${DEFAULT-VALUE}")
    int controllerPort;

    @Option(
            names = "--partitions",
            defaultValue = "${env:STRATA_KAFKA_PARTITIONS:-" + StrataTopics.DEFAULT_PARTITIONS + "}",
            description = "Partitions of events, events.dlq and speed-views when created. Default: ${DEFAULT-VALUE}")
    int partitions;

    @Option(
            names = "--node-id",
            defaultValue = "1",
            description = "This node's id in the cluster. Default: ${DEFAULT-VALUE}")
    int nodeId;

    @Option(
            names = "--controller-quorum-voters",
            description =
                    "Every controller of a multi-node cluster, id@host:port,... (the controller ports). Default: this node alone")
    String voters;

    @Option(
            names = "--cluster-id",
            description = "The cluster's id, the same on every node (e.g. from `kafka-storage random-uuid`);"
                    + " needed with --controller-quorum-voters")
    String clusterId;

    @Option(
            names = "--replication-factor",
            defaultValue = "1",
            description =
                    "Replication of Strata's and the internal topics; min.insync.replicas is 2 above 1. Default: ${DEFAULT-VALUE}")
    int replicationFactor;

    @Override
    public Integer call() throws Exception {
        EmbeddedKafkaBroker.Config config = new EmbeddedKafkaBroker.Config(
                data,
                host,
                port,
                controllerPort,
                Map.of(),
                new EmbeddedKafkaBroker.Cluster(nodeId, voters, clusterId, replicationFactor));
        LOG.info("Effective config: {}, partitions={}", config, partitions);
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            broker.close();
                            stopped.countDown();
                        },
                        "kafka-shutdown"));
        Properties adminProps = new Properties();
        adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (Admin admin = Admin.create(adminProps)) {
            // In a cluster, the topics can be made once enough brokers have registered.
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (true) {
                try {
                    List<String> created = StrataTopics.createMissing(
                            admin,
                            StrataTopics.all(partitions, StrataTopics.DEFAULT_EVENTS_RETENTION),
                            (short) replicationFactor,
                            Duration.ofSeconds(30));
                    LOG.info("Topics created: {}", created.isEmpty() ? "none (all existed)" : created);
                    break;
                } catch (IllegalStateException e) {
                    if (!(e.getCause() instanceof InvalidReplicationFactorException) || System.nanoTime() > deadline) {
                        throw e;
                    }
                    LOG.info(
                            "Waiting for {} brokers to create the topics: {}",
                            replicationFactor,
                            e.getCause().getMessage());
                    TimeUnit.SECONDS.sleep(1);
                }
            }
        }
        System.out.println("READY kafka " + broker.bootstrapServers());
        stopped.await();
        return 0;
    }

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new KafkaMain());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("strata kafka: cannot start: " + e);
            LOG.debug("Startup failure", e);
            return 1;
        });
        System.exit(cli.execute(args));
    }
}
