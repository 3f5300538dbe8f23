package dev.strata.gateway;

import dev.strata.gateway.auth.TokenRateLimiter;
import dev.strata.gateway.auth.TokenStore;
import dev.strata.gateway.config.GatewayConfig;
import dev.strata.gateway.http.IngestHttpApi;
import dev.strata.gateway.kafka.EventAppender;
import dev.strata.gateway.kafka.InFlightLimiter;
import dev.strata.gateway.kafka.KafkaHealth;
import dev.strata.gateway.metrics.GatewayMetrics;
import dev.strata.gateway.mqtt.IngestMqttServer;
import dev.strata.gateway.validation.EventParser;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.mqtt.MqttServer;
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

    private final Vertx vertx;
    private final EventAppender appender;
    private final KafkaHealth health;
    private final HttpServer http;
    private final MqttServer mqtt;
    private final IngestMqttServer mqttIngest;
    private final boolean tls;

    private Gateway(Vertx vertx, EventAppender appender, KafkaHealth health, HttpServer http, MqttServer mqtt,
            IngestMqttServer mqttIngest, boolean tls) {
        this.vertx = vertx;
        this.appender = appender;
        this.health = health;
        this.http = http;
        this.mqtt = mqtt;
        this.mqttIngest = mqttIngest;
        this.tls = tls;
    }

    public static Gateway start(GatewayConfig config) throws Exception {
        Optional<TokenStore> tokens = config.allowAnonymous() && config.tokensFile() == null
                ? Optional.empty()
                : Optional.of(TokenStore.load(config.tokensFile()));
        EventAppender appender = new EventAppender(
                config.bootstrapServers(), config.registryUrl(), config.eventsTopic(), config.dlqTopic(),
                config.kafkaDeliveryTimeout());
        KafkaHealth health = new KafkaHealth(config.bootstrapServers());
        Vertx vertx = null;
        try {
            appender.warmUp(Duration.ofSeconds(30));
            vertx = Vertx.vertx();
            InFlightLimiter limiter = new InFlightLimiter(config.maxInFlightBytes(), config.mqttMaxPendingBytes());
            GatewayMetrics metrics = new GatewayMetrics(limiter);
            EventParser parser = new EventParser(Clock.systemUTC(), config.maxFutureSkew(), config.maxRecordsPerRequest());

            IngestHttpApi api = new IngestHttpApi(tokens, parser, appender, limiter,
                    new TokenRateLimiter(config.rateLimitPerToken()), metrics, health, config.maxRequestBytes());
            HttpServerOptions httpOptions = new HttpServerOptions().setHost(config.host()).setPort(config.httpPort())
                    .setCompressionSupported(true).setDecompressionSupported(true);
            if (config.tls()) {
                httpOptions.setSsl(true).setKeyCertOptions(pem(config));
            }
            HttpServer http = await(vertx.createHttpServer(httpOptions).requestHandler(api.router(vertx)).listen());

            MqttServer mqtt = null;
            IngestMqttServer mqttIngest = null;
            if (config.mqttEnabled()) {
                mqttIngest = new IngestMqttServer(tokens, parser, appender, limiter, metrics,
                        new IngestMqttServer.Settings(config.mqttReceiveMaximum(), config.mqttMaxConnections(),
                                config.maxMqttMessageBytes()));
                MqttServerOptions mqttOptions = new MqttServerOptions();
                mqttOptions.setHost(config.host()).setPort(config.mqttPort());
                if (config.tls()) {
                    mqttOptions.setSsl(true).setKeyCertOptions(pem(config));
                }
                mqtt = await(mqttIngest.listen(vertx, mqttOptions));
            }
            Gateway gateway = new Gateway(vertx, appender, health, http, mqtt, mqttIngest, config.tls());
            LOG.info("Gateway listening: HTTP {}, MQTT {}", gateway.httpUrl(), gateway.mqttUrl());
            return gateway;
        } catch (Exception e) {
            if (vertx != null) {
                vertx.close();
            }
            appender.close();
            health.close();
            throw e;
        }
    }

    private static PemKeyCertOptions pem(GatewayConfig config) {
        return new PemKeyCertOptions().setCertPath(config.tlsCert().toString()).setKeyPath(config.tlsKey().toString());
    }

    private static <T> T await(io.vertx.core.Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    public int httpPort() {
        return http.actualPort();
    }

    public int mqttPort() {
        return mqtt == null ? -1 : mqtt.actualPort();
    }

    public String httpUrl() {
        return (tls ? "https" : "http") + "://127.0.0.1:" + httpPort();
    }

    public String mqttUrl() {
        return mqtt == null ? "off" : (tls ? "mqtts" : "mqtt") + "://127.0.0.1:" + mqttPort();
    }

    /** Stops taking new work, lets in-flight events reach Kafka, then closes. */
    @Override
    public void close() {
        try {
            await(http.close());
            if (mqtt != null) {
                mqttIngest.disconnectAll();
                await(mqtt.close());
            }
        } catch (Exception e) {
            LOG.warn("Servers did not close cleanly: {}", e.toString());
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
