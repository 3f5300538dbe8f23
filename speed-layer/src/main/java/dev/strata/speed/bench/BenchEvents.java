package dev.strata.speed.bench;

import dev.strata.schemas.Event;
import dev.strata.schemas.cli.RegistryOptions;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventSerializer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
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

    /**
     * Events {@code from}, {@code from + 1}, … as {@link #record} makes them, keys and values encoded. The
     * values are packed into arrays of {@value #CHUNK} bytes and each record's copied out when it is sent:
     * millions of small arrays alive through the run would be traced by every marking cycle of the
     * collector, a cost of the bench's JVM that the job beside it would pay.
     */
    static final class Encoded {
        private static final int CHUNK = 16 << 20;
        private final List<byte[]> keys = new ArrayList<>();
        private final List<byte[]> chunks = new ArrayList<>();
        private final int[] keyOf;
        private final int[] chunkOf;
        private final int[] offset;
        private final int[] length;
        private int used = CHUNK;

        private Encoded(int count) {
            keyOf = new int[count];
            chunkOf = new int[count];
            offset = new int[count];
            length = new int[count];
        }

        private void add(int i, int key, byte[] value) {
            if (used + value.length > CHUNK) {
                chunks.add(new byte[Math.max(CHUNK, value.length)]);
                used = 0;
            }
            System.arraycopy(value, 0, chunks.get(chunks.size() - 1), used, value.length);
            keyOf[i] = key;
            chunkOf[i] = chunks.size() - 1;
            offset[i] = used;
            length[i] = value.length;
            used += value.length;
        }

        ProducerRecord<byte[], byte[]> get(String topic, int i) {
            byte[] value = Arrays.copyOfRange(chunks.get(chunkOf[i]), offset[i], offset[i] + length[i]);
            return new ProducerRecord<>(topic, keys.get(keyOf[i]), value);
        }
    }

    /**
     * Encodes {@code count} events of {@code topic} (from event {@code from}, probes included) with the
     * Confluent wire format, as the producer's serializer would while sending them.
     */
    Encoded encode(String topic, long from, int count, Random random) throws IOException {
        Encoded encoded = new Encoded(count);
        Map<String, Integer> sourceKeys = new HashMap<>();
        try (EventSerializer serializer = serializer()) {
            for (int i = 0; i < count; i++) {
                ProducerRecord<String, Event> r = record(topic, from + i, random, true);
                int key = sourceKeys.computeIfAbsent(r.key(), k -> {
                    encoded.keys.add(k.getBytes(StandardCharsets.UTF_8));
                    return encoded.keys.size() - 1;
                });
                encoded.add(i, key, serializer.serialize(topic, r.value()));
            }
        }
        return encoded;
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
