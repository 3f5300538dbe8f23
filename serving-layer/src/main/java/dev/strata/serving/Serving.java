package dev.strata.serving;

import dev.strata.schemas.views.ViewDefinition;
import dev.strata.serving.http.LakeApi;
import dev.strata.serving.http.ReadTokens;
import dev.strata.serving.http.ServingApi;
import dev.strata.serving.lake.LakeCatalog;
import dev.strata.serving.lake.LakeSql;
import dev.strata.serving.lake.LakeTables;
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
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** The serving process: the speed store, the batch snapshots and the HTTP API, started together. */
public final class Serving implements AutoCloseable {

    /** What a serving process needs; the API listens on {@code host:port} (0: any free port). */
    public record Config(
            String bootstrapServers,
            Path lakeRoot,
            Path dataDir,
            String host,
            int port,
            List<ViewDefinition> views,
            Optional<ReadTokens> readTokens,
            int maxPoints,
            String instance,
            String speedTopic,
            String commitsTopic,
            boolean noopEndpoint,
            Sql sql) {
        public Config(
                String bootstrapServers,
                Path lakeRoot,
                Path dataDir,
                String host,
                int port,
                List<ViewDefinition> views,
                Optional<ReadTokens> readTokens,
                int maxPoints,
                String instance,
                String speedTopic,
                String commitsTopic,
                boolean noopEndpoint) {
            this(
                    bootstrapServers,
                    lakeRoot,
                    dataDir,
                    host,
                    port,
                    views,
                    readTokens,
                    maxPoints,
                    instance,
                    speedTopic,
                    commitsTopic,
                    noopEndpoint,
                    Sql.DEFAULTS);
        }
    }

    /** Limits of {@code POST /v1/sql}: rows per answer, time per query, DuckDB's memory per query, queries at once. */
    public record Sql(int maxRows, java.time.Duration timeout, String memoryLimit, int concurrent) {
        public static final Sql DEFAULTS = new Sql(10_000, java.time.Duration.ofSeconds(30), "512MB", 2);
    }

    private final Vertx vertx;
    private final HttpServer server;
    private final SpeedViews speed;
    private final BatchViews batch;
    private final CommitFollower follower;
    private final String url;

    private Serving(
            Vertx vertx, HttpServer server, SpeedViews speed, BatchViews batch, CommitFollower follower, String url) {
        this.vertx = vertx;
        this.server = server;
        this.speed = speed;
        this.batch = batch;
        this.follower = follower;
        this.url = url;
    }

    public static Serving start(Config config) throws Exception {
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        BatchViews batch = new BatchViews(config.dataDir().resolve("batch"));
        SpeedViews speed = new SpeedViews(
                config.bootstrapServers(),
                config.speedTopic(),
                "strata-serving-" + config.instance(),
                config.dataDir().resolve("streams"));
        CommitFollower follower = new CommitFollower(
                config.bootstrapServers(), config.commitsTopic(), config.lakeRoot(), batch, config.views());
        Clock clock = Clock.systemUTC();
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
        speed.start();
        follower.start();
        // Vert.x unpacks the dashboard's classpath files into a cache directory: keep it under the data dir.
        Vertx vertx = Vertx.vertx(new VertxOptions()
                .setFileSystemOptions(new FileSystemOptions()
                        .setFileCacheDir(config.dataDir().resolve("vertx-cache").toString())));
        LakeTables tables = new LakeTables(config.lakeRoot());
        LakeApi lake = new LakeApi(
                new LakeCatalog(tables, config.views(), batch::commit, clock),
                new LakeSql(
                        tables,
                        config.sql().maxRows(),
                        config.sql().timeout(),
                        config.sql().memoryLimit()),
                config.sql().concurrent(),
                metrics);
        ServingApi api = new ServingApi(
                config.views(),
                speed,
                batch,
                config.readTokens(),
                config.maxPoints(),
                metrics,
                follower::caughtUp,
                clock,
                config.noopEndpoint(),
                Optional.of(lake));
        HttpServer server = vertx.createHttpServer(
                        new HttpServerOptions().setHost(config.host()).setPort(config.port()))
                .requestHandler(api.router(vertx))
                .listen()
                .toCompletionStage()
                .toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        return new Serving(
                vertx, server, speed, batch, follower, "http://" + config.host() + ":" + server.actualPort());
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
    }
}
