package dev.strata.speed.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.registry.RegistryServer;
import dev.strata.schemas.Event;
import dev.strata.schemas.topics.DeadLetters;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.AggregateCodec;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventSerializer;
import dev.strata.testing.KafkaBrokerExtension;
import dev.strata.testing.Waits;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole speed job on a Flink MiniCluster (parallelism 2, RocksDB state backend) against a real
 * broker and registry: out-of-order, hours-late and duplicated events give {@code speed-views}
 * contents equal to an independent computation; an undecodable record lands in the DLQ; a batch
 * commit tombstones the buckets below its cut.
 */
class SpeedLayerIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    static final Instant BASE = Instant.parse("2026-03-01T12:00:00Z");
    static final List<ViewDefinition> VIEWS = ViewConfig.defaults();
    static final ViewDefinition PER_SOURCE = VIEWS.get(0);
    static final ViewDefinition PER_TYPE = VIEWS.get(1);

    @TempDir
    Path state;

    /** The merged measures per (view, group, window): the sum over buckets, as serving will do it. */
    record Cell(String view, List<String> group, long window) {}

    @Test
    void speedViewsEqualAnIndependentComputationAndACommitTombstonesBelowTheCut() throws Exception {
        String events = KAFKA.createTopic("speed-events", 2, Map.of("message.timestamp.type", "LogAppendTime"));
        String views = KAFKA.createTopic("speed-views", 2, Map.of("cleanup.policy", "compact"));
        String commits = KAFKA.createTopic("speed-commits", 1, Map.of("cleanup.policy", "compact"));
        String dlq = KAFKA.createTopic("speed-dlq", 1, Map.of());
        try (RegistryServer registry = RegistryServer.start(RegistryServer.Config.of(KAFKA.bootstrapServers())
                .withPort(0)
                .withTopic("speed-schemas-" + ProcessHandle.current().pid()))) {
            List<Event> sent = workload();
            produce(registry.url(), events, sent);

            Configuration conf = Configuration.fromMap(Map.of(
                    "state.backend.type", "rocksdb",
                    "execution.checkpointing.storage", "filesystem",
                    "execution.checkpointing.dir",
                            state.resolve("checkpoints").toUri().toString(),
                    "execution.checkpointing.interval", "1s",
                    "execution.checkpointing.incremental", "true",
                    "state.backend.rocksdb.localdir", state.resolve("rocksdb").toString()));
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            env.setParallelism(2);
            KafkaWiring kafka =
                    new KafkaWiring(KAFKA.bootstrapServers(), registry.url(), events, commits, views, dlq, "speed-it");
            new SpeedLayerJob(
                            kafka.events(),
                            kafka.commits(),
                            kafka.views(),
                            kafka.deadLetters(),
                            SpeedLayerJob.Settings.of(VIEWS))
                    .build(env);
            JobClient job = env.executeAsync("speed-layer-it");
            try {
                Map<Cell, Map<String, Double>> expected = oracle(sent);
                Waits.await("the speed views equal to the oracle", Duration.ofSeconds(120))
                        .untilAsserted(() ->
                                assertThat(exactMeasures(merged(latest(views)))).isEqualTo(exactMeasures(expected)));
                assertThat(expected).hasSizeGreaterThan(20);
                // The state lives in RocksDB and is checkpointed.
                Waits.await("RocksDB files and a completed checkpoint", Duration.ofSeconds(30))
                        .untilAsserted(() -> {
                            assertThat(hasFile(state.resolve("rocksdb"), "OPTIONS-"))
                                    .as("RocksDB files under the local dir")
                                    .isTrue();
                            assertThat(hasFile(state.resolve("checkpoints"), "chk-"))
                                    .as("a completed checkpoint")
                                    .isTrue();
                        });

                List<ConsumerRecord<byte[], byte[]>> letters = readAll(dlq);
                assertThat(letters).hasSize(1);
                assertThat(new String(
                                letters.get(0)
                                        .headers()
                                        .lastHeader(DeadLetters.REASON)
                                        .value(),
                                StandardCharsets.UTF_8))
                        .isEqualTo("undecodable");

                // A batch commit whose cut is above every bucket: the speed side empties.
                try (KafkaProducer<byte[], byte[]> producer =
                        new KafkaProducer<>(props(), new ByteArraySerializer(), new ByteArraySerializer())) {
                    producer.send(new ProducerRecord<>(
                                    commits,
                                    BatchCommit.KEY,
                                    BatchCommit.of(
                                                    1,
                                                    ViewKey.bucketOf(
                                                            System.currentTimeMillis()
                                                                    + Duration.ofMinutes(5)
                                                                            .toMillis(),
                                                            CutSettings.DEFAULTS.bucketMillis()),
                                                    "snapshot-1",
                                                    CutSettings.DEFAULTS)
                                            .encode()))
                            .get();
                }
                Waits.await("every key tombstoned", Duration.ofSeconds(60))
                        .untilAsserted(() -> assertThat(latest(views).values())
                                .as("every key tombstoned")
                                .allMatch(v -> v == null));
            } finally {
                job.cancel().get();
            }
        }
    }

    /**
     * Out of order within minutes, some hours late, some resent with the same id, and some ids used
     * by two sources (each source's event counts).
     */
    static List<Event> workload() {
        Random random = new Random(7);
        List<Event> sent = new ArrayList<>();
        Instant now = Instant.now();
        for (int i = 0; i < 600; i++) {
            long offset = random.nextInt(300_000);
            Instant time = now.minusMillis(offset);
            if (i % 20 == 0) {
                time = now.minus(Duration.ofHours(3 + random.nextInt(3))); // hours late
            }
            Event e = Event.newBuilder()
                    .setId("ev-" + i)
                    .setSource("sensor-" + random.nextInt(4))
                    .setType(i % 3 == 0 ? "humidity" : "temperature")
                    .setTime(time)
                    .setIngestTime(now)
                    .setValue(i % 11 == 0 ? null : Math.round(random.nextGaussian() * 1000) / 100.0)
                    .setAttributes(Map.of())
                    .build();
            sent.add(e);
            if (i % 10 == 0) {
                sent.add(Event.newBuilder(e).build()); // a client retry: the same id again
            }
            if (i % 15 == 0) { // another device numbers its events the same way
                sent.add(Event.newBuilder(e).setSource("other-" + i % 2).build());
            }
        }
        return sent;
    }

    void produce(String registryUrl, String topic, List<Event> events) throws Exception {
        EventSerializer serializer = new EventSerializer();
        serializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registryUrl), false);
        try (KafkaProducer<String, Event> producer = new KafkaProducer<>(props(), new StringSerializer(), serializer);
                KafkaProducer<byte[], byte[]> raw =
                        new KafkaProducer<>(props(), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (Event e : events) {
                producer.send(new ProducerRecord<>(topic, e.getSource(), e));
            }
            raw.send(new ProducerRecord<>(topic, null, "not the wire format".getBytes(StandardCharsets.UTF_8)))
                    .get();
            producer.flush();
        }
    }

    /** Independent of Strata's aggregate code: plain maps over the distinct events. */
    static Map<Cell, Map<String, Double>> oracle(List<Event> sent) {
        Map<List<String>, Event> distinct = new LinkedHashMap<>();
        sent.forEach(e -> distinct.putIfAbsent(List.of(e.getSource(), e.getId()), e));
        Map<Cell, List<Event>> cells = new HashMap<>();
        for (Event e : distinct.values()) {
            long minute = Math.floorDiv(e.getTime().toEpochMilli(), 60_000L) * 60_000L;
            long hour = Math.floorDiv(e.getTime().toEpochMilli(), 3_600_000L) * 3_600_000L;
            cells.computeIfAbsent(new Cell(PER_SOURCE.name(), List.of(e.getSource()), minute), k -> new ArrayList<>())
                    .add(e);
            cells.computeIfAbsent(new Cell(PER_TYPE.name(), List.of(e.getType()), hour), k -> new ArrayList<>())
                    .add(e);
        }
        Map<Cell, Map<String, Double>> out = new HashMap<>();
        cells.forEach((cell, list) -> {
            Map<String, Double> m = new TreeMap<>();
            m.put("count", (double) list.size());
            List<Double> values =
                    list.stream().map(Event::getValue).filter(v -> v != null).toList();
            if (cell.view().equals(PER_SOURCE.name())) {
                m.put(
                        "sum",
                        values.isEmpty()
                                ? null
                                : values.stream()
                                        .map(BigDecimal::new)
                                        .reduce(BigDecimal.ZERO, BigDecimal::add)
                                        .doubleValue());
                m.put("min", values.stream().min(Double::compare).orElse(null));
                m.put("max", values.stream().max(Double::compare).orElse(null));
                // The inclusive p95 of the values; KLL keeps every item below k=200, so it is exact here.
                List<Double> sorted = values.stream().sorted().toList();
                m.put("p95", sorted.isEmpty() ? null : sorted.get((int) Math.ceil(0.95 * sorted.size()) - 1));
            } else {
                Set<String> sources = new TreeSet<>();
                list.forEach(e -> sources.add(e.getSource()));
                m.put("distinct_source", (double) sources.size());
            }
            out.put(cell, m);
        });
        return out;
    }

    /** The measures compared (avg follows from sum and count; p95 is exact while a cell has < 200 values). */
    static Map<Cell, Map<String, Double>> exactMeasures(Map<Cell, Map<String, Double>> cells) {
        Map<Cell, Map<String, Double>> out = new HashMap<>();
        cells.forEach((cell, m) -> {
            Map<String, Double> kept = new TreeMap<>();
            for (String name : List.of("count", "sum", "min", "max", "p95", "distinct_source")) {
                if (m.containsKey(name)) {
                    kept.put(name, m.get(name));
                }
            }
            out.put(cell, kept);
        });
        return out;
    }

    static Map<Cell, Map<String, Double>> merged(Map<ViewKey, byte[]> latest) {
        Map<Cell, Aggregate> cells = new HashMap<>();
        latest.forEach((key, value) -> {
            if (value == null) {
                return;
            }
            ViewDefinition view = key.view().equals(PER_SOURCE.name()) ? PER_SOURCE : PER_TYPE;
            cells.computeIfAbsent(
                            new Cell(key.view(), key.group(), key.windowStartMillis()), c -> Aggregate.empty(view))
                    .merge(AggregateCodec.decode(view, value));
        });
        Map<Cell, Map<String, Double>> out = new HashMap<>();
        cells.forEach((cell, a) -> out.put(cell, a.measures()));
        return out;
    }

    /** The latest value of every key of the views topic (null: a tombstone). */
    static Map<ViewKey, byte[]> latest(String topic) {
        Map<ViewKey, byte[]> latest = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : readAll(topic)) {
            latest.put(ViewKey.decode(r.key()), r.value());
        }
        return latest;
    }

    static List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        return readAll(KAFKA.bootstrapServers(), topic);
    }

    /** Every record of {@code topic} up to its end offsets now. */
    static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrapServers, String topic) {
        return KafkaBrokerExtension.readAll(
                bootstrapServers, topic, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    static boolean hasFile(Path dir, String prefix) throws IOException {
        if (!Files.exists(dir)) {
            return false;
        }
        try (var files = Files.walk(dir)) {
            return files.anyMatch(f -> f.getFileName().toString().startsWith(prefix));
        }
    }

    static Properties props() {
        Properties props = new Properties();
        props.put("bootstrap.servers", KAFKA.bootstrapServers());
        props.put("acks", "all");
        props.put("compression.type", "lz4"); // as the gateway writes
        return props;
    }
}
