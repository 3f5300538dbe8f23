package dev.strata.serving;

import dev.strata.schemas.topics.StrataTopics;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.serving.http.ReadTokens;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code strata serving}: the merged views over HTTP, and the dashboard. */
@Command(
        name = "serving",
        mixinStandardHelpOptions = true,
        description = "Serves the merged batch and speed views over HTTP (JSON API, dashboard, /metrics).")
public final class ServingMain implements Callable<Integer> {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ServingMain.class);

    @Option(
            names = "--bootstrap-servers",
            defaultValue = "${env:STRATA_KAFKA_BOOTSTRAP:-127.0.0.1:9092}",
            description = "Kafka. Default: ${DEFAULT-VALUE}")
    String bootstrapServers;

    @Option(
            names = "--lake",
            defaultValue = "data/lake",
            description = "The batch layer's lake (its snapshots). Default: ${DEFAULT-VALUE}")
    Path lake;

    @Option(
            names = "--data",
            defaultValue = "data/serving",
            description = "Local state: the speed views store and the loaded snapshots. Default: ${DEFAULT-VALUE}")
    Path data;

    @Option(
            names = "--host",
            defaultValue = "${env:STRATA_SERVING_HOST:-127.0.0.1}",
            description = "Default: ${DEFAULT-VALUE}")
    String host;

    @Option(
            names = "--port",
            defaultValue = "${env:STRATA_SERVING_PORT:-8088}",
            description = "Default: ${DEFAULT-VALUE}")
    int port;

    @Option(names = "--views", description = "View config (YAML). Default: the built-in views")
    Path views;

    @Option(
            names = "--read-tokens",
            defaultValue = "${env:STRATA_SERVING_READ_TOKENS}",
            description = "YAML file of the SHA-256 hashes of the tokens that may read /v1 (Authorization: Bearer). "
                    + "Without it the API is open (the local stack listens on loopback).")
    Path readTokens;

    @Option(
            names = "--max-points",
            defaultValue = "10000",
            description = "Most points per group one series query may ask for (422 beyond). Default: ${DEFAULT-VALUE}")
    int maxPoints;

    @Option(
            names = "--instance",
            defaultValue = "local",
            description =
                    "This instance's name: each instance keeps a full copy of the speed views. Default: ${DEFAULT-VALUE}")
    String instance;

    @Option(names = "--speed-topic", defaultValue = StrataTopics.SPEED_VIEWS, description = "Default: ${DEFAULT-VALUE}")
    String speedTopic;

    @Option(
            names = "--commits-topic",
            defaultValue = StrataTopics.BATCH_COMMITS,
            description = "Default: ${DEFAULT-VALUE}")
    String commitsTopic;

    @Option(
            names = "--sql-max-rows",
            defaultValue = "10000",
            description = "Most rows one POST /v1/sql answer returns. Default: ${DEFAULT-VALUE}")
    int sqlMaxRows;

    @Option(
            names = "--sql-timeout",
            defaultValue = "PT30S",
            description = "Longest a SQL query may run. Default: ${DEFAULT-VALUE}")
    java.time.Duration sqlTimeout;

    @Option(
            names = "--sql-memory",
            defaultValue = "512MB",
            description = "DuckDB's memory limit per SQL query. Default: ${DEFAULT-VALUE}")
    String sqlMemory;

    @Option(
            names = "--sql-concurrency",
            defaultValue = "2",
            description = "SQL queries at once (more are answered 429). Default: ${DEFAULT-VALUE}")
    int sqlConcurrency;

    @Option(
            names = "--noop-endpoint",
            hidden = true,
            description = "Also answer GET /bench/noop (the serving benchmark's reference)")
    boolean noopEndpoint;

    @Override
    public Integer call() throws Exception {
        List<ViewDefinition> definitions = views == null ? ViewConfig.defaults() : ViewConfig.load(views);
        Optional<ReadTokens> tokens = readTokens == null ? Optional.empty() : Optional.of(ReadTokens.load(readTokens));
        if (tokens.isEmpty()) {
            LOG.info("No --read-tokens: /v1 answers without a token");
        }
        Serving serving = Serving.start(new Serving.Config(
                bootstrapServers,
                lake.toAbsolutePath(),
                data.toAbsolutePath(),
                host,
                port,
                definitions,
                tokens,
                maxPoints,
                instance,
                speedTopic,
                commitsTopic,
                noopEndpoint,
                new Serving.Sql(sqlMaxRows, sqlTimeout, sqlMemory, sqlConcurrency)));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            LOG.info("Stopping the serving layer");
                            try {
                                serving.close();
                            } catch (Exception e) {
                                LOG.warn("Stopping: {}", e.toString());
                            }
                            stopped.countDown();
                        },
                        "serving-shutdown"));
        System.out.println("READY serving " + serving.url());
        stopped.await();
        return 0;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new ServingMain()).execute(args));
    }
}
