package dev.strata.registry;

import dev.strata.schemas.auth.TokenFile;
import dev.strata.schemas.topics.StrataTopics;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running registry: the log read into memory, then the HTTP API listening. Used by
 * {@link RegistryMain} and by tests that need a real registry.
 */
public final class RegistryServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RegistryServer.class);

    /** What a registry needs to run. */
    public record Config(
            String bootstrapServers,
            String host,
            int port,
            String topic,
            CompatibilityLevel defaultCompatibility,
            Duration kafkaTimeout,
            Optional<Path> writeTokens) {
        public Config {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException("port must be 0..65535 (0: any free port), got " + port);
            }
        }

        /** Defaults: port 8081 on loopback, topic {@code _schemas}, BACKWARD compatibility. */
        public static Config of(String bootstrapServers) {
            return new Config(
                    bootstrapServers,
                    "127.0.0.1",
                    8081,
                    StrataTopics.SCHEMAS,
                    CompatibilityLevel.BACKWARD,
                    Duration.ofSeconds(10),
                    Optional.empty());
        }

        public Config withPort(int port) {
            return new Config(bootstrapServers, host, port, topic, defaultCompatibility, kafkaTimeout, writeTokens);
        }

        /** Writes only with a token of this file (the format of {@link TokenFile}). */
        public Config withWriteTokens(Path file) {
            return new Config(
                    bootstrapServers, host, port, topic, defaultCompatibility, kafkaTimeout, Optional.of(file));
        }

        public Config withTopic(String topic) {
            return new Config(bootstrapServers, host, port, topic, defaultCompatibility, kafkaTimeout, writeTokens);
        }
    }

    private final Vertx vertx;
    private final KafkaSchemaLog log;
    private final HttpServer http;

    private RegistryServer(Vertx vertx, KafkaSchemaLog log, HttpServer http) {
        this.vertx = vertx;
        this.log = log;
        this.http = http;
    }

    /** Reads the log, then starts listening. */
    public static RegistryServer start(Config config) throws Exception {
        SchemaStore store = new SchemaStore(config.defaultCompatibility());
        KafkaSchemaLog log =
                new KafkaSchemaLog(config.bootstrapServers(), config.topic(), store, config.kafkaTimeout());
        Optional<TokenFile> tokens = config.writeTokens().isPresent()
                ? Optional.of(TokenFile.load(config.writeTokens().get()))
                : Optional.empty();
        Vertx vertx = null;
        try {
            log.start();
            vertx = Vertx.vertx();
            Registry registry = new Registry(store, log::append);
            HttpServer http = new RegistryHttpApi(registry, tokens)
                    .listen(vertx, config.host(), config.port())
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(30, TimeUnit.SECONDS);
            LOG.info("Schema registry listening on http://{}:{}", config.host(), http.actualPort());
            return new RegistryServer(vertx, log, http);
        } catch (Exception e) {
            log.close();
            if (vertx != null) {
                vertx.close();
            }
            throw e;
        }
    }

    public int port() {
        return http.actualPort();
    }

    public String url() {
        return "http://127.0.0.1:" + port();
    }

    @Override
    public void close() {
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("Vert.x did not close cleanly: {}", e.toString());
        }
        log.close();
    }
}
