package dev.strata.serving;

import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import dev.strata.schemas.auth.TokenFile;
import dev.strata.schemas.http.HttpGuard;
import dev.strata.schemas.topics.StrataTopics;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.serving.http.LakeApi;
import dev.strata.serving.http.ServingRoutes;
import dev.strata.serving.lake.LakeCatalog;
import dev.strata.serving.lake.LakeSql;
import dev.strata.serving.lake.LakeTables;
import dev.strata.serving.query.ViewQueries;
import dev.strata.serving.store.BatchViews;
import dev.strata.serving.store.CommitFollower;
import dev.strata.serving.store.SpeedViews;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** The serving process: the speed store, the batch snapshots and the HTTP API, started together. */
public final class Serving implements AutoCloseable {

    /** Defaults of the settings, as the command's options show them. */
    public static final String DEFAULT_MAX_POINTS = "10000";

    public static final String DEFAULT_INSTANCE = "local";

    /**
     * What a serving process needs; the API listens on {@code host:port} (0: any free port).
     * {@link #builder} sets everything but the connection and the directories to its default.
     */
    public record Config(
            String bootstrapServers,
            LakeConfig lake,
            Path dataDir,
            String host,
            int port,
            List<ViewDefinition> views,
            CutSettings cut,
            Optional<TokenFile> readTokens,
            int maxPoints,
            String instance,
            String speedTopic,
            String commitsTopic,
            boolean noopEndpoint,
            Sql sql) {

        public static Builder builder(String bootstrapServers, LakeConfig lake, Path dataDir) {
            return new Builder(bootstrapServers, lake, dataDir);
        }
    }

    /** Builds a {@link Config}: loopback, any free port, the built-in views and each setting's default. */
    public static final class Builder {
        private final String bootstrapServers;
        private final LakeConfig lake;
        private final Path dataDir;
        private String host = "127.0.0.1";
        private int port;
        private List<ViewDefinition> views = ViewConfig.defaults();
        private CutSettings cut = CutSettings.DEFAULTS;
        private Optional<TokenFile> readTokens = Optional.empty();
        private int maxPoints = Integer.parseInt(DEFAULT_MAX_POINTS);
        private String instance = DEFAULT_INSTANCE;
        private String speedTopic = StrataTopics.SPEED_VIEWS;
        private String commitsTopic = StrataTopics.BATCH_COMMITS;
        private boolean noopEndpoint;
        private Sql sql = Sql.DEFAULTS;

        private Builder(String bootstrapServers, LakeConfig lake, Path dataDir) {
            this.bootstrapServers = bootstrapServers;
            this.lake = lake;
            this.dataDir = dataDir;
        }

        public Builder listen(String host, int port) {
            this.host = host;
            this.port = port;
            return this;
        }

        public Builder views(List<ViewDefinition> views) {
            this.views = views;
            return this;
        }

        public Builder cut(CutSettings cut) {
            this.cut = cut;
            return this;
        }

        public Builder readTokens(Optional<TokenFile> readTokens) {
            this.readTokens = readTokens;
            return this;
        }

        public Builder maxPoints(int maxPoints) {
            this.maxPoints = maxPoints;
            return this;
        }

        public Builder instance(String instance) {
            this.instance = instance;
            return this;
        }

        public Builder topics(String speedTopic, String commitsTopic) {
            this.speedTopic = speedTopic;
            this.commitsTopic = commitsTopic;
            return this;
        }

        public Builder noopEndpoint(boolean noopEndpoint) {
            this.noopEndpoint = noopEndpoint;
            return this;
        }

        public Builder sql(Sql sql) {
            this.sql = sql;
            return this;
        }

        public Config build() {
            if (maxPoints < 1) {
                throw new IllegalArgumentException("--max-points must be at least 1, got " + maxPoints);
            }
            return new Config(
                    bootstrapServers,
                    lake,
                    dataDir,
                    host,
                    port,
                    views,
                    cut,
                    readTokens,
                    maxPoints,
                    instance,
                    speedTopic,
                    commitsTopic,
                    noopEndpoint,
                    sql);
        }
    }

    /** Limits of {@code POST /v1/sql}: rows per answer, time per query, DuckDB's memory per query, queries at once. */
    public record Sql(
            int maxRows,
            Duration timeout,
            String memoryLimit,
            int concurrent,
            long lakeCacheBytes,
            long maxResultBytes,
            long spillBytes) {
        public static final String DEFAULT_MAX_ROWS = "10000";
        /** 4 GiB of local copies of a lake's files on object storage. */
        public static final String DEFAULT_LAKE_CACHE_BYTES = "4294967296";

        public static final String DEFAULT_TIMEOUT = "PT30S";
        public static final String DEFAULT_MEMORY = "512MB";
        public static final String DEFAULT_CONCURRENT = "2";
        /** 16 MiB of answer (as text) per query. */
        public static final String DEFAULT_MAX_RESULT_BYTES = "" + LakeSql.Limits.DEFAULT_MAX_RESULT_BYTES;
        /** 1 GiB of disk per query to spill to beyond its memory. */
        public static final String DEFAULT_SPILL_BYTES = "" + LakeSql.Limits.DEFAULT_SPILL_BYTES;

        public static final Sql DEFAULTS = new Sql(
                Integer.parseInt(DEFAULT_MAX_ROWS),
                Duration.parse(DEFAULT_TIMEOUT),
                DEFAULT_MEMORY,
                Integer.parseInt(DEFAULT_CONCURRENT),
                Long.parseLong(DEFAULT_LAKE_CACHE_BYTES),
                LakeSql.Limits.DEFAULT_MAX_RESULT_BYTES,
                LakeSql.Limits.DEFAULT_SPILL_BYTES);

        /** These settings with {@code maxRows}, {@code timeout}, {@code memoryLimit} and {@code lakeCacheBytes}. */
        public static Sql of(int maxRows, Duration timeout, String memoryLimit, long lakeCacheBytes) {
            return new Sql(
                    maxRows,
                    timeout,
                    memoryLimit,
                    Integer.parseInt(DEFAULT_CONCURRENT),
                    lakeCacheBytes,
                    LakeSql.Limits.DEFAULT_MAX_RESULT_BYTES,
                    LakeSql.Limits.DEFAULT_SPILL_BYTES);
        }

        LakeSql.Limits limits() {
            return new LakeSql.Limits(maxRows, maxResultBytes, timeout, memoryLimit, spillBytes);
        }
    }

