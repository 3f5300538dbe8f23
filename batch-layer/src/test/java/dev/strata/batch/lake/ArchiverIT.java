package dev.strata.batch.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.batch.engine.CrashPoints;
import dev.strata.batch.engine.Engine;
import dev.strata.lake.ArchiveRun;
import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
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
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.expressions.Expressions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The archive against a real broker into the lake's Iceberg {@code events} table, read back by
 * DuckDB (an independent Parquet reader) over the files of the table's current snapshot: every Kafka
 * offset below the cut is in the table exactly once, across cycles, a crash at any point of a run,
 * and archivers racing for the same cut.
 */
class ArchiverIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final Instant BASE = Instant.parse("2026-03-01T10:00:00Z");

    static RegistryServer registry;
    static Engine engine;

    @TempDir
    Path lake;

    Lake opened;
    EventsTable events;

    @BeforeEach
    void openLake() {
        opened = Lake.open(LakeConfig.local(lake));
        events = opened.events();
    }

    @AfterEach
    void closeLake() throws Exception {
        opened.close();
    }

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
    void twoCyclesArchiveEveryRecordBeforeEachCutExactlyOnceInItsEventTimeHour() throws Exception {
        String topic = newTopic();
        produce(topic, 0, 1_000);
        long cut1 = pastNow();
        produce(topic, 1_000, 500);
        long cut2 = pastNow();
        Archiver archiver = archiver(topic);

        ArchiveRun first = archiver.archive(cut1).orElseThrow();
        ArchiveRun second = archiver.archive(cut2).orElseThrow();

        assertThat(first.rows()).isEqualTo(1_000);
        assertThat(first.skipped()).isEqualTo(1); // the undecodable record
        assertThat(second.rows()).isEqualTo(500);
        assertThat(archiver.archive(cut2)).isEmpty();
        assertThat(events.runs()).extracting(ArchiveRun::run).containsExactly(1L, 2L);
        List<DataFile> files = events.files(Expressions.alwaysTrue());
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                Statement sql = duck.createStatement()) {
            ResultSet r = sql.executeQuery(
                    "SELECT count(*), count(DISTINCT (kafka_partition, kafka_offset)), count(DISTINCT id) FROM "
                            + readParquet(files));
            r.next();
            assertThat(r.getLong(1)).isEqualTo(1_500);
            assertThat(r.getLong(2)).isEqualTo(1_500);
            assertThat(r.getLong(3)).isEqualTo(1_500);
            for (DataFile file : files) {
                // Iceberg's hour transform: hours since the epoch, the partition every row of the file is in.
                int hour = file.partition().get(0, Integer.class);
                ResultSet hours = sql.executeQuery(
                        "SELECT DISTINCT floor(epoch(time) / 3600)::INTEGER FROM " + readParquet(List.of(file)));
                hours.next();
                assertThat(hours.getInt(1))
                        .as("hour of the rows of %s", file.location())
                        .isEqualTo(hour);
                assertThat(hours.next())
                        .as("rows of %s outside its partition", file.location())
                        .isFalse();
            }
            ResultSet codec = sql.executeQuery("SELECT DISTINCT compression FROM parquet_metadata("
                    + files.stream().map(f -> "'" + local(f) + "'").collect(Collectors.joining(",", "[", "]")) + ")");
            codec.next();
            assertThat(codec.getString(1)).isEqualToIgnoringCase("ZSTD");
        }
    }

    @ParameterizedTest(name = "crash {0}")
    @ValueSource(strings = {"before-first-file", "mid-write", "before-commit", "after-commit"})
    void aCrashAnywhereLeavesEachRecordInTheTableExactlyOnceAfterTheNextRun(String point) throws Exception {
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

        Optional<ArchiveRun> next = archiver(topic).archive(cut);

        assertThat(next.isPresent()).as("a run still to make").isEqualTo(!point.equals("after-commit"));
        assertThat(events.runs()).singleElement().extracting(ArchiveRun::run).isEqualTo(1L);
        assertExactlyOnce(2_500);
    }

    @Test
    void archiversRacingForOneCutCommitOneRunAndTheOthersSaySoAndWriteNothing() throws Exception {
        String topic = newTopic();
        produce(topic, 0, 1_200);
        long cut = pastNow();
        int racers = 4;
        ExecutorService pool = Executors.newFixedThreadPool(racers);
        List<Lake> lakes = new ArrayList<>();
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Optional<ArchiveRun>>> results = new ArrayList<>();
            for (int i = 0; i < racers; i++) {
                Lake own = Lake.open(LakeConfig.local(lake)); // each as if another process: its own catalog connection
                lakes.add(own);
                Archiver racer = new Archiver(own.events(), engine, KAFKA.bootstrapServers(), registry.url(), topic);
                results.add(pool.submit(() -> {
                    start.await();
                    return racer.archive(cut);
                }));
            }
            start.countDown();
            int committed = 0;
            for (Future<Optional<ArchiveRun>> r : results) {
                committed += r.get().isPresent() ? 1 : 0;
            }
            assertThat(committed).isEqualTo(1);
        } finally {
            pool.shutdownNow();
            for (Lake l : lakes) {
                l.close();
            }
        }
        assertThat(events.runs()).singleElement().extracting(ArchiveRun::run).isEqualTo(1L);
        assertExactlyOnce(1_200);
        try (Stream<Path> written = Files.walk(lake)) {
            assertThat(written.filter(f -> f.toString().endsWith(".parquet")).count())
                    .as("data files left by the runs that lost (they delete theirs)")
                    .isEqualTo(events.files(Expressions.alwaysTrue()).size());
        }
    }

    @Test
    void aRegistryThatCannotAnswerFailsTheArchiveInsteadOfSkippingGoodRecords() throws Exception {
        String topic = newTopic();
        produce(topic, 0, 300);
        long cut = pastNow();
        int closedPort = LocalPorts.free();
        Archiver registryDown =
                new Archiver(events, engine, KAFKA.bootstrapServers(), "http://127.0.0.1:" + closedPort, topic);

        assertThatThrownBy(() -> registryDown.archive(cut)).hasStackTraceContaining("cannot give the schema with id");
        assertThat(events.runs()).isEmpty();
        ArchiveRun run = archiver(topic).archive(cut).orElseThrow();

        assertThat(run.cutMillis()).isEqualTo(cut);
        assertThat(run.rows()).isEqualTo(300);
        assertThat(run.skipped()).isEqualTo(1); // only the record that is really undecodable
    }

    /** Every offset of the table's current snapshot once, and as many as expected. */
    void assertExactlyOnce(long expected) throws Exception {
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                Statement sql = duck.createStatement()) {
            ResultSet r = sql.executeQuery("SELECT count(*), count(DISTINCT (kafka_partition, kafka_offset)) FROM "
                    + readParquet(events.files(Expressions.alwaysTrue())));
            r.next();
            assertThat(r.getLong(1)).isEqualTo(expected);
            assertThat(r.getLong(2)).isEqualTo(expected);
        }
    }

    /** DuckDB's read_parquet over exactly the given files (Iceberg's planned file list). */
    static String readParquet(List<DataFile> files) {
        return "read_parquet("
                + files.stream().map(f -> "'" + local(f) + "'").collect(Collectors.joining(",", "[", "]")) + ")";
    }

    static String local(DataFile file) {
        return file.location().replaceFirst("^file:", "");
    }

    Archiver archiver(String topic) {
        return new Archiver(events, engine, KAFKA.bootstrapServers(), registry.url(), topic);
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
