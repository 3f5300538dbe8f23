package dev.strata.gateway.config;

import dev.strata.gateway.files.FileSettings;
import dev.strata.schemas.http.HttpGuard;
import dev.strata.schemas.net.StrataPorts;
import dev.strata.schemas.topics.StrataTopics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything the gateway needs, validated when built: a bad value fails startup with a message
 * that names the setting and the fix. Built with {@link #builder}, which starts from the defaults
 * ({@code DEFAULT_*}, each declared once here; the command's options show the same constants).
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
        Duration maxEventAge,
        long maxInFlightBytes,
        int mqttReceiveMaximum,
        int mqttMaxConnections,
        long mqttMaxPendingBytes,
        double rateLimitPerToken,
        String eventsTopic,
        String dlqTopic,
        Duration kafkaDeliveryTimeout,
        FileSettings files,
        HttpGuard.Limits httpLimits,
        Path registryTokenFile,
        int mqttMaxConnectionsPerToken,
        Duration mqttConnectTimeout) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_HTTP_PORT = StrataPorts.GATEWAY_HTTP;
    public static final int DEFAULT_MQTT_PORT = StrataPorts.MQTT;
    public static final int DEFAULT_MAX_RECORDS_PER_REQUEST = 1000;
    public static final int DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;
    public static final int DEFAULT_MAX_MQTT_MESSAGE_BYTES = 64 * 1024;
    public static final String DEFAULT_MAX_FUTURE_SKEW = "PT5M";
    /**
     * How old an event time may be: a month covers devices that buffered offline for weeks and
     * refuses seconds sent as milliseconds (January 1970) and other clocks far off.
     */
    public static final String DEFAULT_MAX_EVENT_AGE = "P30D";

    public static final long DEFAULT_MAX_IN_FLIGHT_BYTES = 32L * 1024 * 1024;
    public static final int DEFAULT_MQTT_RECEIVE_MAXIMUM = 1000;
    public static final int DEFAULT_MQTT_MAX_CONNECTIONS = 10_000;
    /** How long a new MQTT connection may take to send CONNECT (as an HTTP request head: 10 s). */
    public static final String DEFAULT_MQTT_CONNECT_TIMEOUT = "PT10S";
    /** A tenth of all connections per token: no one token holds them all. */
    public static final int DEFAULT_MQTT_MAX_CONNECTIONS_PER_TOKEN = 1_000;

    public static final long DEFAULT_MQTT_MAX_PENDING_BYTES = 64L * 1024 * 1024;
    /** Records per second per token over HTTP; 0: no limit. */
    public static final String DEFAULT_RATE_LIMIT = "0";
    /** How long Kafka may take to acknowledge before the client is told it failed (503 / MQTT 0x80). */
    public static final String DEFAULT_KAFKA_DELIVERY_TIMEOUT = "PT30S";

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
                maxEventAge != null && maxEventAge.compareTo(Duration.ofMinutes(1)) >= 0,
                "--max-event-age must be at least PT1M, e.g. P30D");
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
        require(problems, mqttMaxConnectionsPerToken >= 1, "--mqtt-max-connections-per-token must be >= 1");
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

    /** A gateway on Kafka and the registry, every other setting at its default (tokens required). */
    public static Builder builder(String bootstrapServers, String registryUrl) {
        return new Builder(bootstrapServers, registryUrl);
    }

    public boolean tls() {
        return tlsCert != null;
    }

    public boolean mqttEnabled() {
        return mqttPort >= 0;
    }

    /** Builds a {@link GatewayConfig}, each setting starting at its default. */
    public static final class Builder {
        private final String bootstrapServers;
        private final String registryUrl;
        private String host = DEFAULT_HOST;
        private int httpPort = DEFAULT_HTTP_PORT;
        private int mqttPort = DEFAULT_MQTT_PORT;
        private Path tokensFile;
        private boolean allowAnonymous;
        private Path tlsCert;
        private Path tlsKey;
        private int maxRecordsPerRequest = DEFAULT_MAX_RECORDS_PER_REQUEST;
        private int maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;
        private int maxMqttMessageBytes = DEFAULT_MAX_MQTT_MESSAGE_BYTES;
        private Duration maxFutureSkew = Duration.parse(DEFAULT_MAX_FUTURE_SKEW);
        private Duration maxEventAge = Duration.parse(DEFAULT_MAX_EVENT_AGE);
        private HttpGuard.Limits httpLimits = HttpGuard.Limits.DEFAULTS;
        private long maxInFlightBytes = DEFAULT_MAX_IN_FLIGHT_BYTES;
        private int mqttReceiveMaximum = DEFAULT_MQTT_RECEIVE_MAXIMUM;
        private int mqttMaxConnections = DEFAULT_MQTT_MAX_CONNECTIONS;
        private int mqttMaxConnectionsPerToken = DEFAULT_MQTT_MAX_CONNECTIONS_PER_TOKEN;
        private Duration mqttConnectTimeout = Duration.parse(DEFAULT_MQTT_CONNECT_TIMEOUT);
        private long mqttMaxPendingBytes = DEFAULT_MQTT_MAX_PENDING_BYTES;
        private double rateLimitPerToken = Double.parseDouble(DEFAULT_RATE_LIMIT);
        private String eventsTopic = StrataTopics.EVENTS;
        private String dlqTopic = StrataTopics.EVENTS_DLQ;
        private Duration kafkaDeliveryTimeout = Duration.parse(DEFAULT_KAFKA_DELIVERY_TIMEOUT);
        private FileSettings files;
        private Path registryTokenFile;

        private Builder(String bootstrapServers, String registryUrl) {
            this.bootstrapServers = bootstrapServers;
            this.registryUrl = registryUrl;
        }

        /** The address and ports to listen on (0: any free port; MQTT -1: none). */
        public Builder listen(String host, int httpPort, int mqttPort) {
            this.host = host;
            this.httpPort = httpPort;
            this.mqttPort = mqttPort;
            return this;
        }

        /** The tokens file; without one, requests need no token (tests only). */
        public Builder tokens(Path tokensFile) {
            this.tokensFile = tokensFile;
            this.allowAnonymous = tokensFile == null;
            return this;
        }

        /** A file holding a token of the registry's, to register the event schema where writes need one. */
        public Builder registryTokenFile(Path registryTokenFile) {
            this.registryTokenFile = registryTokenFile;
            return this;
        }

        public Builder allowAnonymous(boolean allowAnonymous) {
            this.allowAnonymous = allowAnonymous;
            return this;
        }

        public Builder tls(Path cert, Path key) {
            this.tlsCert = cert;
            this.tlsKey = key;
            return this;
        }

        public Builder maxRecordsPerRequest(int maxRecordsPerRequest) {
            this.maxRecordsPerRequest = maxRecordsPerRequest;
            return this;
        }

        /** The largest HTTP body; the bytes waiting for Kafka grow with it if they must. */
        public Builder maxRequestBytes(int maxRequestBytes) {
            this.maxRequestBytes = maxRequestBytes;
            this.maxInFlightBytes = Math.max(maxInFlightBytes, maxRequestBytes);
            return this;
        }

        /** The largest MQTT payload; the bytes waiting for in-flight room grow with it if they must. */
        public Builder maxMqttMessageBytes(int maxMqttMessageBytes) {
            this.maxMqttMessageBytes = maxMqttMessageBytes;
            this.mqttMaxPendingBytes = Math.max(mqttMaxPendingBytes, maxMqttMessageBytes);
            return this;
        }

        /** Time limits on HTTP requests' heads and bodies, and the most connections (defaults: HttpGuard's). */
        public Builder httpLimits(HttpGuard.Limits httpLimits) {
            this.httpLimits = httpLimits;
            return this;
        }

        public Builder maxEventAge(Duration maxEventAge) {
            this.maxEventAge = maxEventAge;
            return this;
        }

        public Builder maxFutureSkew(Duration maxFutureSkew) {
            this.maxFutureSkew = maxFutureSkew;
            return this;
        }

        public Builder maxInFlightBytes(long maxInFlightBytes) {
            this.maxInFlightBytes = maxInFlightBytes;
            return this;
        }

        public Builder mqttReceiveMaximum(int mqttReceiveMaximum) {
            this.mqttReceiveMaximum = mqttReceiveMaximum;
            return this;
        }

        public Builder mqttConnectTimeout(Duration mqttConnectTimeout) {
            this.mqttConnectTimeout = mqttConnectTimeout;
            return this;
        }

        public Builder mqttMaxConnectionsPerToken(int mqttMaxConnectionsPerToken) {
            this.mqttMaxConnectionsPerToken = mqttMaxConnectionsPerToken;
            return this;
        }

        public Builder mqttMaxConnections(int mqttMaxConnections) {
            this.mqttMaxConnections = mqttMaxConnections;
            return this;
        }

        public Builder mqttMaxPendingBytes(long mqttMaxPendingBytes) {
            this.mqttMaxPendingBytes = mqttMaxPendingBytes;
            return this;
        }

        public Builder rateLimitPerToken(double rateLimitPerToken) {
            this.rateLimitPerToken = rateLimitPerToken;
            return this;
        }

        public Builder topics(String eventsTopic, String dlqTopic) {
            this.eventsTopic = eventsTopic;
            this.dlqTopic = dlqTopic;
            return this;
        }

        public Builder kafkaDeliveryTimeout(Duration kafkaDeliveryTimeout) {
            this.kafkaDeliveryTimeout = kafkaDeliveryTimeout;
            return this;
        }

        /** File uploads and the landing folder on ({@code files}), or off (null). */
        public Builder files(FileSettings files) {
            this.files = files;
            return this;
        }

        /** @throws IllegalArgumentException naming every bad setting and its fix */
        public GatewayConfig build() {
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
                    maxEventAge,
                    maxInFlightBytes,
                    mqttReceiveMaximum,
                    mqttMaxConnections,
                    mqttMaxPendingBytes,
                    rateLimitPerToken,
                    eventsTopic,
                    dlqTopic,
                    kafkaDeliveryTimeout,
                    files,
                    httpLimits,
                    registryTokenFile,
                    mqttMaxConnectionsPerToken,
                    mqttConnectTimeout);
        }
    }
}
