package dev.strata.batch.views;

import dev.strata.batch.BatchMain;
import dev.strata.batch.engine.CrashPoints;
import dev.strata.schemas.Event;
import dev.strata.schemas.views.AggregateCodec;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventSerializer;
import java.io.IOException;
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
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A workload of late, out-of-order and retried events, some ids used by two sources, and an
 * independent computation of the default views.
 */
public final class BatchCycleTestKit {

    static final List<ViewDefinition> VIEWS = ViewConfig.defaults();

    private BatchCycleTestKit() {}

    public static List<Event> workload(Random random, int from, int count, List<Event> retries) {
        List<Event> events = new ArrayList<>();
        Instant now = Instant.now();
        for (int i = from; i < from + count; i++) {
            Instant time = i % 25 == 0
                    ? now.minus(Duration.ofHours(2 + random.nextInt(4)))
                    : now.minusMillis(random.nextInt(600_000));
            events.add(Event.newBuilder()
                    .setId("b-" + i)
                    .setSource("dev-" + random.nextInt(5))
                    .setType(i % 4 == 0 ? "humidity" : "temperature")
                    .setTime(time)
                    .setIngestTime(now)
                    .setValue(i % 9 == 0 ? null : Math.round(random.nextGaussian() * 1000) / 100.0)
                    .setAttributes(Map.of())
                    .build());
            if (i % 17 == 0) { // another device numbers its events the same way: it counts too
                events.add(Event.newBuilder(events.get(events.size() - 1))
                        .setSource("other-" + i % 3)
                        .build());
            }
        }
        events.addAll(retries);
        return events;
    }

    /** Measures per cell, from the snapshot. */
    public static Map<String, Map<String, Double>> measures(Snapshot snapshot) {
        Map<String, ViewDefinition> byName = new HashMap<>();
        VIEWS.forEach(v -> byName.put(v.name(), v));
        Map<String, Map<String, Double>> out = new TreeMap<>();
        snapshot.cells().forEach((key, aggregate) -> {
            Map<String, Double> m =
                    new TreeMap<>(AggregateCodec.decode(byName.get(key.view()), AggregateCodec.encode(aggregate))
                            .measures());
            m.remove("avg");
            out.put(label(key), m);
        });
        return out;
    }

    public static String label(ViewKey key) {
        return key.view() + "|" + key.group() + "|" + key.windowStartMillis();
    }

    /** Independent of Strata's aggregates: plain Java over the distinct (source, id). */
    public static Map<String, Map<String, Double>> oracle(List<Event> sent) {
        Map<List<String>, Event> distinct = new LinkedHashMap<>();
        sent.forEach(e -> distinct.putIfAbsent(List.of(e.getSource(), e.getId()), e));
        Map<String, List<Event>> cells = new HashMap<>();
        for (Event e : distinct.values()) {
            long minute = Math.floorDiv(e.getTime().toEpochMilli(), 60_000L) * 60_000L;
            long hour = Math.floorDiv(e.getTime().toEpochMilli(), 3_600_000L) * 3_600_000L;
            cells.computeIfAbsent("events_per_source_1m|[" + e.getSource() + "]|" + minute, k -> new ArrayList<>())
                    .add(e);
            cells.computeIfAbsent("events_per_type_1h|[" + e.getType() + "]|" + hour, k -> new ArrayList<>())
                    .add(e);
        }
        Map<String, Map<String, Double>> out = new TreeMap<>();
        cells.forEach((cell, list) -> {
            Map<String, Double> m = new TreeMap<>();
            m.put("count", (double) list.size());
            List<Double> values = list.stream()
                    .map(Event::getValue)
                    .filter(v -> v != null)
                    .sorted()
                    .toList();
            if (cell.startsWith("events_per_source_1m")) {
                m.put(
                        "sum",
                        values.isEmpty()
                                ? null
                                : values.stream()
                                        .map(BigDecimal::new)
                                        .reduce(BigDecimal.ZERO, BigDecimal::add)
                                        .doubleValue());
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

    public static long pastNow() {
        long cut = System.currentTimeMillis() + 2;
        while (System.currentTimeMillis() <= cut) {
            Thread.onSpinWait();
        }
        return cut;
    }

    public static void produce(String bootstrapServers, String registryUrl, String topic, List<Event> events)
            throws Exception {
        EventSerializer serializer = new EventSerializer();
        serializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registryUrl), false);
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        props.put("acks", "all");
        try (KafkaProducer<String, Event> producer = new KafkaProducer<>(props, new StringSerializer(), serializer)) {
            List<Future<?>> sent = new ArrayList<>();
            for (Event e : events) {
                sent.add(producer.send(new ProducerRecord<>(topic, e.getSource(), e)));
            }
            for (Future<?> f : sent) {
                f.get(); // a record the broker did not take must fail the test here, not look lost later
            }
        }
    }

    public static BatchCommit latestCommit(String bootstrapServers, String topic) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        BatchCommit latest = null;
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
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

    /**
     * {@code strata batch <command> [args]} in its own JVM (its Flink jobs on a MiniCluster in that JVM),
     * with a one-millisecond bucket and no safety margin, its output and errors in one stream.
     *
     * @param crashAt the crash point to stop at, or null
     */
    public static Process batchProcess(
            String bootstrapServers,
            String registryUrl,
            Path lake,
            String eventsTopic,
            String commitsTopic,
            String crashAt,
            String... command)
            throws IOException {
        List<String> line = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-cp",
                System.getProperty("java.class.path")));
        if (crashAt != null) {
            line.add("-D" + CrashPoints.PROPERTY + "=" + crashAt);
        }
        line.add(BatchMain.class.getName());
        line.addAll(List.of(command));
        line.addAll(List.of(
                "--bootstrap-servers",
                bootstrapServers,
                "--registry-url",
                registryUrl,
                "--lake",
                lake.toString(),
                "--events-topic",
                eventsTopic,
                "--commits-topic",
                commitsTopic,
                "--bucket",
                "PT0.001S",
                "--safety-margin",
                "PT0S"));
        return new ProcessBuilder(line).redirectErrorStream(true).start();
    }
}
