package dev.strata.speed.bench;

import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewKey;
import dev.strata.speed.SpeedMain;
import dev.strata.speed.job.KafkaWiring;
import dev.strata.speed.job.SpeedLayerJob;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.apache.commons.io.FileUtils;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The paced part of {@code strata bench speed}: the production job on RocksDB with checkpoints (a
 * fresh topic and state), events sent at a fixed rate; one in {@value SpeedBench#PROBE_EVERY} is a
 * probe whose unique id a probe view groups by, so the first upsert of its key read from
 * {@code speed-views} is when it became visible. From each event's intended send time; the first
 * {@code --latency-settle} after the job's start is reported apart from the measured part. The run's
 * events are encoded (Avro, Confluent wire format) before it starts: the producer shares the machine
 * with the job, and in a deployment it runs elsewhere, so during the run it only sends bytes.
 */
final class PacedLatency {

    /**
     * The paced run's latencies after its settling part, those of the settling part, how many probes
     * never showed, and the slowest probe of each 5 s.
     */
    record Result(Histogram histogram, Histogram settling, long missing, List<Long> slowestPerWindow) {}

    /** The sender's shortest sleep: waking for every event at tens of thousands a second costs a core's share. */
    private static final long TICK_NANOS = 1_000_000;

    private final SpeedBench bench;

    PacedLatency(SpeedBench bench) {
        this.bench = bench;
    }

    /** The job on RocksDB with checkpoints, events paced at {@code rate}; probes timed to their upserts. */
    Result run(double rate) throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String eventsTopic = "bench-latency-events-" + suffix;
        String viewsTopic = "bench-latency-views-" + suffix;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bench.bootstrapServers))) {
            admin.createTopics(List.of(
                            new NewTopic(eventsTopic, bench.partitions, (short) 1)
                                    .configs(Map.of("message.timestamp.type", "LogAppendTime")),
                            new NewTopic(viewsTopic, bench.partitions, (short) 1)))
                    .all()
                    .get();
        }
        Duration paced = bench.latencySettle.plus(bench.latencyDuration);
        int count = (int) Math.ceil(rate * paced.toNanos() / 1e9);
        SpeedBench.say(String.format(Locale.ROOT, "latency: encoding the run's %,d events before it starts", count));
        BenchEvents.Encoded encoded = bench.workload.encode(eventsTopic, 0, count, new Random(11));
        Path dir = bench.data.resolve(UUID.randomUUID().toString());
        Configuration conf = SpeedMain.localConfiguration(dir, bench.checkpointInterval);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(conf);
        env.setParallelism(bench.parallelism);
        KafkaWiring wiring = bench.wiring(eventsTopic, viewsTopic, "bench-latency-" + suffix);
        new SpeedLayerJob(
                        wiring.events(),
                        wiring.commits(),
                        wiring.views(),
                        wiring.deadLetters(),
                        new SpeedLayerJob.Settings(
                                bench.views, CutSettings.DEFAULTS, Duration.parse(SpeedLayerJob.DEFAULT_EMIT_INTERVAL)))
                .build(env);
        JobClient job = env.executeAsync("bench-speed-latency");

        int probes = (int) Math.ceil(rate * paced.toSeconds() / SpeedBench.PROBE_EVERY) + 1;
        long[] intendedMillis = new long[probes];
        boolean[] seen = new boolean[probes];
        long[] latencies = new long[probes];
        AtomicBoolean reading = new AtomicBoolean(true);
        AtomicLong warmupSeenAt = new AtomicLong();
        Thread reader = new Thread(
                () -> readUpserts(viewsTopic, intendedMillis, seen, latencies, reading, warmupSeenAt), "upserts");
        reader.start();
        try (KafkaProducer<byte[], byte[]> producer = bench.workload.bytesProducer()) {
            // One probe before the measured run, so the job is running (and its source assigned) when it starts.
            SpeedBench.say("latency: waiting for the job to show a first probe");
            long deadline = System.currentTimeMillis() + 120_000;
            while (warmupSeenAt.get() == 0 && System.currentTimeMillis() < deadline) {
                producer.send(
                        bench.workload.encode(eventsTopic, -1, 1, new Random(1)).get(eventsTopic, 0));
                producer.flush();
                Thread.sleep(500);
            }
            if (warmupSeenAt.get() == 0) {
                throw new IllegalStateException("the speed job showed no probe within 120 s");
            }
            SpeedBench.say(String.format(
                    Locale.ROOT,
                    "latency: %,.0f events/s for %d s, the first %d s not counted",
                    rate,
                    paced.toSeconds(),
                    bench.latencySettle.toSeconds()));
            double intervalNanos = 1e9 / rate;
            long startNanos = System.nanoTime();
            long startMillis = System.currentTimeMillis();
            long endNanos = startNanos + paced.toNanos();
            for (int i = 0; i < count; i++) {
                long intended = startNanos + (long) (i * intervalNanos);
                if (intended >= endNanos) {
                    break;
                }
                long now;
                while ((now = System.nanoTime()) < intended) {
                    // At least a tick: the events due by then are sent together, as a client's batch would
                    // be, and each is still timed from its own intended send time.
                    LockSupport.parkNanos(Math.max(intended - now, TICK_NANOS));
                }
                if (i % SpeedBench.PROBE_EVERY == 0) {
                    intendedMillis[(int) (i / SpeedBench.PROBE_EVERY)] =
                            startMillis + (intended - startNanos) / 1_000_000;
                }
                producer.send(encoded.get(eventsTopic, i));
            }
            producer.flush();
        }
        Thread.sleep(5_000); // stragglers: an upsert is at most one emit interval and a fetch away
        reading.set(false);
        reader.join();
        job.cancel().get();
        FileUtils.deleteQuietly(dir.toFile());
        Histogram histogram = new Histogram(TimeUnit.MINUTES.toMillis(10), 3);
        Histogram settling = new Histogram(TimeUnit.MINUTES.toMillis(10), 3);
        long settled = intendedMillis[0] + bench.latencySettle.toMillis();
        long sent = 0;
        long missing = 0;
        for (int p = 0; p < probes; p++) {
            if (intendedMillis[p] == 0) {
                continue;
            }
            sent++;
            if (!seen[p]) {
                missing++;
            } else {
                (intendedMillis[p] < settled ? settling : histogram).recordValue(latencies[p]);
            }
        }
        SpeedBench.say("latency: " + sent + " probes sent, " + missing + " never seen");
        List<Long> slowest = slowestPerWindow(intendedMillis, latencies);
        SpeedBench.say("latency: the slowest probe of each 5 s of the run (ms): " + slowest);
        return new Result(histogram, settling, missing, slowest);
    }

    private void readUpserts(
            String topic,
            long[] intendedMillis,
            boolean[] seen,
            long[] latencies,
            AtomicBoolean reading,
            AtomicLong warmupSeenAt) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bench.bootstrapServers);
        props.put("group.id", "bench-latency-reader-" + UUID.randomUUID());
        props.put("auto.offset.reset", "earliest");
        props.put("fetch.max.wait.ms", "10");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            while (reading.get()) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(20));
                long now = System.currentTimeMillis();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    ViewKey key = ViewKey.decode(r.key());
                    if (!key.view().equals(SpeedBench.PROBE_VIEW) || r.value() == null) {
                        continue;
                    }
                    long seq = Long.parseLong(key.group().get(0));
                    if (seq < 0) {
                        warmupSeenAt.compareAndSet(0, now);
                        continue;
                    }
                    int p = (int) (seq / SpeedBench.PROBE_EVERY);
                    if (!seen[p] && intendedMillis[p] != 0) {
                        seen[p] = true;
                        latencies[p] = Math.max(0, now - intendedMillis[p]);
                    }
                }
            }
        }
    }

    /** Where in the run the latency was: the slowest probe of each 5 s window, by intended send time. */
    private static List<Long> slowestPerWindow(long[] intendedMillis, long[] latencies) {
        List<Long> slowest = new ArrayList<>();
        for (int p = 0; p < intendedMillis.length && intendedMillis[p] != 0; p++) {
            int window = (int) ((intendedMillis[p] - intendedMillis[0]) / 5_000);
            while (slowest.size() <= window) {
                slowest.add(0L);
            }
            slowest.set(window, Math.max(slowest.get(window), latencies[p]));
        }
        return slowest;
    }
}
