package dev.strata.gateway;

import dev.strata.gateway.config.GatewayConfig;
import dev.strata.gateway.files.FileSettings;
import dev.strata.lake.LakeOptions;
import dev.strata.schemas.auth.TokenFile;
import dev.strata.schemas.cli.KafkaOptions;
import dev.strata.schemas.cli.RegistryOptions;
import dev.strata.schemas.topics.StrataTopics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code strata gateway}: the HTTP and MQTT ingest gateway as its own process. */
@Command(
        name = "gateway",
        mixinStandardHelpOptions = true,
        description = "Runs the ingest gateway: HTTP POST /v1/events and MQTT strata/events/{source}, into Kafka;"
                + " with --lake, files (POST /v1/files/{dataset}, the --landing folder) into the lake as Parquet.")
public final class GatewayMain implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayMain.class);

    @Mixin
    KafkaOptions kafka;

    @Mixin
    RegistryOptions registry;

    @Option(
            names = "--host",
            defaultValue = "${env:STRATA_GATEWAY_HOST:-" + GatewayConfig.DEFAULT_HOST + "}",
            description = "Address to listen on. Default: ${DEFAULT-VALUE}")
    String host;

    @Option(
            names = "--http-port",
            defaultValue = "${env:STRATA_GATEWAY_HTTP_PORT:-" + GatewayConfig.DEFAULT_HTTP_PORT + "}",
            description = "HTTP port. Default: ${DEFAULT-VALUE}")
    int httpPort;

    @Option(
            names = "--mqtt-port",
            defaultValue = "${env:STRATA_GATEWAY_MQTT_PORT:-" + GatewayConfig.DEFAULT_MQTT_PORT + "}",
            description = "MQTT port (-1: no MQTT). Default: ${DEFAULT-VALUE}")
    int mqttPort;

    @Option(
            names = "--tokens",
            defaultValue = "${env:STRATA_GATEWAY_TOKENS}",
            description = "Tokens file: the hashes of the tokens, the sources each may publish as and the datasets it"
                    + " may upload to (env STRATA_GATEWAY_TOKENS)")
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
            defaultValue = GatewayConfig.DEFAULT_MAX_FUTURE_SKEW,
            description = "How far in the future an event time may be (ISO-8601 duration). Default: ${DEFAULT-VALUE}")
    Duration maxFutureSkew;

    @Option(
            names = "--max-event-age",
            defaultValue = GatewayConfig.DEFAULT_MAX_EVENT_AGE,
            description = {
                "How far in the past an event time may be (ISO-8601 duration); older ones are refused with the reason",
                "(seconds sent as milliseconds land in January 1970). Default: ${DEFAULT-VALUE}"
            })
    Duration maxEventAge;

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
            names = "--mqtt-connect-timeout",
            defaultValue = GatewayConfig.DEFAULT_MQTT_CONNECT_TIMEOUT,
            description = "How long a new MQTT connection may take to send CONNECT; then it is closed."
                    + " Default: ${DEFAULT-VALUE}")
    Duration mqttConnectTimeout;

    @Option(
            names = "--mqtt-max-connections-per-token",
            defaultValue = "" + GatewayConfig.DEFAULT_MQTT_MAX_CONNECTIONS_PER_TOKEN,
            description = "MQTT connections one token may hold at once (more: CONNACK 0x97 quota exceeded)."
                    + " Default: ${DEFAULT-VALUE}")
    int maxConnectionsPerToken;

    @Option(
            names = "--mqtt-max-pending-bytes",
            defaultValue = "" + GatewayConfig.DEFAULT_MQTT_MAX_PENDING_BYTES,
            description = "MQTT bytes waiting for in-flight room at most. Default: ${DEFAULT-VALUE}")
    long maxPendingBytes;

    @Option(
            names = "--rate-limit",
            defaultValue = "${env:STRATA_GATEWAY_RATE_LIMIT:-" + GatewayConfig.DEFAULT_RATE_LIMIT + "}",
            description = "Records per second per token over HTTP (0: no limit). Default: ${DEFAULT-VALUE}")
    double rateLimit;

    @Option(
            names = "--kafka-delivery-timeout",
            defaultValue = GatewayConfig.DEFAULT_KAFKA_DELIVERY_TIMEOUT,
            description =
                    "How long Kafka may take to acknowledge before the client is told it failed. Default: ${DEFAULT-VALUE}")
    Duration kafkaDeliveryTimeout;

    @Option(names = "--events-topic", defaultValue = StrataTopics.EVENTS, description = "Default: ${DEFAULT-VALUE}")
    String eventsTopic;

    @Option(names = "--dlq-topic", defaultValue = StrataTopics.EVENTS_DLQ, description = "Default: ${DEFAULT-VALUE}")
    String dlqTopic;

    @Mixin
    LakeOptions lake;

    @Option(
            names = "--file-spool",
            defaultValue = "${env:STRATA_FILE_SPOOL:-" + FileSettings.DEFAULT_SPOOL + "}",
            description = {
                "Where uploads arrive before they are put whole into a lake on an object store",
                "(on a local lake: its raw zone). Default: ${DEFAULT-VALUE}"
            })
    Path spool;

    @Option(
            names = "--landing",
            defaultValue = "${env:STRATA_LANDING}",
            description =
                    "A folder to watch: a file in landing/{dataset}/ is taken into the lake like an upload (needs --lake)")
    Path landing;

    @Option(
            names = "--max-file-bytes",
            defaultValue = "" + FileSettings.DEFAULT_MAX_FILE_BYTES,
            description = "Largest file upload. Default: ${DEFAULT-VALUE}")
    long maxFileBytes;

    @Option(
            names = "--file-workers",
            defaultValue = "" + FileSettings.DEFAULT_WORKERS,
            description = "File conversions at once. Default: ${DEFAULT-VALUE}")
    int fileWorkers;

    @Option(
            names = "--file-queue",
            defaultValue = "" + FileSettings.DEFAULT_QUEUE,
            description = "Files waiting for conversion at most; beyond, uploads get 503. Default: ${DEFAULT-VALUE}")
    int fileQueue;

    @Option(
            names = "--landing-settle",
            defaultValue = FileSettings.DEFAULT_SETTLE,
            description = "How long a landing file must stay unchanged before it is taken. Default: ${DEFAULT-VALUE}")
    Duration landingSettle;

    @Override
    public Integer call() throws Exception {
        if (landing != null && !lake.given()) {
            throw new IllegalArgumentException("--landing needs --lake: the landing folder's files go into the lake");
        }
        if (createToken != null && tokens != null && !Files.exists(tokens)) {
            String token = TokenFile.generateToken();
            TokenFile.write(tokens, Map.of("local", new TokenFile.Grant(token, List.of("*"), List.of("*"))));
            Files.createDirectories(createToken.toAbsolutePath().getParent());
            Files.writeString(createToken, token + "\n");
            restrictToOwner(createToken);
            LOG.info("Created a token for every source: {} (hash in {})", createToken, tokens);
        }
        GatewayConfig config = GatewayConfig.builder(kafka.bootstrapServers(), registry.registryUrl())
                .registryTokenFile(registry.registryTokenFile())
                .listen(host, httpPort, mqttPort)
                .tokens(tokens)
                .allowAnonymous(allowAnonymous)
                .tls(tlsCert, tlsKey)
                .maxRecordsPerRequest(maxRecords)
                .maxRequestBytes(maxRequestBytes)
                .maxMqttMessageBytes(maxMqttMessageBytes)
                .maxFutureSkew(maxFutureSkew)
                .maxEventAge(maxEventAge)
                .maxInFlightBytes(maxInFlightBytes)
                .mqttReceiveMaximum(receiveMaximum)
                .mqttMaxConnections(maxConnections)
                .mqttMaxConnectionsPerToken(maxConnectionsPerToken)
                .mqttConnectTimeout(mqttConnectTimeout)
                .mqttMaxPendingBytes(maxPendingBytes)
                .rateLimitPerToken(rateLimit)
                .topics(eventsTopic, dlqTopic)
                .kafkaDeliveryTimeout(kafkaDeliveryTimeout)
                .files(
                        !lake.given()
                                ? null
                                : FileSettings.of(lake.config(), landing)
                                        .withSpool(spool.toAbsolutePath())
                                        .withLimits(maxFileBytes, fileWorkers, fileQueue)
                                        .withTimes(Duration.parse(FileSettings.DEFAULT_POLL), landingSettle))
                .build();
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
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException | IOException e) {
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
