package dev.strata.gateway;

import dev.strata.gateway.auth.TokenRateLimiter;
import dev.strata.gateway.auth.TokenStore;
import dev.strata.gateway.config.GatewayConfig;
import dev.strata.gateway.files.FileIngest;
import dev.strata.gateway.http.IngestHttpApi;
import dev.strata.gateway.kafka.EventAppender;
import dev.strata.gateway.kafka.InFlightLimiter;
import dev.strata.gateway.kafka.KafkaHealth;
import dev.strata.gateway.metrics.GatewayMetrics;
import dev.strata.gateway.mqtt.IngestMqttServer;
import dev.strata.gateway.validation.EventParser;
import dev.strata.schemas.cli.RegistryOptions;
import dev.strata.schemas.http.HttpGuard;
import dev.strata.schemas.net.LocalPorts;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.mqtt.MqttServerOptions;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running gateway: Kafka producers warmed up, then the HTTP and MQTT servers listening. */
public final class Gateway implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);

    /** The largest piece of a request body handed to a handler at once. */
    static final int MAX_CHUNK_BYTES = 64 * 1024;

    private final Vertx vertx;
    private final EventAppender appender;
    private final KafkaHealth health;
    private final int httpPort;
    private final int mqttPort;
    private final IngestMqttServer mqttIngest;
    private final boolean tls;
    private final FileIngest files;

    private Gateway(
            Vertx vertx,
            EventAppender appender,
            KafkaHealth health,
            int httpPort,
            int mqttPort,
            IngestMqttServer mqttIngest,
            boolean tls,
            FileIngest files) {
        this.files = files;
        this.vertx = vertx;
        this.appender = appender;
        this.health = health;
        this.httpPort = httpPort;
        this.mqttPort = mqttPort;
        this.mqttIngest = mqttIngest;
        this.tls = tls;
    }

    public static Gateway start(GatewayConfig config) throws Exception {
        Optional<TokenStore> tokens = config.allowAnonymous() && config.tokensFile() == null
                ? Optional.empty()
                : Optional.of(TokenStore.load(config.tokensFile()));
        EventAppender appender = new EventAppender(
                config.bootstrapServers(),
                config.registryUrl(),
                RegistryOptions.token(config.registryTokenFile()),
                config.eventsTopic(),
                config.dlqTopic(),
                config.kafkaDeliveryTimeout());
        KafkaHealth health = new KafkaHealth(config.bootstrapServers());
        Vertx vertx = null;
        FileIngest files = null;
        try {
            appender.warmUp(Duration.ofSeconds(30));
            vertx = Vertx.vertx();
            InFlightLimiter limiter = new InFlightLimiter(config.maxInFlightBytes(), config.mqttMaxPendingBytes());
            GatewayMetrics metrics = new GatewayMetrics(limiter);
            EventParser parser = new EventParser(
                    Clock.systemUTC(), config.maxFutureSkew(), config.maxEventAge(), config.maxRecordsPerRequest());

            if (config.files() != null) {
                files = new FileIngest(config.files(), metrics, Clock.systemUTC());
                files.start();
            }
            // One rate limit per token across HTTP and MQTT.
            TokenRateLimiter rateLimiter = new TokenRateLimiter(config.rateLimitPerToken());
            IngestHttpApi api = new IngestHttpApi(
                    tokens,
                    parser,
                    appender,
                    limiter,
                    rateLimiter,
                    metrics,
                    health,
                    config.maxRequestBytes(),
                    Optional.ofNullable(files));
            // One server per event loop, sharing the port: Vert.x spreads the connections.
            int instances = Math.max(1, Runtime.getRuntime().availableProcessors());
            int httpPort = config.httpPort() == 0 ? LocalPorts.free(config.host()) : config.httpPort();
            HttpServerOptions httpOptions = new HttpServerOptions()
                    .setHost(config.host())
                    .setPort(httpPort)
                    .setCompressionSupported(true)
                    .setDecompressionSupported(true)
                    // A request body arrives in pieces of up to this (Netty's default 8 KiB): a 1 GiB
                    // upload is 16,384 hashes and file writes, not 131,072.
                    .setMaxChunkSize(MAX_CHUNK_BYTES);
            if (config.tls()) {
                httpOptions.setSsl(true).setKeyCertOptions(pem(config));
            }
            Vertx v = vertx;
            // Time limits on requests' heads and bodies, a bound on connections, shared by the instances.
            HttpGuard guard = new HttpGuard(config.httpLimits());
            await(vertx.deployVerticle(
                    () -> new VerticleBase() {
                        @Override
                        public Future<?> start() {
                            return guard.create(v, httpOptions, api.router(v)).listen();
                        }
                    },
                    new DeploymentOptions().setInstances(instances)));

            int mqttPort = -1;
            IngestMqttServer mqttIngest = null;
            if (config.mqttEnabled()) {
                IngestMqttServer ingest = new IngestMqttServer(
                        tokens,
                        parser,
                        appender,
                        limiter,
                        metrics,
                        rateLimiter,
                        new IngestMqttServer.Settings(
                                config.mqttReceiveMaximum(),
                                config.mqttMaxConnections(),
                                config.maxMqttMessageBytes(),
                                config.mqttMaxConnectionsPerToken()));
                mqttIngest = ingest;
                mqttPort = config.mqttPort() == 0 ? LocalPorts.free(config.host()) : config.mqttPort();
                int port = mqttPort;
                await(vertx.deployVerticle(
                        () -> new VerticleBase() {
                            @Override
                            public Future<?> start() {
                                MqttServerOptions mqttOptions = new MqttServerOptions();
                                mqttOptions
                                        .setHost(config.host())
                                        .setPort(port)
                                        // A connection that sends no CONNECT in time is closed: no socket
                                        // is held without credentials. (Adding Vert.x's TCP idle timeout
                                        // as well left every CONNECT unanswered in GatewayMqttIT: left out.)
                                        .setTimeoutOnConnect((int)
                                                config.mqttConnectTimeout().toSeconds());
                                if (config.tls()) {
                                    mqttOptions.setSsl(true).setKeyCertOptions(pem(config));
                                }
                                return ingest.listen(v, mqttOptions);
                            }
                        },
                        new DeploymentOptions().setInstances(instances)));
            }
            Gateway gateway = new Gateway(vertx, appender, health, httpPort, mqttPort, mqttIngest, config.tls(), files);
            LOG.info("Gateway listening: HTTP {}, MQTT {}", gateway.httpUrl(), gateway.mqttUrl());
            return gateway;
        } catch (Exception e) {
            if (vertx != null) {
                vertx.close();
            }
            if (files != null) {
                files.close();
            }
            appender.close();
            health.close();
            throw e;
        }
    }

    private static PemKeyCertOptions pem(GatewayConfig config) {
        return new PemKeyCertOptions()
                .setCertPath(config.tlsCert().toString())
                .setKeyPath(config.tlsKey().toString());
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    public int httpPort() {
        return httpPort;
    }

    public int mqttPort() {
        return mqttPort;
    }

    public String httpUrl() {
        return (tls ? "https" : "http") + "://127.0.0.1:" + httpPort();
    }

    public String mqttUrl() {
        return mqttPort < 0 ? "off" : (tls ? "mqtts" : "mqtt") + "://127.0.0.1:" + mqttPort;
    }

    /** Stops taking new work, lets in-flight events reach Kafka, then closes. */
    @Override
    public void close() {
        if (mqttIngest != null) {
            mqttIngest.disconnectAll();
        }
        try {
            // Undeploying closes the servers: no new work; in-flight events still reach Kafka.
            for (String id : vertx.deploymentIDs()) {
                await(vertx.undeploy(id));
            }
        } catch (Exception e) {
            LOG.warn("Servers did not close cleanly: {}", e.toString());
        }
        if (files != null) {
            files.close();
        }
        appender.close();
        health.close();
        try {
            await(vertx.close());
        } catch (Exception e) {
            LOG.warn("Vert.x did not close cleanly: {}", e.toString());
        }
    }
}
