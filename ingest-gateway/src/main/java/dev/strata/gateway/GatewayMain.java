package dev.strata.gateway;

import dev.strata.gateway.config.GatewayConfig;
import dev.strata.gateway.files.FileIngest;
import dev.strata.schemas.auth.TokenFile;
import dev.strata.schemas.topics.StrataTopics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code strata gateway}: the HTTP and MQTT ingest gateway as its own process. */
@Command(
        name = "gateway",
        mixinStandardHelpOptions = true,
        description = "Runs the ingest gateway: HTTP POST /v1/events and MQTT strata/events/{source}, into Kafka;"
                + " with --lake, files (POST /v1/files/{dataset}, the --landing folder) into the lake as Parquet.")
public final class GatewayMain implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayMain.class);

    @Option(
            names = "--bootstrap-servers",
            defaultValue = "${env:STRATA_KAFKA_BOOTSTRAP:-127.0.0.1:9092}",
            description = "Kafka bootstrap servers. Default: ${DEFAULT-VALUE}")
    String bootstrapServers;

    @Option(
            names = "--registry-url",
            defaultValue = "${env:STRATA_REGISTRY_URL:-http://127.0.0.1:8081}",
            description = "Schema registry URL. Default: ${DEFAULT-VALUE}")
    String registryUrl;

    @Option(
            names = "--host",
            defaultValue = "${env:STRATA_GATEWAY_HOST:-127.0.0.1}",
            description = "Address to listen on. Default: ${DEFAULT-VALUE}")
    String host;

    @Option(
            names = "--http-port",
            defaultValue = "${env:STRATA_GATEWAY_HTTP_PORT:-8080}",
            description = "HTTP port. Default: ${DEFAULT-VALUE}")
    int httpPort;

    @Option(
            names = "--mqtt-port",
            defaultValue = "${env:STRATA_GATEWAY_MQTT_PORT:-1883}",
            description = "MQTT port (-1: no MQTT). Default: ${DEFAULT-VALUE}")
    int mqttPort;

    @Option(
            names = "--tokens",
            defaultValue = "${env:STRATA_GATEWAY_TOKENS}",
            description = "YAML file of token hashes and the sources each may publish as (env STRATA_GATEWAY_TOKENS)")
    Path tokens;

    @Option(
            names = "--create-token",
            defaultValue = "${env:STRATA_GATEWAY_CREATE_TOKEN}",
            description = "If the --tokens file does not exist, create it with one new token for every source and"
                    + " every dataset, and write the token itself to this file (the local stack's data/local.token)")
    Path createToken;

    @Option(
            names = "--allow-anonymous",
            defaultValue = "false",
            description = "Accept requests without a token (tests only). Default: ${DEFAULT-VALUE}")
    boolean allowAnonymous;

    @Option(
            names = "--tls-cert",
            defaultValue = "${env:STRATA_GATEWAY_TLS_CERT}",
            description = "PEM certificate (chain): turns on TLS for HTTP and MQTT, with --tls-key")
    Path tlsCert;

    @Option(names = "--tls-key", defaultValue = "${env:STRATA_GATEWAY_TLS_KEY}", description = "PEM private key")
    Path tlsKey;

    @Option(
            names = "--max-records",
            defaultValue = "" + GatewayConfig.DEFAULT_MAX_RECORDS_PER_REQUEST,
            description = "Records per HTTP request at most. Default: ${DEFAULT-VALUE}")
    int maxRecords;

    @Option(
            names = "--max-request-bytes",
            defaultValue = "" + GatewayConfig.DEFAULT_MAX_REQUEST_BYTES,
            description = "HTTP body size at most. Default: ${DEFAULT-VALUE}")
    int maxRequestBytes;

    @Option(
            names = "--max-mqtt-message-bytes",
            defaultValue = "" + GatewayConfig.DEFAULT_MAX_MQTT_MESSAGE_BYTES,
            description = "MQTT payload size at most. Default: ${DEFAULT-VALUE}")
    int maxMqttMessageBytes;

    @Option(
            names = "--max-future-skew",
            defaultValue = "PT5M",
            description = "How far in the future an event time may be (ISO-8601 duration). Default: ${DEFAULT-VALUE}")
    Duration maxFutureSkew;

    @Option(
            names = "--max-in-flight-bytes",
            defaultValue = "" + GatewayConfig.DEFAULT_MAX_IN_FLIGHT_BYTES,
            description =
                    "Bytes of events waiting for Kafka at most; beyond, HTTP gets 503 and MQTT waits. Default: ${DEFAULT-VALUE}")
    long maxInFlightBytes;

    @Option(
            names = "--mqtt-receive-maximum",
            defaultValue = "" + GatewayConfig.DEFAULT_MQTT_RECEIVE_MAXIMUM,
            description = "QoS 1/2 publishes in flight per MQTT client. Default: ${DEFAULT-VALUE}")
    int receiveMaximum;

    @Option(
            names = "--mqtt-max-connections",
            defaultValue = "" + GatewayConfig.DEFAULT_MQTT_MAX_CONNECTIONS,
            description = "MQTT connections at most. Default: ${DEFAULT-VALUE}")
    int maxConnections;

    @Option(
            names = "--mqtt-max-pending-bytes",
            defaultValue = "" + GatewayConfig.DEFAULT_MQTT_MAX_PENDING_BYTES,
            description = "MQTT bytes waiting for in-flight room at most. Default: ${DEFAULT-VALUE}")
    long maxPendingBytes;

    @Option(
            names = "--rate-limit",
            defaultValue = "${env:STRATA_GATEWAY_RATE_LIMIT:-0}",
            description = "Records per second per token over HTTP (0: no limit). Default: ${DEFAULT-VALUE}")
    double rateLimit;

    @Option(
            names = "--kafka-delivery-timeout",
            defaultValue = "PT30S",
            description =
                    "How long Kafka may take to acknowledge before the client is told it failed. Default: ${DEFAULT-VALUE}")
    Duration kafkaDeliveryTimeout;

    @Option(names = "--events-topic", defaultValue = StrataTopics.EVENTS, description = "Default: ${DEFAULT-VALUE}")
    String eventsTopic;

    @Option(names = "--dlq-topic", defaultValue = StrataTopics.EVENTS_DLQ, description = "Default: ${DEFAULT-VALUE}")
    String dlqTopic;

    @Option(
            names = "--lake",
            defaultValue = "${env:STRATA_LAKE}",
            description = "The lake's root: turns on file uploads (POST /v1/files/{dataset}) into lake/{dataset}/")
    Path lake;

    @Option(
            names = "--landing",
            defaultValue = "${env:STRATA_LANDING}",
            description =
                    "A folder to watch: a file in landing/{dataset}/ is taken into the lake like an upload (needs --lake)")
    Path landing;

    @Option(
            names = "--max-file-bytes",
            defaultValue = "" + FileIngest.Settings.DEFAULT_MAX_FILE_BYTES,
            description = "Largest file upload. Default: ${DEFAULT-VALUE}")
    long maxFileBytes;

    @Option(
            names = "--file-workers",
            defaultValue = "1",
            description = "File conversions at once. Default: ${DEFAULT-VALUE}")
    int fileWorkers;

    @Option(
            names = "--file-queue",
            defaultValue = "16",
            description = "Files waiting for conversion at most; beyond, uploads get 503. Default: ${DEFAULT-VALUE}")
    int fileQueue;

    @Option(
            names = "--landing-settle",
            defaultValue = "PT2S",
            description = "How long a landing file must stay unchanged before it is taken. Default: ${DEFAULT-VALUE}")
    Duration landingSettle;

    @Override
    public Integer call() throws Exception {
        if (landing != null && lake == null) {
            throw new IllegalArgumentException("--landing needs --lake: the landing folder's files go into the lake");
        }
        if (createToken != null && tokens != null && !java.nio.file.Files.exists(tokens)) {
            String token = TokenFile.generateToken();
            TokenFile.write(
                    tokens,
                    java.util.Map.of(
                            "local", new TokenFile.Grant(token, java.util.List.of("*"), java.util.List.of("*"))));
            java.nio.file.Files.createDirectories(createToken.toAbsolutePath().getParent());
            java.nio.file.Files.writeString(createToken, token + "\n");
            restrictToOwner(createToken);
            LOG.info("Created a token for every source: {} (hash in {})", createToken, tokens);
        }
        GatewayConfig config = new GatewayConfig(
                bootstrapServers,
                registryUrl,
                host,
                httpPort,
                mqttPort,
                tokens,
                allowAnonymous,
                tlsCert,
                tlsKey,
                maxRecords,
                maxRequestBytes,
                maxMqttMessageBytes,
                maxFutureSkew,
                maxInFlightBytes,
                receiveMaximum,
                maxConnections,
                maxPendingBytes,
                rateLimit,
                eventsTopic,
                dlqTopic,
                kafkaDeliveryTimeout,
                lake == null
                        ? null
                        : new FileIngest.Settings(
                                lake,
                                landing,
                                maxFileBytes,
                                fileWorkers,
                                fileQueue,
                                Duration.ofSeconds(1),
                                landingSettle));
        LOG.info("Effective config: {}", config);
        Gateway gateway = Gateway.start(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            LOG.info("Stopping the gateway");
                            gateway.close();
                            stopped.countDown();
                        },
                        "gateway-shutdown"));
        System.out.println("READY gateway " + gateway.httpUrl() + " " + gateway.mqttUrl());
        stopped.await();
        return 0;
    }

    private static void restrictToOwner(Path file) {
        try {
            java.nio.file.Files.setPosixFilePermissions(
                    file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException | java.io.IOException e) {
            LOG.warn("Could not restrict {} to its owner: {}", file, e.toString());
        }
    }

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new GatewayMain());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("strata gateway: cannot start: " + e.getMessage());
            LOG.debug("Startup failure", e);
            return 1;
        });
        System.exit(cli.execute(args));
    }
}
