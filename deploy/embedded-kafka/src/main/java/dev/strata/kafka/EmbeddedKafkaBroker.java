package dev.strata.kafka;

import dev.strata.schemas.net.LocalPorts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka node (KRaft, combined broker and controller) running in this JVM: alone, or one of
 * the nodes of a cluster ({@link Cluster}: its id, every controller, the shared cluster id, the
 * replication of internal topics). Its data directory is formatted on first start and reused
 * afterwards, so a restart resumes with the topics and records it had.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

    /**
     * A node's place in a cluster. {@code voters} lists every controller as
     * {@code id@host:port,...} (null: this node alone); {@code clusterId} must be the same on every
     * node (null: a new random one); {@code replicationFactor} is the replication of the internal
     * topics and the default of new topics, with {@code min.insync.replicas} 2 above one replica.
     */
    public record Cluster(int nodeId, String voters, String clusterId, int replicationFactor) {
        public static final Cluster SINGLE = new Cluster(1, null, null, 1);

        public Cluster {
            if (nodeId < 0) {
                throw new IllegalArgumentException("node id must be >= 0, got " + nodeId);
            }
            if (replicationFactor < 1) {
                throw new IllegalArgumentException("replication factor must be >= 1, got " + replicationFactor);
            }
            if (voters != null && !voters.contains(nodeId + "@")) {
                throw new IllegalArgumentException("node " + nodeId + " is not among the controller voters " + voters);
            }
            if (voters != null && clusterId == null) {
                throw new IllegalArgumentException("the nodes of a cluster need one cluster id (--cluster-id)");
            }
        }

        int minInsyncReplicas() {
            return replicationFactor > 1 ? 2 : 1;
        }
    }

    /** How to run the broker. Port 0 picks a free port. */
    public record Config(
            Path dataDir, String host, int port, int controllerPort, Map<String, String> overrides, Cluster cluster) {
        public Config {
            Objects.requireNonNull(dataDir, "dataDir");
            Objects.requireNonNull(host, "host");
            checkPort("port", port);
            checkPort("controllerPort", controllerPort);
            overrides = Map.copyOf(overrides);
            Objects.requireNonNull(cluster, "cluster");
        }

        public Config(Path dataDir, String host, int port, int controllerPort, Map<String, String> overrides) {
            this(dataDir, host, port, controllerPort, overrides, Cluster.SINGLE);
        }

        /** Loopback, free ports, no overrides. */
        public static Config ephemeral(Path dataDir) {
            return new Config(dataDir, "127.0.0.1", 0, 0, Map.of());
        }

        private static void checkPort(String name, int port) {
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException(name + " must be 0..65535 (0: any free port), got " + port);
            }
        }
    }

    private final Config config;
    private final int port;
    private final int controllerPort;
    private KafkaRaftServer server;

    private EmbeddedKafkaBroker(Config config, int port, int controllerPort) {
        this.config = config;
        this.port = port;
        this.controllerPort = controllerPort;
    }

    /** Formats the data directory if it is new, then starts the broker. */
    public static EmbeddedKafkaBroker start(Config config) {
        int port = config.port() == 0 ? LocalPorts.free(config.host()) : config.port();
        int controllerPort = config.controllerPort() == 0 ? LocalPorts.free(config.host()) : config.controllerPort();
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(config, port, controllerPort);
        broker.startServer();
        return broker;
    }

    private void startServer() {
        Path logDir = config.dataDir().resolve("log");
        try {
            Files.createDirectories(logDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create Kafka data directory " + logDir, e);
        }
        Properties props = serverProperties(logDir);
        if (!Files.exists(logDir.resolve("meta.properties"))) {
            format(props, logDir, config.cluster().clusterId());
        }
        long started = System.nanoTime();
        server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        server.startup();
        LOG.info(
                "Kafka broker up at {} (data {}) in {} ms",
                bootstrapServers(),
                config.dataDir(),
                (System.nanoTime() - started) / 1_000_000);
    }

    private Properties serverProperties(Path logDir) {
        String host = config.host();
        Cluster cluster = config.cluster();
        String rf = Integer.toString(cluster.replicationFactor());
        String minIsr = Integer.toString(cluster.minInsyncReplicas());
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(cluster.nodeId()));
        p.put(
                "controller.quorum.voters",
                cluster.voters() != null ? cluster.voters() : cluster.nodeId() + "@" + host + ":" + controllerPort);
        p.put("listeners", "PLAINTEXT://" + host + ":" + port + ",CONTROLLER://" + host + ":" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://" + host + ":" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", logDir.toAbsolutePath().toString());
        // Internal topics as replicated as the cluster allows (one node: one replica).
        p.put("offsets.topic.replication.factor", rf);
        p.put("offsets.topic.num.partitions", "5");
        p.put("transaction.state.log.replication.factor", rf);
        p.put("transaction.state.log.min.isr", minIsr);
        p.put("transaction.state.log.num.partitions", "5");
        p.put("share.coordinator.state.topic.replication.factor", rf);
        p.put("share.coordinator.state.topic.min.isr", minIsr);
        p.put("default.replication.factor", rf);
        p.put("min.insync.replicas", minIsr);
        p.put("group.initial.rebalance.delay.ms", "0");
        // The default keeps 128 MiB on the heap for compaction; the local stack needs far less.
        p.put("log.cleaner.dedupe.buffer.size", "2097152");
        p.put("num.partitions", "1");
        // Strata creates its topics explicitly (StrataTopics); a typo must not create a topic.
        p.put("auto.create.topics.enable", "false");
        p.putAll(config.overrides());
        return p;
    }

    private static void format(Properties props, Path logDir, String sharedClusterId) {
        Path propsFile = logDir.getParent().resolve("format.properties");
        try (OutputStream out = Files.newOutputStream(propsFile)) {
            props.store(out, "written to format the KRaft storage");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        String clusterId =
                sharedClusterId != null ? sharedClusterId : Uuid.randomUuid().toString();
        int rc;
        try (PrintStream print = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            rc = StorageTool.execute(new String[] {"format", "-t", clusterId, "-c", propsFile.toString()}, print);
        }
        if (rc != 0) {
            throw new IllegalStateException(
                    "formatting Kafka storage in " + logDir + " failed: " + output.toString(StandardCharsets.UTF_8));
        }
        LOG.info("Formatted Kafka storage in {} (cluster {})", logDir, clusterId);
    }

    public String bootstrapServers() {
        return config.host() + ":" + port;
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return config.dataDir();
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
            LOG.info("Kafka broker at {} stopped", bootstrapServers());
        }
    }
}