    private final Vertx vertx;
    private final HttpServer server;
    private final SpeedViews speed;
    private final BatchViews batch;
    private final CommitFollower follower;
    private final Lake lake;
    private final String url;

    private Serving(
            Vertx vertx,
            HttpServer server,
            SpeedViews speed,
            BatchViews batch,
            CommitFollower follower,
            Lake lake,
            String url) {
        this.lake = lake;
        this.vertx = vertx;
        this.server = server;
        this.speed = speed;
        this.batch = batch;
        this.follower = follower;
        this.url = url;
    }

    public static Serving start(Config config) throws Exception {
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Lake opened = Lake.open(config.lake());
        BatchViews batch = new BatchViews(config.dataDir().resolve("batch"));
        SpeedViews speed = new SpeedViews(
                config.bootstrapServers(),
                config.speedTopic(),
                "strata-serving-" + config.instance(),
                config.dataDir().resolve("streams"));
        CommitFollower follower = new CommitFollower(
                config.bootstrapServers(), config.commitsTopic(), opened.views(), batch, config.views(), config.cut());
        Clock clock = Clock.systemUTC();
        registerGauges(metrics, batch, speed, follower, clock);
        speed.start();
        follower.start();
        // Vert.x unpacks the dashboard's classpath files into a cache directory: keep it under the data dir.
        Vertx vertx = Vertx.vertx(new VertxOptions()
                .setFileSystemOptions(new FileSystemOptions()
                        .setFileCacheDir(config.dataDir().resolve("vertx-cache").toString())));
        LakeTables tables = new LakeTables(opened);
        LakeApi lake = new LakeApi(
                new LakeCatalog(tables, config.views(), batch::commit, clock),
                new LakeSql(
                        tables,
                        config.sql().limits(),
                        config.dataDir(),
                        config.sql().lakeCacheBytes()),
                config.sql().concurrent(),
                metrics);
        ServingRoutes routes = new ServingRoutes(
                new ViewQueries(config.views(), config.maxPoints(), clock),
                speed,
                batch,
                new ServingRoutes.Options(
                        config.readTokens(),
                        follower::caughtUp,
                        follower::refused,
                        config.noopEndpoint(),
                        Optional.of(lake)),
                metrics,
                clock);
        // Time limits on requests' heads and bodies, a bound on connections (HttpGuard).
        HttpServer server = new HttpGuard(HttpGuard.Limits.DEFAULTS)
                .create(
                        vertx,
                        new HttpServerOptions().setHost(config.host()).setPort(config.port()),
                        routes.router(vertx))
                .listen()
                .toCompletionStage()
                .toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        return new Serving(
                vertx, server, speed, batch, follower, opened, "http://" + config.host() + ":" + server.actualPort());
    }

    private static void registerGauges(
            PrometheusMeterRegistry metrics, BatchViews batch, SpeedViews speed, CommitFollower follower, Clock clock) {
        Gauge.builder(
                        "strata_serving_cut_age_seconds",
                        () -> batch.commit()
                                .map(c -> (clock.millis() - c.cutMillis()) / 1000.0)
                                .orElse(Double.NaN))
                .description("Age of the current batch snapshot's cut")
                .register(metrics);
        Gauge.builder(
                        "strata_serving_batch_run",
                        () -> batch.commit().map(c -> (double) c.run()).orElse(Double.NaN))
                .description("Run of the current batch snapshot")
                .register(metrics);
        Gauge.builder(
                        "strata_serving_speed_update_age_seconds",
                        () -> speed.newestUpdateMillis() < 0
                                ? Double.NaN
                                : (clock.millis() - speed.newestUpdateMillis()) / 1000.0)
                .description("Age of the newest speed update read")
                .register(metrics);
        Gauge.builder("strata_serving_speed_lag_records", speed::lag)
                .description("Consumer lag of the speed views store")
                .register(metrics);
        Gauge.builder("strata_serving_speed_undecodable_cells", speed::undecodable)
                .description("Speed cells left out of answers because they could not be decoded")
                .register(metrics);
        Gauge.builder("strata_serving_batch_load_failures", follower::failures)
                .description("Batch announcements that could not be read or loaded")
                .register(metrics);
        Gauge.builder("strata_serving_batch_commits_refused", follower::refusals)
                .description("Batch commits refused: computed with a bucket or dedup horizon other than this layer's")
                .register(metrics);
    }

    public String url() {
        return url;
    }

    public boolean ready() {
        return speed.running() && follower.caughtUp();
    }

    @Override
    public void close() throws Exception {
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        follower.close();
        speed.close();
        batch.close();
        lake.close();
    }
}
