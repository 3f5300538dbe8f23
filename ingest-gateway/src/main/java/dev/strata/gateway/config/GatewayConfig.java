package dev.strata.gateway.config;

import dev.strata.gateway.files.FileIngest;
import dev.strata.schemas.topics.StrataTopics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything the gateway needs, validated when built: a bad value fails startup with a message
 * that names the setting and the fix. Defaults sit beside the keys ({@code DEFAULT_*}).
 */
public record GatewayConfig(
        String bootstrapServers,
        String registryUrl,
        String host,
        int httpPort,
        int mqttPort,
        Path tokensFile,
        boolean allowAnonymous,
        Path tlsCert,
        Path tlsKey,
        int maxRecordsPerRequest,
        int maxRequestBytes,
        int maxMqttMessageBytes,
        Duration maxFutureSkew,
        long maxInFlightBytes,
        int mqttReceiveMaximum,
        int mqttMaxConnections,
        long mqttMaxPendingBytes,
        double rateLimitPerToken,
        String eventsTopic,
        String dlqTopic,
        Duration kafkaDeliveryTimeout,
        FileIngest.Settings files) {

    public static final int DEFAULT_HTTP_PORT = 8080;
    public static final int DEFAULT_MQTT_PORT = 1883;
    public static final int DEFAULT_MAX_RECORDS_PER_REQUEST = 1000;
    public static final int DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;
    public static final int DEFAULT_MAX_MQTT_MESSAGE_BYTES = 64 * 1024;
    public static final Duration DEFAULT_MAX_FUTURE_SKEW = Duration.ofMinutes(5);
    public static final long DEFAULT_MAX_IN_FLIGHT_BYTES = 32L * 1024 * 1024;
    public static final int DEFAULT_MQTT_RECEIVE_MAXIMUM = 1000;
    public static final int DEFAULT_MQTT_MAX_CONNECTIONS = 10_000;
    public static final long DEFAULT_MQTT_MAX_PENDING_BYTES = 64L * 1024 * 1024;
    /** How long Kafka may take to acknowledge before the client is told it failed (503 / MQTT 0x80). */
    public static final Duration DEFAULT_KAFKA_DELIVERY_TIMEOUT = Duration.ofSeconds(30);

    public GatewayConfig {
        List<String> problems = new ArrayList<>();
        require(
                problems,
                bootstrapServers != null && !bootstrapServers.isBlank(),
                "--bootstrap-servers is empty: give the Kafka bootstrap servers, e.g. 127.0.0.1:9092");
        require(
                problems,
                registryUrl != null && registryUrl.matches("https?://.+"),
                "--registry-url must be an http(s) URL of the schema registry, e.g. http://127.0.0.1:8081");
        require(problems, httpPort >= 0 && httpPort <= 65_535, "--http-port must be 0..65535, got " + httpPort);
        require(
                problems,
                mqttPort >= -1 && mqttPort <= 65_535,
                "--mqtt-port must be 0..65535 (-1: no MQTT), got " + mqttPort);
        if (!allowAnonymous) {
            require(
                    problems,
                    tokensFile != null,
                    "--tokens is not set: give the tokens file (see the gateway README), or pass --allow-anonymous for a test setup");
            require(
                    problems,
                    tokensFile == null || Files.isRegularFile(tokensFile),
                    "--tokens " + tokensFile + " does not exist");
        }
        require(
                problems,
                (tlsCert == null) == (tlsKey == null),
                "--tls-cert and --tls-key go together: give both PEM files, or neither");
        require(problems, tlsCert == null || Files.isRegularFile(tlsCert), "--tls-cert " + tlsCert + " does not exist");
        require(problems, tlsKey == null || Files.isRegularFile(tlsKey), "--tls-key " + tlsKey + " does not exist");
        require(problems, maxRecordsPerRequest >= 1, "--max-records must be >= 1, got " + maxRecordsPerRequest);
        require(problems, maxRequestBytes >= 1024, "--max-request-bytes must be >= 1024, got " + maxRequestBytes);
        require(
                problems,
                maxMqttMessageBytes >= 256,
                "--max-mqtt-message-bytes must be >= 256, got " + maxMqttMessageBytes);
        require(
                problems,
                maxFutureSkew != null && !maxFutureSkew.isNegative(),
                "--max-future-skew must be >= 0, e.g. PT5M");
        require(
                problems,
                maxInFlightBytes >= maxRequestBytes,
                "--max-in-flight-bytes (" + maxInFlightBytes + ") must be >= --max-request-bytes (" + maxRequestBytes
                        + ")");
        require(
                problems,
                mqttReceiveMaximum >= 1 && mqttReceiveMaximum <= 65_535,
                "--mqtt-receive-maximum must be 1..65535, got " + mqttReceiveMaximum);
        require(problems, mqttMaxConnections >= 1, "--mqtt-max-connections must be >= 1");
        require(
                problems,
                mqttMaxPendingBytes >= maxMqttMessageBytes,
                "--mqtt-max-pending-bytes must be >= --max-mqtt-message-bytes");
        require(
                problems,
                kafkaDeliveryTimeout != null && kafkaDeliveryTimeout.toMillis() >= 1000,
                "--kafka-delivery-timeout must be at least PT1S");
        require(problems, rateLimitPerToken >= 0, "--rate-limit must be >= 0 records/s (0: no limit)");
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
    }

    private static void require(List<String> problems, boolean ok, String problem) {
        if (!ok) {
            problems.add(problem);
        }
    }

    /** A configuration for tests and embedding: loopback, free ports, defaults elsewhere. */
    public static GatewayConfig forTest(String bootstrapServers, String registryUrl, Path tokensFile) {
        return new GatewayConfig(
                bootstrapServers,
                registryUrl,
                "127.0.0.1",
                0,
                0,
                tokensFile,
                tokensFile == null,
                null,
                null,
                DEFAULT_MAX_RECORDS_PER_REQUEST,
                DEFAULT_MAX_REQUEST_BYTES,
                DEFAULT_MAX_MQTT_MESSAGE_BYTES,
                DEFAULT_MAX_FUTURE_SKEW,
                DEFAULT_MAX_IN_FLIGHT_BYTES,
                DEFAULT_MQTT_RECEIVE_MAXIMUM,
                DEFAULT_MQTT_MAX_CONNECTIONS,
                DEFAULT_MQTT_MAX_PENDING_BYTES,
                0,
                StrataTopics.EVENTS,
                StrataTopics.EVENTS_DLQ,
                DEFAULT_KAFKA_DELIVERY_TIMEOUT,
                null);
    }

    public GatewayConfig withTopics(String events, String dlq) {
        return new GatewayConfig(
                bootstrapServers,
                registryUrl,
                host,
                httpPort,
                mqttPort,
                tokensFile,
                allowAnonymous,
                tlsCert,
                tlsKey,
                maxRecordsPerRequest,
                maxRequestBytes,
                maxMqttMessageBytes,
                maxFutureSkew,
                maxInFlightBytes,
                mqttReceiveMaximum,
                mqttMaxConnections,
                mqttMaxPendingBytes,
                rateLimitPerToken,
                events,
                dlq,
                kafkaDeliveryTimeout,
                files);
    }

    public GatewayConfig withLimits(int maxRecords, int maxRequestBytes, int maxMqttMessageBytes, double rateLimit) {
        return new GatewayConfig(
                bootstrapServers,
                registryUrl,
                host,
                httpPort,
                mqttPort,
                tokensFile,
                allowAnonymous,
                tlsCert,
                tlsKey,
                maxRecords,
                maxRequestBytes,
                maxMqttMessageBytes,
                maxFutureSkew,
                Math.max(maxInFlightBytes, maxRequestBytes),
                mqttReceiveMaximum,
                mqttMaxConnections,
                Math.max(mqttMaxPendingBytes, maxMqttMessageBytes),
                rateLimit,
                eventsTopic,
                dlqTopic,
                kafkaDeliveryTimeout,
                files);
    }

    public GatewayConfig withTls(Path cert, Path key) {
        return new GatewayConfig(
                bootstrapServers,
                registryUrl,
                host,
                httpPort,
                mqttPort,
                tokensFile,
                allowAnonymous,
                cert,
                key,
                maxRecordsPerRequest,
                maxRequestBytes,
                maxMqttMessageBytes,
                maxFutureSkew,
                maxInFlightBytes,
                mqttReceiveMaximum,
                mqttMaxConnections,
                mqttMaxPendingBytes,
                rateLimitPerToken,
                eventsTopic,
                dlqTopic,
                kafkaDeliveryTimeout,
                files);
    }

    public GatewayConfig withKafkaDeliveryTimeout(Duration timeout) {
        return new GatewayConfig(
                bootstrapServers,
                registryUrl,
                host,
                httpPort,
                mqttPort,
                tokensFile,
                allowAnonymous,
                tlsCert,
                tlsKey,
                maxRecordsPerRequest,
                maxRequestBytes,
                maxMqttMessageBytes,
                maxFutureSkew,
                maxInFlightBytes,
                mqttReceiveMaximum,
                mqttMaxConnections,
                mqttMaxPendingBytes,
                rateLimitPerToken,
                eventsTopic,
                dlqTopic,
                timeout,
                files);
    }

    /** File uploads and the landing folder on ({@code files}), or off (null). */
    public GatewayConfig withFiles(FileIngest.Settings files) {
        return new GatewayConfig(
                bootstrapServers,
                registryUrl,
                host,
                httpPort,
                mqttPort,
                tokensFile,
                allowAnonymous,
                tlsCert,
                tlsKey,
                maxRecordsPerRequest,
                maxRequestBytes,
                maxMqttMessageBytes,
                maxFutureSkew,
                maxInFlightBytes,
                mqttReceiveMaximum,
                mqttMaxConnections,
                mqttMaxPendingBytes,
                rateLimitPerToken,
                eventsTopic,
                dlqTopic,
                kafkaDeliveryTimeout,
                files);
    }

    public boolean tls() {
        return tlsCert != null;
    }

    public boolean mqttEnabled() {
        return mqttPort >= 0;
    }
}
