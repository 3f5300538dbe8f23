package dev.strata.batch.views;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.batch.lake.Archiver;
import dev.strata.kafka.KafkaBrokerExtension;
import dev.strata.registry.RegistryServer;
import dev.strata.schemas.Event;
import dev.strata.schemas.views.AggregateCodec;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventSerializer;
import java.math.BigDecimal;
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
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two batch cycles over late, out-of-order and retried events: the snapshot equals an independent
 * computation over the distinct events, is announced on batch-commits, and a full replay gives the
 * same snapshot as the incremental cycles.
 */
class BatchCycleIT {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();
    static final List<ViewDefinition> VIEWS = ViewConfig.defaults();

    @TempDir Path lake;

    @Test
    void incrementalSnapshotsEqualAnIndependentComputationAndAFullReplay() throws Exception {
        String events = KAFKA.createTopic("batch-events", 3, Map.of("message.timestamp.type", "LogAppendTime"));
        String commits = KAFKA.createTopic("batch-commits", 1, Map.of("cleanup.policy", "compact"));
        try (RegistryServer registry = RegistryServer.start(RegistryServer.Config.of(KAFKA.bootstrapServers()).withPort(0)
                .withTopic("batch-schemas-" + ProcessHandle.current().pid()))) {
            Archiver archiver = new Archiver(lake, KAFKA.bootstrapServers(), registry.url(), events, Archiver.NONE);
            // A one-millisecond bucket and no margin: the test's cuts fall right after what it produced.
            BatchCycle cycle = new BatchCycle(lake, archiver,
                    new BatchCycle.Settings(VIEWS, Duration.ofMillis(1), Duration.ZERO, Duration.ofHours(24), 5),
                    KAFKA.bootstrapServers(), commits);
            Random random = new Random(11);
            List<Event> first = workload(random, 0, 800, List.of());
            produce(registry.url(), events, first);
            long now1 = pastNow();
            BatchCommit c1 = cycle.run(now1).orElseThrow();
            // The second batch resends some ids of the first (client retries across cycles).
            List<Event> second = workload(random, 800, 400, first.subList(0, 50));
            produce(registry.url(), events, second);
            BatchCommit c2 = cycle.run(pastNow()).orElseThrow();

            assertThat(c2.run()).isGreaterThan(c1.run());
            Snapshot snapshot = cycle.currentSnapshot();
            List<Event> all = new ArrayList<>(first);
            all.addAll(second);
            assertThat(measures(snapshot)).isEqualTo(oracle(all));
            assertThat(measures(cycle.replay())).isEqualTo(measures(snapshot));

            BatchCommit announced = latestCommit(commits);
            assertThat(announced).isEqualTo(c2);
            assertThat(lake.resolve(announced.snapshot())).exists();
            assertThat(cycle.run(pastNow())).isEmpty();

            // Replay with unchanged logic: nothing would change.
            assertThat(BatchCycle.diff(cycle.currentSnapshot(), cycle.replay(BatchCycle.ReplayScope.ALL))).isEmpty();
            // A changed definition (humidity left out of the per-type view), replayed for that view only.
            List<ViewDefinition> changed = List.of(VIEWS.get(0), new ViewDefinition(VIEWS.get(1).name(), java.util.Set.of("temperature"),
                    Map.of(), VIEWS.get(1).groupBy(), VIEWS.get(1).window(), VIEWS.get(1).measures()));
            BatchCycle newLogic = new BatchCycle(lake, archiver,
                    new BatchCycle.Settings(changed, Duration.ofMillis(1), Duration.ZERO, Duration.ofHours(24), 5),
                    KAFKA.bootstrapServers(), commits);
            assertThat(cycle.changedViews()).isEmpty();
            assertThat(newLogic.changedViews()).singleElement().asString()
                    .startsWith("view events_per_type_1h changed since the current snapshot was computed: run ./strata batch replay --view events_per_type_1h");
            Snapshot before = newLogic.currentSnapshot();
            Snapshot replayed = newLogic.replay(new BatchCycle.ReplayScope(java.util.Optional.of("events_per_type_1h"),
                    java.util.Optional.empty(), java.util.Optional.empty()));
            List<BatchCycle.Change> changes = BatchCycle.diff(before, replayed);
            assertThat(changes).isNotEmpty().allSatisfy(c -> {
                assertThat(c.cell().view()).isEqualTo("events_per_type_1h");
                assertThat(c.cell().group()).containsExactly("humidity");
                assertThat(c.after()).isNull();
            });
            BatchCommit replayCommit = newLogic.publish(replayed);
            assertThat(replayCommit.cutMillis()).isEqualTo(c2.cutMillis());
            assertThat(newLogic.changedViews()).isEmpty();
            assertThat(latestCommit(commits)).isEqualTo(replayCommit);

            // Rollback: the snapshot before the replay is current again, with the same cut.
            BatchCommit rolledBack = newLogic.rollback();
            assertThat(rolledBack.cutMillis()).isEqualTo(c2.cutMillis());
            assertThat(measures(cycle.currentSnapshot())).isEqualTo(oracle(all));
            assertThat(latestCommit(commits)).isEqualTo(rolledBack);
        }
    }

