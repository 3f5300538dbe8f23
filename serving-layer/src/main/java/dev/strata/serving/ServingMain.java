package dev.strata.serving;

import dev.strata.lake.LakeOptions;
import dev.strata.schemas.auth.TokenFile;
import dev.strata.schemas.cli.CutOptions;
import dev.strata.schemas.cli.KafkaOptions;
import dev.strata.schemas.cli.ViewOptions;
import dev.strata.schemas.net.LocalPorts;
import dev.strata.schemas.net.StrataPorts;
import dev.strata.schemas.topics.StrataTopics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code strata serving}: the merged views over HTTP, and the dashboard. */
@Command(
        name = "serving",
        mixinStandardHelpOptions = true,
        description = "Serves the merged batch and speed views over HTTP (JSON API, dashboard, /metrics).")
public final class ServingMain implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(ServingMain.class);

    @Mixin
    KafkaOptions kafka;

    @Mixin
    CutOptions cut;

    @Mixin
    ViewOptions views;

    @Mixin
    LakeOptions lake;

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
            defaultValue = "${env:STRATA_SERVING_PORT:-" + StrataPorts.SERVING + "}",
            description = "Default: ${DEFAULT-VALUE}")
    int port;

    @Option(
            names = "--read-tokens",
            defaultValue = "${env:STRATA_SERVING_READ_TOKENS}",
            description =
                    "Tokens file (hashes only; the gateway's format): each of its tokens may read /v1 (Authorization:"
                            + " Bearer). Without it the API is open (the local stack listens on loopback).")
    Path readTokens;

    @Option(
            names = "--public",
            defaultValue = "false",
            description = {
                "Answer /v1 without --read-tokens on an address other than loopback: an API meant to be open to",
                "everyone who reaches it. Without it such a start is refused."
            })
    boolean publicApi;

    @Option(
            names = "--max-points",
            defaultValue = Serving.DEFAULT_MAX_POINTS,
            description = "Most points per group one series query may ask for (422 beyond). Default: ${DEFAULT-VALUE}")
    int maxPoints;

    @Option(
            names = "--instance",
            defaultValue = Serving.DEFAULT_INSTANCE,
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
            defaultValue = Serving.Sql.DEFAULT_MAX_ROWS,
            description = "Most rows one POST /v1/sql answer returns. Default: ${DEFAULT-VALUE}")
    int sqlMaxRows;

    @Option(
            names = "--sql-timeout",
            defaultValue = Serving.Sql.DEFAULT_TIMEOUT,
            description = "Longest a SQL request may take, finding and fetching the tables' files included."
                    + " Default: ${DEFAULT-VALUE}")
    Duration sqlTimeout;

    @Option(
            names = "--sql-memory",
            defaultValue = Serving.Sql.DEFAULT_MEMORY,
            description = "DuckDB's memory limit per SQL query. Default: ${DEFAULT-VALUE}")
    String sqlMemory;

    @Option(
            names = "--sql-max-result-bytes",
            defaultValue = Serving.Sql.DEFAULT_MAX_RESULT_BYTES,
            description = "Most bytes (as text) of one POST /v1/sql answer; a larger one is refused 413."
                    + " Default: ${DEFAULT-VALUE}")
    long sqlMaxResultBytes;

    @Option(
            names = "--sql-spill-bytes",
            defaultValue = Serving.Sql.DEFAULT_SPILL_BYTES,
            description = "Most disk one SQL query may spill to beyond --sql-memory (under --data's sql-spill/);"
                    + " a query needing more is refused 413. Default: ${DEFAULT-VALUE}")
    long sqlSpillBytes;

    @Option(
            names = "--sql-concurrency",
            defaultValue = Serving.Sql.DEFAULT_CONCURRENT,
            description = "SQL queries at once (more are answered 429). Default: ${DEFAULT-VALUE}")
    int sqlConcurrency;

    @Option(
            names = "--sql-lake-cache-bytes",
            defaultValue = Serving.Sql.DEFAULT_LAKE_CACHE_BYTES,
            description = {
                "A lake on object storage: most bytes of local copies of its files kept for SQL under --data's lake-cache/",
                "(DuckDB reads local files; a query whose tables need more is refused). Default: ${DEFAULT-VALUE}"
            })
    long sqlLakeCacheBytes;

    @Option(
            names = "--noop-endpoint",
            hidden = true,
            description = "Also answer GET /bench/noop (the serving benchmark's reference)")
    boolean noopEndpoint;

    /**
     * Why a start must be refused: /v1 (views, catalog, SQL over the lake) without tokens on an
     * address others reach, unless {@code --public} says it is meant to be open.
     */
    static Optional<String> exposedWithoutTokens(String host, boolean tokens, boolean publicApi) {
        if (tokens || publicApi) {
            return Optional.empty();
        }
        if (LocalPorts.loopback(host)) {
            return Optional.empty();
        }
        return Optional.of("refusing to answer /v1 without --read-tokens on " + host
                + ", which is not a loopback address: anyone who reaches it could read the views and run SQL over"
                + " the lake. Give --read-tokens FILE (the gateway's token format), or --public if an open API is"
                + " meant");
    }

    @Override
    public Integer call() throws Exception {
        Optional<String> exposed = exposedWithoutTokens(host, readTokens != null, publicApi);
        if (exposed.isPresent()) {
            System.err.println("strata serving: " + exposed.get());
            return 2;
        }
        Optional<TokenFile> tokens = readTokens == null ? Optional.empty() : Optional.of(TokenFile.load(readTokens));
        if (tokens.isEmpty()) {
            LOG.info("No --read-tokens: /v1 answers without a token");
        }
        Serving serving =
                Serving.start(Serving.Config.builder(kafka.bootstrapServers(), lake.config(), data.toAbsolutePath())
                        .listen(host, port)
                        .views(views.load())
                        .cut(cut.settings())
                        .readTokens(tokens)
                        .maxPoints(maxPoints)
                        .instance(instance)
                        .topics(speedTopic, commitsTopic)
                        .noopEndpoint(noopEndpoint)
                        .sql(new Serving.Sql(
                                sqlMaxRows,
                                sqlTimeout,
                                sqlMemory,
                                sqlConcurrency,
                                sqlLakeCacheBytes,
                                sqlMaxResultBytes,
                                sqlSpillBytes))
                        .build());
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
