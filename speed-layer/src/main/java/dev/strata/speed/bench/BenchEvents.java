package dev.strata.speed.bench;

import dev.strata.schemas.Event;
import dev.strata.schemas.cli.RegistryOptions;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventSerializer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The events of {@code strata bench speed}: {@code sources} devices, 3 types, event time now, one
 * in a hundred a resend of an earlier event; probes for the latency run. Produced with the
 * Confluent wire format through the registry, as the gateway does.
 */
final class BenchEvents {

    private final String bootstrapServers;
    private final String registryUrl;
    private final Path registryTokenFile;
    private final int sources;

    BenchEvents(String bootstrapServers, String registryUrl, Path registryTokenFile, int sources) {
        this.bootstrapServers = bootstrapServers;
        this.registryUrl = registryUrl;
        this.registryTokenFile = registryTokenFile;
        this.sources = sources;
    }

    KafkaProducer<String, Event> producer() throws IOException {
        return new KafkaProducer<>(producerProperties(), new StringSerializer(), serializer());
    }

    /** A producer of events {@link #encode}d before a paced run: all it does during the run is send bytes. */
    KafkaProducer<byte[], byte[]> bytesProducer() {
        return new KafkaProducer<>(producerProperties(), new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Events {@code from}, {@code from + 1}, … as {@link #record} makes them, keys and values encoded. */
    record Encoded(byte[][] keys, byte[][] values) {
        ProducerRecord<byte[], byte[]> get(String topic, int i) {
            return new ProducerRecord<>(topic, keys[i], values[i]);
        }
    }

    /**
     * Encodes {@code count} events of {@code topic} (from event {@code from}, probes included) with the
     * Confluent wire format, as the producer's serializer would while sending them.
     */
    Encoded encode(String topic, long from, int count, Random random) throws IOException {
        byte[][] keys = new byte[count][];
        byte[][] values = new byte[count][];
        Map<String, byte[]> sourceKeys = new HashMap<>();
        try (EventSerializer serializer = serializer()) {
            for (int i = 0; i < count; i++) {
                ProducerRecord<String, Event> r = record(topic, from + i, random, true);
                keys[i] = sourceKeys.computeIfAbsent(r.key(), k -> k.getBytes(StandardCharsets.UTF_8));
                values[i] = serializer.serialize(topic, r.value());
            }
        }
        return new Encoded(keys, values);
    }

    private EventSerializer serializer() throws IOException {
        EventSerializer serializer = new EventSerializer();
        Map<String, Object> serde = new HashMap<>(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registryUrl));
        RegistryOptions.token(registryTokenFile).ifPresent(t -> serde.put(AvroSerdeConfig.BEARER_AUTH_TOKEN, t));
        serializer.configure(serde, false);
        return serializer;
    }

    private Properties producerProperties() {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        props.put("acks", "all");
        props.put("linger.ms", "5");
        props.put("compression.type", "lz4");
        return props;
    }

    private static final String[] TYPES = {"temperature", "humidity", "pressure"};

    /**
     * Event {@code i} (a probe if {@code i % SpeedBench.PROBE_EVERY == 0}; {@code i < 0}: the warm-up probe),
     * or one in a hundred a resend of an earlier event (same source and id).
     */
    ProducerRecord<String, Event> record(String topic, long i, Random random, boolean probes) {
        long n = i > 100 && i % 100 == 99 ? random.nextLong(i) : i;
        String source = "dev-" + Math.floorMod(n, sources);
        Map<String, String> attributes = new HashMap<>();
        attributes.put("site", "s" + Math.floorMod(n, 4));
        if (probes && n == i && (i < 0 || i % SpeedBench.PROBE_EVERY == 0)) {
            attributes.put("probe", "1");
            attributes.put("probe_id", Long.toString(i));
        }
        Instant now = Instant.now();
        Event e = Event.newBuilder()
                .setId(i < 0 ? "warmup-" + UUID.randomUUID() : "e-" + n)
                .setSource(source)
                .setType(TYPES[(int) Math.floorMod(n, 3)])
                .setTime(now)
                .setIngestTime(now)
                .setValue(Math.round(random.nextGaussian() * 1000) / 100.0)
                .setAttributes(attributes)
                .build();
        return new ProducerRecord<>(topic, source, e);
    }

    void produce(String topic, int count) throws Exception {
        Random random = new Random(7);
        try (KafkaProducer<String, Event> producer = producer()) {
            for (int i = 0; i < count; i++) {
                producer.send(record(topic, i, random, false)); // no probes: the default views only
            }
            producer.flush();
        }
    }
}
