package dev.strata.cli.stack;

import dev.strata.schemas.auth.TokenFile;
import dev.strata.schemas.views.CutSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The one description of a Strata stack: which components run, with which arguments, on which
 * ports, how each is known to be ready and in which order they start and stop. {@code strata up}
 * (and {@code up --cluster}), every {@code strata bench} and {@code strata verify} build their stack
 * from it, so a component's new option is added here once. Each component runs with the command a
 * user runs alone ({@code strata kafka|registry|gateway|speed|batch|serving}), in a JVM of its own.
 */
public final class StackSpec {

    /** How much of the stack runs. */
    public enum Layers {
        /** Kafka and the schema registry (benchmarks that drive them directly). */
        KAFKA_AND_REGISTRY,
        /** And the ingest gateway. */
        INGEST,
        /** And the speed job, the batch scheduler and the serving layer: the whole pipeline. */
        ALL
    }

    /** Brokers of cluster mode. */
    public static final int CLUSTER_BROKERS = 3;

    private final Builder b;

    private StackSpec(Builder b) {
        this.b = b;
    }

    /** A stack of the build under {@code home}, keeping its data in {@code dataDir}, on {@code ports}. */
    public static Builder builder(Path home, Path dataDir, StackPorts ports) {
        return new Builder(home, dataDir, ports);
    }

    /** Settings of a stack; each starts at the local stack's default. */
    public static final class Builder {
        final Path home;
        final Path dataDir;
        final StackPorts ports;
        String host = "127.0.0.1";
        Layers layers = Layers.ALL;
        boolean cluster;
        CutSettings cut = CutSettings.DEFAULTS;
        Duration safetyMargin = Duration.parse(CutSettings.DEFAULT_SAFETY_MARGIN);
        Optional<Duration> batchInterval = Optional.empty();
        Optional<Path> views = Optional.empty();
        Optional<Path> transforms = Optional.empty();
        boolean demo;
        boolean files = true;
        Optional<Duration> speedCheckpointInterval = Optional.empty();
        boolean servingNoopEndpoint;
        boolean objectStore;

        private Builder(Path home, Path dataDir, StackPorts ports) {
            this.home = home;
            this.dataDir = dataDir;
            this.ports = ports;
        }

        /** The address every component listens on. */
        public Builder host(String host) {
            this.host = host;
            return this;
        }

        public Builder layers(Layers layers) {
            this.layers = layers;
            return this;
        }

        /**
         * Cluster mode: as many brokers as the ports name (a KRaft quorum, replication factor 3) and a
         * Flink session cluster (a JobManager and a TaskManager) that runs the speed job and the batch jobs.
         */
        public Builder cluster(boolean cluster) {
            this.cluster = cluster;
            return this;
        }

        /** The settings the speed, batch and serving layers share, and the batch layer's safety margin. */
        public Builder cut(CutSettings cut, Duration safetyMargin) {
            this.cut = cut;
            this.safetyMargin = safetyMargin;
            return this;
        }

        /** Time between batch cycles; the scheduler's own default if not set. */
        public Builder batchInterval(Duration interval) {
            this.batchInterval = Optional.of(interval);
            return this;
        }

        /** A view config for the speed, batch and serving layers; the built-in views if empty. */
        public Builder views(Optional<Path> views) {
            this.views = views.map(Path::toAbsolutePath);
            return this;
        }

        /** Transforms the batch scheduler runs (a YAML file); none if empty, the demo's with {@link #demo}. */
        public Builder transforms(Optional<Path> transforms) {
            this.transforms = transforms.map(Path::toAbsolutePath);
            return this;
        }

        /** Also the demo generator (devices over MQTT, a service over HTTP). */
        public Builder demo(boolean demo) {
            this.demo = demo;
            return this;
        }

        /** File uploads and the landing folder on the gateway (on by default). */
        public Builder files(boolean files) {
            this.files = files;
            return this;
        }

        /** How often the speed job checkpoints; its own default if not set. */
        public Builder speedCheckpointInterval(Duration interval) {
            this.speedCheckpointInterval = Optional.of(interval);
            return this;
        }

        /** The serving layer's no-op endpoint, the serving benchmark's reference. */
        public Builder servingNoopEndpoint(boolean on) {
            this.servingNoopEndpoint = on;
            return this;
        }

