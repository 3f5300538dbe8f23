package dev.strata.cli.stack;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A process of the stack: the module whose classpath it runs with, its main class and JVM options.
 * Each runs in its own JVM: Flink and Kafka Streams ship clashing builds of {@code org.rocksdb},
 * and each layer must survive the others' crashes.
 */
public enum Component {
    KAFKA(
            "kafka",
            "deploy/embedded-kafka",
            "dev.strata.kafka.KafkaMain",
            List.of("-Xms256m", "-Xmx768m"),
            "Runs the single-node Kafka broker (KRaft) with Strata's topics."),
    REGISTRY(
            "registry",
            "schemas/registry",
            "dev.strata.registry.RegistryMain",
            List.of("-Xmx256m"),
            "Runs the Schema-Registry-compatible API."),
    GATEWAY(
            "gateway",
            "ingest-gateway",
            "dev.strata.gateway.GatewayMain",
            List.of("-Xms512m", "-Xmx512m"),
            "Runs the ingest gateway (HTTP and MQTT into Kafka)."),
    SPEED(
            "speed",
            "speed-layer",
            "dev.strata.speed.SpeedMain",
            List.of("-Xmx1g"),
            "Runs the speed layer's Flink job on a local MiniCluster; `speed submit` sends it to a cluster."),
    BATCH(
            "batch",
            "batch-layer",
            "dev.strata.batch.BatchMain",
            List.of("-Xmx1g"),
            "The batch layer: `batch run`, `status`, `replay`, `rollback`, `scheduler`."),
    S3(
            "s3",
            "deploy/s3",
            "dev.strata.s3.S3Main",
            List.of("-Xmx256m"),
            "Runs an S3-compatible object store (S3Proxy) on a local directory, for a lake on object storage."),
    LAKE(
            "lake",
            "batch-layer",
            "dev.strata.batch.LakeMain",
            List.of("-Xmx1g"),
            "The lake's tables: `lake maintain` compacts small files, expires snapshots, removes orphans, applies retention."),
    TRANSFORM(
            "transform",
            "batch-layer",
            "dev.strata.batch.TransformMain",
            List.of("-Xmx1g"),
            "SQL transforms into curated tables: `transform run NAME`, `transform status`."),
    SERVING(
            "serving",
            "serving-layer",
            "dev.strata.serving.ServingMain",
            List.of("-Xms256m", "-Xmx512m"),
            "Runs the serving layer: merged views over HTTP, the dashboard, /metrics."),
    VERIFY(
            "verify",
            "deploy/verify",
            "dev.strata.verify.VerifyMain",
            List.of("-Xmx1g"),
            "Runs the end-to-end guarantee suite: the stack as processes, a seeded workload, faults, an oracle."),
    FLINK_JOBMANAGER(
            "flink-jobmanager",
            "deploy/cluster",
            "dev.strata.cluster.JobManagerMain",
            List.of(),
            "Runs a Flink session cluster's JobManager (Flink's own entry point; --configDir DIR -Dkey=value...).",
            "GET_JM_RESOURCE_PARAMS"),
    FLINK_TASKMANAGER(
            "flink-taskmanager",
            "deploy/cluster",
            "dev.strata.cluster.TaskManagerMain",
            List.of(),
            "Runs a TaskManager of the Flink session cluster (Flink's own entry point; --configDir DIR -Dkey=value...).",
            "GET_TM_RESOURCE_PARAMS"),
    DEMO("demo", "ingest-gateway", "dev.strata.gateway.demo.DemoMain", List.of("-Xmx128m"), null),
    BENCH_INGEST("bench", "deploy/bench", "dev.strata.bench.IngestBench", List.of("-Xmx1g"), null),
    BENCH_BATCH("bench", "deploy/bench", "dev.strata.bench.BatchBench", List.of("-Xmx3g"), null),
    BENCH_SERVING("bench", "deploy/bench", "dev.strata.bench.ServingBench", List.of("-Xmx512m"), null),
    BENCH_FRESHNESS("bench", "deploy/bench", "dev.strata.bench.FreshnessBench", List.of("-Xmx512m"), null),
    BENCH_TRANSFORMS("bench", "deploy/bench", "dev.strata.bench.TransformsBench", List.of("-Xmx3g"), null),
    /** The speed job on MiniClusters in the bench's JVM, with the job's own classpath (Flink included). */
    BENCH_SPEED("bench", "speed-layer", "dev.strata.speed.bench.SpeedBench", List.of("-Xmx3g"), null),
    /**
     * The gateway in the bench's JVM, its heap capped as the stack's gateway's (512 MiB, half the
     * large file's size; 96 MiB before the conversion wrote a file per core, whose writers then spent
     * their time collecting garbage).
     */
    BENCH_FILES("bench", "deploy/bench", "dev.strata.bench.FilesBench", List.of("-Xms512m", "-Xmx512m"), null);

