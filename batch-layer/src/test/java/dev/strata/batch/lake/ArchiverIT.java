package dev.strata.batch.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.batch.engine.CrashPoints;
import dev.strata.batch.engine.Engine;
import dev.strata.registry.RegistryServer;
import dev.strata.schemas.Event;
import dev.strata.schemas.net.LocalPorts;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventSerializer;
import dev.strata.testing.KafkaBrokerExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The archive against a real broker, read back by DuckDB (an independent Parquet reader): every
 * Kafka offset below the cut is in the lake exactly once, across cycles and across a crash at any
 * point of a run.
 */
class ArchiverIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final Instant BASE = Instant.parse("2026-03-01T10:00:00Z");

    static RegistryServer registry;
    static Engine engine;

    @TempDir
    Path lake;

    @BeforeAll
    static void startRegistry() throws Exception {
        registry = RegistryServer.start(RegistryServer.Config.of(KAFKA.bootstrapServers())
                .withPort(0)
                .withTopic("archive-schemas-" + ProcessHandle.current().pid()));
        engine = Engine.local(2);
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        registry.close();
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void twoCyclesArchiveEveryRecordBeforeEachCutExactlyOnceInHivePartitions() throws Exception {
        String topic = newTopic();
        produce(topic, 0, 1_000);
        long cut1 = pastNow();
        produce(topic, 1_000, 500);
        long cut2 = pastNow();
        Archiver archiver = archiver(topic);

        Manifest.Commit first = archiver.archive(cut1).orElseThrow();
        Manifest.Commit second = archiver.archive(cut2).orElseThrow();

        assertThat(first.rows()).isEqualTo(1_000);
        assertThat(first.skipped()).isEqualTo(1); // the undecodable record
        assertThat(second.rows()).isEqualTo(500);
        assertThat(archiver.archive(cut2)).isEmpty();
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                Statement sql = duck.createStatement()) {
            String rows = "read_parquet('" + lake.resolve("events") + "/**/*.parquet', hive_partitioning = true)";
            ResultSet r = sql.executeQuery(
                    "SELECT count(*), count(DISTINCT (kafka_partition, kafka_offset)), count(DISTINCT id),"
                            + " count(*) FILTER (WHERE strftime(time, '%Y-%m-%d') <> CAST(date AS VARCHAR)"
                            + "   OR CAST(strftime(time, '%H') AS INTEGER) <> CAST(hour AS INTEGER)) FROM " + rows);
            r.next();
            assertThat(r.getLong(1)).isEqualTo(1_500);
            assertThat(r.getLong(2)).isEqualTo(1_500);
            assertThat(r.getLong(3)).isEqualTo(1_500);
            assertThat(r.getLong(4))
                    .as("rows outside their event-time partition")
                    .isZero();
            ResultSet codec = sql.executeQuery(
                    "SELECT DISTINCT compression FROM parquet_metadata('" + lake.resolve("events") + "/**/*.parquet')");
            codec.next();
            assertThat(codec.getString(1)).isEqualToIgnoringCase("ZSTD");
        }
    }

    @ParameterizedTest(name = "crash {0}")
    @ValueSource(strings = {"before-first-file", "mid-write", "before-commit", "after-commit", "between-moves"})
    void aCrashAnywhereLeavesEachRecordInTheLakeExactlyOnceAfterRecovery(String point) throws Exception {
        String topic = newTopic();
        produce(topic, 0, 2_500);
        long cut = pastNow();
        CrashPoints.arm(point);
        try {
            assertThatThrownBy(() -> archiver(topic).archive(cut))
                    .hasStackTraceContaining("injected crash at " + point);
        } finally {
            CrashPoints.arm(null);
        }

        archiver(topic).archive(cut);

        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                Statement sql = duck.createStatement()) {
            ResultSet r = sql.executeQuery(
                    "SELECT count(*), count(DISTINCT (kafka_partition, kafka_offset)) FROM read_parquet('"
                            + lake.resolve("events") + "/**/*.parquet')");
            r.next();
            assertThat(r.getLong(1)).isEqualTo(2_500);
            assertThat(r.getLong(2)).isEqualTo(2_500);
        }
        try (Stream<Path> files = Files.walk(lake)) {
            assertThat(files.map(Path::toString))
                    .as("staged or in-progress files left")
                    .noneMatch(f -> f.contains("_staging/run-"))
                    .noneMatch(f -> f.contains("inprogress"));
        }
    }

    @Test
    void aRegistryThatCannotAnswerFailsTheArchiveInsteadOfSkippingGoodRecords() throws Exception {
        String topic = newTopic();
        produce(topic, 0, 300);
        long cut = pastNow();
        int closedPort = LocalPorts.free();
        Archiver registryDown = new Archiver(
                LakeFs.root(lake.toString()),
                engine,
                KAFKA.bootstrapServers(),
                "http://127.0.0.1:" + closedPort,
                topic);

        assertThatThrownBy(() -> registryDown.archive(cut)).hasStackTraceContaining("cannot give the schema with id");
        Manifest.Commit commit = archiver(topic).recover().orElseThrow(); // the failed run's intent, executed again

        assertThat(commit.cutMillis()).isEqualTo(cut);
        assertThat(commit.rows()).isEqualTo(300);
        assertThat(commit.skipped()).isEqualTo(1); // only the record that is really undecodable
    }

    Archiver archiver(String topic) {
        return new Archiver(LakeFs.root(lake.toString()), engine, KAFKA.bootstrapServers(), registry.url(), topic);
    }

    String newTopic() {
        return KAFKA.createTopic("archive-events", 3, Map.of("message.timestamp.type", "LogAppendTime"));
    }

    /** A cut just past the clock, once the clock has passed it: later appends are after it. */
    static long pastNow() {
        long cut = System.currentTimeMillis() + 1;
        while (System.currentTimeMillis() <= cut) {
            Thread.onSpinWait();
        }
        return cut;
    }

    static void produce(String topic, int from, int count) throws Exception {
        EventSerializer serializer = new EventSerializer();
        serializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registry.url()), false);
        Properties props = new Properties();
        props.put("bootstrap.servers", KAFKA.bootstrapServers());
        props.put("acks", "all");
        try (KafkaProducer<String, Event> producer = new KafkaProducer<>(props, new StringSerializer(), serializer);
                KafkaProducer<byte[], byte[]> raw =
                        new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<Future<?>> sent = new ArrayList<>();
            for (int i = from; i < from + count; i++) {
                Instant time = BASE.plus(Duration.ofMinutes(i % 300)); // spread over five hours
                sent.add(producer.send(new ProducerRecord<>(
                        topic,
                        "s-" + (i % 7),
                        Event.newBuilder()
                                .setId("a-" + i)
                                .setSource("s-" + (i % 7))
                                .setType("t")
                                .setTime(time)
                                .setIngestTime(time)
                                .setValue((double) i)
                                .setAttributes(Map.of("k", "v"))
                                .build())));
            }
            for (Future<?> f : sent) {
                f.get(); // a record the broker did not take must fail the test here, not look lost later
            }
            if (from == 0) {
                raw.send(new ProducerRecord<>(topic, null, "garbage".getBytes(StandardCharsets.UTF_8)))
                        .get();
            }
            producer.flush();
        }
    }
}
