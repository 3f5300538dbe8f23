package dev.strata.gateway;

import dev.strata.gateway.config.GatewayConfig;
import dev.strata.registry.RegistryServer;
import dev.strata.schemas.Event;
import dev.strata.schemas.auth.TokenFile;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventDeserializer;
import dev.strata.testing.KafkaBrokerExtension;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** A registry, topics of their own, a tokens file and a gateway, on the test run's broker. */
final class GatewayFixture implements AutoCloseable {

    /** May publish as any source. */
    static final String ALL_TOKEN = "all-sources-token-0123456789abcdefghij";
    /** May publish only as {@code device-7}. */
    static final String DEVICE_TOKEN = "device-7-token-0123456789abcdefghijkl";

    final String bootstrapServers;
    final RegistryServer registry;
    final String events;
    final String dlq;
    final Path tokensFile;
    final Gateway gateway;
    final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private GatewayFixture(
            String bootstrapServers,
            RegistryServer registry,
            String events,
            String dlq,
            Path tokensFile,
            Gateway gateway) {
        this.bootstrapServers = bootstrapServers;
        this.registry = registry;
        this.events = events;
        this.dlq = dlq;
        this.tokensFile = tokensFile;
        this.gateway = gateway;
    }

    static GatewayFixture start(
            KafkaBrokerExtension kafka, Path dir, String name, UnaryOperator<GatewayConfig.Builder> customize)
            throws Exception {
        String events = kafka.createTopic(name + "-events", 3, Map.of("message.timestamp.type", "LogAppendTime"));
        String dlq = kafka.createTopic(name + "-dlq", 1, Map.of());
        RegistryServer registry = RegistryServer.start(RegistryServer.Config.of(kafka.bootstrapServers())
                .withPort(0)
                .withTopic(name + "-schemas-" + ProcessHandle.current().pid()));
        Path tokens = writeTokens(dir);
        GatewayConfig config = customize
                .apply(GatewayConfig.builder(kafka.bootstrapServers(), registry.url())
                        .listen("127.0.0.1", 0, 0)
                        .tokens(tokens)
                        .topics(events, dlq))
                .build();
        try {
            return new GatewayFixture(kafka.bootstrapServers(), registry, events, dlq, tokens, Gateway.start(config));
        } catch (Exception e) {
            registry.close();
            throw e;
        }
    }

    /** Only the HTTP helpers, around a gateway a test started itself (closing it stays the test's job). */
    static GatewayFixture wrap(Gateway gateway) {
        return new GatewayFixture(null, null, null, null, null, gateway);
    }

    static Path writeTokens(Path dir) throws IOException {
        Path tokens = dir.resolve("tokens.yaml");
        Map<String, TokenFile.Grant> entries = new LinkedHashMap<>();
        entries.put("all", new TokenFile.Grant(ALL_TOKEN, List.of("*"), List.of("*")));
        entries.put("device-7", new TokenFile.Grant(DEVICE_TOKEN, List.of("device-7"), List.of("device_7_*")));
        TokenFile.write(tokens, entries);
        return tokens;
    }

    HttpResponse<String> post(String token, String contentType, byte[] body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(gateway.httpUrl() + "/v1/events"))
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        return send(request.build());
    }

    HttpResponse<String> post(String json) {
        return post(ALL_TOKEN, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(URI.create(gateway.httpUrl() + path))
                .timeout(Duration.ofSeconds(30))
                .build());
    }

    HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AssertionError(request.method() + " " + request.uri() + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Every record of the events topic now, decoded. */
    List<ConsumerRecord<String, Event>> events() {
        EventDeserializer deserializer = new EventDeserializer();
        deserializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registry.url()), false);
        return readAll(bootstrapServers, events, deserializer);
    }

    private KafkaConsumer<byte[], byte[]> offsets;

    /** The number of records appended to the events topic so far (sum of its end offsets). */
    synchronized long eventsAppended() {
        if (offsets == null) {
            Properties props = new Properties();
            props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            offsets = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        }
        List<TopicPartition> partitions = offsets.partitionsFor(events).stream()
                .map(p -> new TopicPartition(events, p.partition()))
                .toList();
        return offsets.endOffsets(partitions).values().stream()
                .mapToLong(Long::longValue)
                .sum();
    }

    /** Every record of the dead-letter topic now. */
    List<ConsumerRecord<String, byte[]>> deadLetters() {
        return readAll(bootstrapServers, dlq, new ByteArrayDeserializer());
    }

    /** Reads a topic from its start to its end offsets as of now. */
    static <V> List<ConsumerRecord<String, V>> readAll(String bootstrapServers, String topic, Deserializer<V> values) {
        return KafkaBrokerExtension.readAll(bootstrapServers, topic, new StringDeserializer(), values);
    }

    @Override
    public void close() {
        if (offsets != null) {
            offsets.close();
        }
        gateway.close();
        registry.close();
    }
}