    static List<Event> workload(Random random, int from, int count, List<Event> retries) {
        List<Event> events = new ArrayList<>();
        Instant now = Instant.now();
        for (int i = from; i < from + count; i++) {
            Instant time = i % 25 == 0 ? now.minus(Duration.ofHours(2 + random.nextInt(4))) : now.minusMillis(random.nextInt(600_000));
            events.add(Event.newBuilder().setId("b-" + i).setSource("dev-" + random.nextInt(5))
                    .setType(i % 4 == 0 ? "humidity" : "temperature").setTime(time).setIngestTime(now)
                    .setValue(i % 9 == 0 ? null : Math.round(random.nextGaussian() * 1000) / 100.0).setAttributes(Map.of()).build());
        }
        events.addAll(retries);
        return events;
    }

    /** Measures per cell, from the snapshot. */
    static Map<String, Map<String, Double>> measures(Snapshot snapshot) {
        Map<String, ViewDefinition> byName = new HashMap<>();
        VIEWS.forEach(v -> byName.put(v.name(), v));
        Map<String, Map<String, Double>> out = new TreeMap<>();
        snapshot.cells().forEach((key, aggregate) -> {
            Map<String, Double> m = new TreeMap<>(AggregateCodec.decode(byName.get(key.view()), AggregateCodec.encode(aggregate)).measures());
            m.remove("avg");
            out.put(label(key), m);
        });
        return out;
    }

    static String label(ViewKey key) {
        return key.view() + "|" + key.group() + "|" + key.windowStartMillis();
    }

    /** Independent of Strata's aggregates: plain Java over the distinct ids. */
    static Map<String, Map<String, Double>> oracle(List<Event> sent) {
        Map<String, Event> distinct = new LinkedHashMap<>();
        sent.forEach(e -> distinct.putIfAbsent(e.getId(), e));
        Map<String, List<Event>> cells = new HashMap<>();
        for (Event e : distinct.values()) {
            long minute = Math.floorDiv(e.getTime().toEpochMilli(), 60_000L) * 60_000L;
            long hour = Math.floorDiv(e.getTime().toEpochMilli(), 3_600_000L) * 3_600_000L;
            cells.computeIfAbsent("events_per_source_1m|[" + e.getSource() + "]|" + minute, k -> new ArrayList<>()).add(e);
            cells.computeIfAbsent("events_per_type_1h|[" + e.getType() + "]|" + hour, k -> new ArrayList<>()).add(e);
        }
        Map<String, Map<String, Double>> out = new TreeMap<>();
        cells.forEach((cell, list) -> {
            Map<String, Double> m = new TreeMap<>();
            m.put("count", (double) list.size());
            List<Double> values = list.stream().map(Event::getValue).filter(v -> v != null).sorted().toList();
            if (cell.startsWith("events_per_source_1m")) {
                m.put("sum", values.isEmpty() ? null : values.stream().map(BigDecimal::new).reduce(BigDecimal.ZERO, BigDecimal::add).doubleValue());
                m.put("min", values.isEmpty() ? null : values.get(0));
                m.put("max", values.isEmpty() ? null : values.get(values.size() - 1));
                m.put("p95", values.isEmpty() ? null : values.get((int) Math.ceil(0.95 * values.size()) - 1));
            } else {
                TreeSet<String> sources = new TreeSet<>();
                list.forEach(e -> sources.add(e.getSource()));
                m.put("distinct_source", (double) sources.size());
            }
            out.put(cell, m);
        });
        return out;
    }

    static long pastNow() {
        long cut = System.currentTimeMillis() + 2;
        while (System.currentTimeMillis() <= cut) {
            Thread.onSpinWait();
        }
        return cut;
    }

    static void produce(String registryUrl, String topic, List<Event> events) throws Exception {
        EventSerializer serializer = new EventSerializer();
        serializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registryUrl), false);
        Properties props = new Properties();
        props.put("bootstrap.servers", KAFKA.bootstrapServers());
        props.put("acks", "all");
        try (KafkaProducer<String, Event> producer = new KafkaProducer<>(props, new StringSerializer(), serializer)) {
            for (Event e : events) {
                producer.send(new ProducerRecord<>(topic, e.getSource(), e));
            }
        }
    }

    static BatchCommit latestCommit(String topic) {
        Properties props = new Properties();
        props.put("bootstrap.servers", KAFKA.bootstrapServers());
        BatchCommit latest = null;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition p = new TopicPartition(topic, 0);
            consumer.assign(List.of(p));
            consumer.seekToBeginning(List.of(p));
            long end = consumer.endOffsets(List.of(p)).get(p);
            while (consumer.position(p) < end) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    latest = BatchCommit.decode(r.value());
                }
            }
        }
        return latest;
    }
}
