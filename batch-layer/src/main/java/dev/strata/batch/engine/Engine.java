package dev.strata.batch.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.client.deployment.executors.PipelineExecutorUtils;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.NettyShuffleEnvironmentOptions;
import org.apache.flink.configuration.ResourceManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.PipelineExecutor;
import org.apache.flink.core.execution.PipelineExecutorFactory;
import org.apache.flink.core.execution.PipelineExecutorServiceLoader;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.plugin.DefaultPluginManager;
import org.apache.flink.core.plugin.DirectoryBasedPluginFinder;
import org.apache.flink.core.plugin.PluginConfig;
import org.apache.flink.core.plugin.PluginManager;
import org.apache.flink.core.plugin.PluginUtils;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.minicluster.MiniClusterJobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the batch jobs run: a Flink MiniCluster in this JVM (the local stack), started once and kept
 * for every job of the process (a cluster start costs seconds, two jobs run per cycle), or a Flink
 * cluster reached through its JobManager's REST endpoint, to which the job jar is shipped. Every
 * job runs with {@link RuntimeExecutionMode#BATCH}.
 */
public final class Engine implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);

    private final Optional<String> jobManager;
    private final List<String> jars;
    private final int parallelism;
    private MiniCluster miniCluster;

    private Engine(Optional<String> jobManager, List<String> jars, int parallelism) {
        this.jobManager = jobManager;
        this.jars = jars;
        this.parallelism = parallelism;
    }

    private static Configuration flinkConfiguration = new Configuration();

    /**
     * Reads the Flink configuration of {@code FLINK_CONF_DIR} when set (file-system settings such as
     * {@code s3.endpoint}, {@code s3.access-key}) and initialises Flink's file systems with it and the
     * plugins of {@code FLINK_PLUGINS_DIR} (e.g. {@code s3-fs-hadoop/}), so the lake may be on S3 or
     * HDFS. Without {@code FLINK_CONF_DIR}: the defaults, local and HDFS file systems.
     */
    public static synchronized void initFileSystems() {
        initFileSystems(Map.of());
    }

    /**
     * As {@link #initFileSystems()}, with the lake's own settings on top (the keys of Flink's S3 file
     * system for a lake on object storage: its endpoint, region, credentials, addressing), so the
     * batch jobs read the lake's files where they are.
     */
    public static synchronized void initFileSystems(Map<String, String> lakeSettings) {
        String confDir = System.getenv("FLINK_CONF_DIR");
        if (confDir != null && !confDir.isBlank()) {
            flinkConfiguration = GlobalConfiguration.loadConfiguration(confDir);
            LOG.info("Flink configuration from {}", confDir);
        }
        if (!lakeSettings.isEmpty()) {
            Configuration merged = new Configuration(flinkConfiguration);
            lakeSettings.forEach(merged::setString);
            flinkConfiguration = merged;
        }
        FileSystem.initialize(flinkConfiguration, plugins(flinkConfiguration));
    }

    /**
     * Flink's plugins: those of {@code FLINK_PLUGINS_DIR} when set, else the ones the build put
     * beside this module's classes ({@code target/flink-plugins}: the S3 file system), each in a
     * class loader of its own as on a Flink distribution.
     */
    private static PluginManager plugins(Configuration conf) {
        Optional<Path> root =
                PluginConfig.fromConfiguration(conf).getPluginsPath().or(Engine::bundledPlugins);
        if (root.isEmpty()) {
            return PluginUtils.createPluginManagerFromRootFolder(conf);
        }
        try {
            return new DefaultPluginManager(
                    new DirectoryBasedPluginFinder(root.get()).findPlugins(),
                    CoreOptions.getPluginParentFirstLoaderPatterns(conf));
        } catch (IOException e) {
            throw new UncheckedIOException("reading Flink's plugins in " + root.get(), e);
        }
    }

    private static Optional<Path> bundledPlugins() {
        try {
            Path classes = Path.of(Engine.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
            Path plugins = classes.resolveSibling("flink-plugins");
            return Files.isDirectory(plugins) ? Optional.of(plugins) : Optional.empty();
        } catch (URISyntaxException | RuntimeException e) {
            return Optional.empty();
        }
    }

    public static Engine local(int parallelism) {
        return new Engine(Optional.empty(), List.of(), parallelism);
    }

    /** {@code HOST:PORT} of a JobManager's REST endpoint and the job jar to ship. */
    public static Engine cluster(String jobManager, String jar, int parallelism) {
        return new Engine(Optional.of(jobManager), List.of(jar), parallelism);
    }

    public int parallelism() {
        return parallelism;
    }

    public StreamExecutionEnvironment environment() throws Exception {
        Configuration conf = new Configuration(flinkConfiguration);
        conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.BATCH);
        StreamExecutionEnvironment env;
        if (jobManager.isPresent()) {
            String hostPort = jobManager.get();
            int colon = hostPort.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("--jobmanager wants HOST:PORT, got " + hostPort);
            }
            env = StreamExecutionEnvironment.createRemoteEnvironment(
                    hostPort.substring(0, colon),
                    Integer.parseInt(hostPort.substring(colon + 1)),
                    conf,
                    jars.toArray(String[]::new));
        } else {
            // Straight to the kept MiniCluster (no REST round trips: the REST client polls a job's
            // result with a back-off of up to 2 s); the MiniCluster shares this JVM's classpath.
            MiniCluster cluster = miniCluster();
            conf.set(DeploymentOptions.TARGET, EXECUTOR);
            conf.set(DeploymentOptions.ATTACHED, true);
            env = new StreamExecutionEnvironment(new KeptMiniCluster(cluster), conf, Engine.class.getClassLoader());
        }
        env.setParallelism(parallelism);
        // No operator of the batch jobs keeps or mutates a record it has passed on: skip the defensive copies.
        env.getConfig().enableObjectReuse();
        return env;
    }

    private static final String EXECUTOR = "strata-kept-minicluster";

    /** Runs pipelines on one MiniCluster, as Flink's own test utilities do. */
    private record KeptMiniCluster(MiniCluster cluster) implements PipelineExecutorServiceLoader {
        @Override
        public PipelineExecutorFactory getExecutorFactory(Configuration configuration) {
            return new PipelineExecutorFactory() {
                @Override
                public String getName() {
                    return EXECUTOR;
                }

                @Override
                public boolean isCompatibleWith(Configuration c) {
                    return true;
                }

                @Override
                public PipelineExecutor getExecutor(Configuration c) {
                    return (pipeline, conf, classLoader) -> {
                        StreamGraph graph = PipelineExecutorUtils.getStreamGraph(pipeline, conf);
                        return cluster.submitJob(graph)
                                .thenApply(submitted -> new MiniClusterJobClient(
                                        submitted.getJobID(),
                                        cluster,
                                        classLoader,
                                        MiniClusterJobClient.JobFinalizationBehavior.NOTHING));
                    };
                }
            };
        }

        @Override
        public Stream<String> getExecutorNames() {
            return Stream.of(EXECUTOR);
        }
    }

    private synchronized MiniCluster miniCluster() throws Exception {
        if (miniCluster == null) {
            Configuration conf = new Configuration(flinkConfiguration);
            conf.set(RestOptions.ADDRESS, "127.0.0.1");
            conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
            conf.set(RestOptions.BIND_PORT, "0");
            if (!flinkConfiguration.containsKey(NettyShuffleEnvironmentOptions.SHUFFLE_COMPRESSION_CODEC.key())) {
                // Shuffled data never leaves this process: compressing it (LZ4 by default) only costs CPU.
                conf.set(
                        NettyShuffleEnvironmentOptions.SHUFFLE_COMPRESSION_CODEC,
                        NettyShuffleEnvironmentOptions.CompressionCodec.NONE);
            }
            // Parquet keeps its decompressors in a static cache, each holding a Hadoop Configuration
            // that remembers the class loader of the job that first read a file: a later job's read
            // then asks that finished job's class loader for resources. On this MiniCluster every
            // job's class loader is this JVM's own, so the check that refuses it guards nothing.
            conf.set(CoreOptions.CHECK_LEAKED_CLASSLOADER, false);
            // Slots here are in this process: ask for and match them at once instead of batching the
            // requests (20 ms in the JobMaster, 50 ms in the resource manager): 40-50 ms of every
            // job, a tenth of a small transform run's (measured with bench transforms).
            if (!flinkConfiguration.containsKey(ResourceManagerOptions.REQUIREMENTS_CHECK_DELAY.key())) {
                conf.set(ResourceManagerOptions.REQUIREMENTS_CHECK_DELAY, Duration.ZERO);
            }
            if (!flinkConfiguration.containsKey(JobManagerOptions.SLOT_REQUEST_MAX_INTERVAL.key())) {
                conf.set(JobManagerOptions.SLOT_REQUEST_MAX_INTERVAL, Duration.ofMillis(1));
            }
            MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                    .setConfiguration(conf)
                    .setNumTaskManagers(1)
                    .setNumSlotsPerTaskManager(parallelism)
                    .build());
            cluster.start();
            miniCluster = cluster;
            LOG.info(
                    "Flink MiniCluster for the batch jobs started (REST at {})",
                    cluster.getRestAddress().get());
        }
        return miniCluster;
    }

    public String describe() {
        return jobManager.map(j -> "Flink cluster " + j).orElse("local Flink MiniCluster") + ", parallelism "
                + parallelism;
    }

    @Override
    public synchronized void close() throws Exception {
        if (miniCluster != null) {
            miniCluster.close();
            miniCluster = null;
        }
    }
}