    /** A line a component prints on stdout once it serves: {@code READY <name> <endpoint>}. */
    public static final String READY_PREFIX = "READY ";

    private final String id;
    private final String module;
    private final String mainClass;
    private final List<String> jvmOptions;
    private final String description;
    /** For Flink's processes: the BashJavaUtils command that derives their JVM flags; else null. */
    private final String flinkResources;

    /** @param description the {@code strata <id>} command's summary; null if it does not run alone */
    Component(String id, String module, String mainClass, List<String> jvmOptions, String description) {
        this(id, module, mainClass, jvmOptions, description, null);
    }

    Component(
            String id,
            String module,
            String mainClass,
            List<String> jvmOptions,
            String description,
            String flinkResources) {
        this.id = id;
        this.module = module;
        this.mainClass = mainClass;
        this.jvmOptions = jvmOptions;
        this.description = description;
        this.flinkResources = flinkResources;
    }

    public String description() {
        return description;
    }

    public String id() {
        return id;
    }

    /** The command line that runs this component from the build under {@code home}. */
    public List<String> command(Path home, List<String> args) {
        String classpath = classpath(home);
        List<String> jvm = jvmOptions;
        List<String> arguments = args;
        if (flinkResources != null) {
            // As Flink's scripts: the JVM's memory flags and the memory pools from the configuration.
            arguments = new ArrayList<>(FlinkResources.withConfigDir(home, args));
            FlinkResources resources = FlinkResources.compute(classpath, flinkResources, arguments);
            jvm = resources.jvmOptions();
            arguments.addAll(resources.dynamicProperties());
        }
        List<String> command = new ArrayList<>();
        command.add(javaExecutable());
        command.addAll(jvm);
        command.add("-Dlog4j2.configurationFile=" + home.resolve("deploy/conf/log4j2.xml"));
        command.add("-Dstrata.component=" + id);
        command.add("-cp");
        command.add(classpath);
        command.add(mainClass);
        command.addAll(arguments);
        return command;
    }

    /**
     * The module's classes followed by its runtime dependencies, as the build wrote them, and by its
     * provided ones where the module writes those too (the speed job: Flink itself).
     */
    /** The module whose build the component runs, relative to the repository root. */
    public String module() {
        return module;
    }

    public String classpath(Path home) {
        Path moduleDir = home.resolve(module);
        Path classes = moduleDir.resolve("target/classes");
        Path dependencies = moduleDir.resolve("target/runtime-classpath.txt");
        if (!Files.isDirectory(classes) || !Files.isRegularFile(dependencies)) {
            throw new IllegalStateException("component " + id + " is not built (" + dependencies
                    + " is missing): run ./mvnw package -DskipTests," + " or use ./strata, which builds when needed");
        }
        try {
            String deps = Files.readString(dependencies, StandardCharsets.UTF_8).trim();
            Path provided = moduleDir.resolve("target/provided-classpath.txt");
            if (Files.isRegularFile(provided)) {
                String more = Files.readString(provided, StandardCharsets.UTF_8).trim();
                deps = deps.isEmpty() ? more : more.isEmpty() ? deps : deps + File.pathSeparator + more;
            }
            return deps.isEmpty() ? classes.toString() : classes + File.pathSeparator + deps;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