        /**
         * The lake on object storage: an S3-compatible store of the stack's own ({@code strata s3}),
         * the lake at {@code s3://strata/lake}, its catalog a SQLite file under the data directory.
         */
        public Builder objectStore(boolean on) {
            this.objectStore = on;
            return this;
        }

        public StackSpec build() {
            if (cluster && ports.kafka().size() < 2) {
                throw new IllegalArgumentException("cluster mode needs ports for several brokers");
            }
            return new StackSpec(this);
        }
    }

    public Path home() {
        return b.home;
    }

    public Path dataDir() {
        return b.dataDir;
    }

    public StackPorts ports() {
        return b.ports;
    }

    public boolean cluster() {
        return b.cluster;
    }

    public String bootstrapServers() {
        return String.join(
                ",", b.ports.kafka().stream().map(p -> b.host + ":" + p).toList());
    }

    public String registryUrl() {
        return "http://" + b.host + ":" + b.ports.registry();
    }

    public String gatewayUrl() {
        return "http://" + b.host + ":" + b.ports.gatewayHttp();
    }

    public String servingUrl() {
        return "http://" + b.host + ":" + b.ports.serving();
    }

    /** The speed job's Flink REST API: the MiniCluster's web UI, or the JobManager's in cluster mode. */
    public String flinkUrl() {
        return "http://" + jobManager();
    }

    public String batchMetricsUrl() {
        return "http://" + b.host + ":" + b.ports.batchMetrics() + "/metrics";
    }

    /** The gateway's token for every source and dataset, created on first start. */
    public Path tokenFile() {
        return b.dataDir.resolve("local.token");
    }

    /** The lake's warehouse: a directory under the data directory, or a prefix of the stack's S3 bucket. */
    public String lake() {
        return b.objectStore
                ? "s3://" + S3_BUCKET + "/lake"
                : b.dataDir.resolve("lake").toString();
    }

    /** The directory on this machine that holds the lake's files: the lake's, or the S3 server's. */
    public Path lakeDirectory() {
        return b.dataDir.resolve(b.objectStore ? "s3" : "lake");
    }

    public boolean objectStore() {
        return b.objectStore;
    }

    /** The stack's S3 server (with {@link Builder#objectStore}). */
    public String s3Url() {
        return "http://" + b.host + ":" + b.ports.s3();
    }

    /** The bucket the stack's S3 server keeps the lake in. */
    public static final String S3_BUCKET = "strata";

    /** The access key of the stack's S3 server; its secret is generated on first start. */
    public static final String S3_ACCESS_KEY = "strata";

    /** The secret of the stack's S3 server, created on first start and kept under the data directory. */
    public String s3SecretKey() {
        return secret("s3.secret");
    }

    /**
     * The token that may write to the stack's schema registry (the gateway's, to register the event
     * schema), created by the registry on first start beside its hash ({@code registry-tokens.yaml}).
     */
    public Path registryTokenFile() {
        return b.dataDir.resolve("registry.token");
    }

    /**
     * A secret created on first start under the data directory, readable by its owner only
     * (a temporary file's permissions) and never replaced once there, whoever starts first.
     */
    private String secret(String name) {
        Path file = b.dataDir.resolve(name);
        try {
            if (!Files.exists(file)) {
                Files.createDirectories(b.dataDir);
                Path partial = Files.createTempFile(b.dataDir, name, ".partial");
                Files.writeString(partial, TokenFile.generateToken());
                try {
                    Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
                } catch (FileAlreadyExistsException raced) {
                    Files.deleteIfExists(partial);
                }
            }
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(name + " in " + b.dataDir, e);
        }
    }

    /** The options that name the lake, as the gateway, batch and serving take them. */
    public List<String> lakeArgs() throws IOException {
        if (!b.objectStore) {
            return List.of("--lake", lake());
        }
        return List.of(
                "--lake", lake(),
                "--catalog-uri", "jdbc:sqlite:" + b.dataDir.resolve("catalog.db"),
                "--s3-endpoint", s3Url(),
                "--s3-access-key", S3_ACCESS_KEY,
                "--s3-secret-key", s3SecretKey());
    }

    /** Flink's REST address: the JobManager's in cluster mode, the MiniCluster's web UI locally. */
    String jobManager() {
        return b.host + ":" + b.ports.flinkWeb();
    }

    /** The components to start, in order; stopped in reverse order. */
    public List<Supervisor.Launch> launches() throws IOException {
        return new StackLaunches(this, b).all();
    }

    static String port(int port) {
        return Integer.toString(port);
    }
}
