package dev.strata.batch.lake;

import dev.strata.batch.engine.ArchiveJob;
import dev.strata.batch.engine.CrashPoints;
import dev.strata.batch.engine.Engine;
import dev.strata.lake.ArchiveConflict;
import dev.strata.lake.ArchivePlan;
import dev.strata.lake.ArchiveRun;
import dev.strata.lake.ArchiveState;
import dev.strata.lake.EventsTable;
import dev.strata.schemas.kafka.KafkaClients;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.io.FileIO;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One archive cycle: every record of {@code events} appended before the cycle's cut goes into the
 * lake's {@code events} table exactly once, whatever crashes where and however many batch processes
 * race. The cut is a multiple of the bucket size, a safety margin behind the clock; per partition
 * the run takes the offsets from where the table's current snapshot says the archive stands up to
 * the first offset appended at or after the cut (the broker's LogAppendTime only grows within a
 * partition). The archive job writes the run's data files; the run commits them only if the table
 * still stands where the run was planned from ({@link EventsTable#commit}). A run that loses the
 * race deletes its files and plans again from the new state; files of a run that never committed
 * (a crash) are never read, and the lake's maintenance removes them. Records that cannot be decoded
 * are skipped and counted; the speed layer dead-letters them.
 */
public final class Archiver {

    private static final Logger LOG = LoggerFactory.getLogger(Archiver.class);

    /** Plans a run at most this often in one cycle when others keep winning the race. */
    static final int MAX_PLANS = 5;

    private final EventsTable events;
    private final Engine engine;
    private final String bootstrapServers;
    private final String registryUrl;
    private final String topic;

    public Archiver(EventsTable events, Engine engine, String bootstrapServers, String registryUrl, String topic) {
        this.events = events;
        this.engine = engine;
        this.bootstrapServers = bootstrapServers;
        this.registryUrl = registryUrl;
        this.topic = topic;
    }

    /** The cut of a cycle at {@code nowMillis}: rounded down to the bucket, a margin behind now. */
    public static long cutAt(long nowMillis, Duration bucket, Duration margin) {
        long b = bucket.toMillis();
        return Math.floorDiv(nowMillis - margin.toMillis(), b) * b;
    }

    /**
     * Archives everything appended before {@code cutMillis} that the table does not hold yet; empty
     * if nothing is new (a run with no records is not made, and the cut stays where the last run
     * left it) or another process archived it first.
     */
    public Optional<ArchiveRun> archive(long cutMillis) throws Exception {
        for (int planned = 1; ; planned++) {
            ArchiveState state = events.state();
            if (cutMillis <= state.lastCutMillis()) {
                return Optional.empty();
            }
            Optional<ArchivePlan> plan = plan(state, cutMillis);
            if (plan.isEmpty()) {
                return Optional.empty(); // nothing appended since the last run: no run, the cut stays
            }
            try {
                return Optional.of(execute(plan.get()));
            } catch (ArchiveConflict e) {
                if (planned == MAX_PLANS) {
                    throw new IllegalStateException(
                            "run " + plan.get().run() + " lost " + MAX_PLANS
                                    + " races for the events table in a row; the next cycle tries again",
                            e);
                }
                LOG.info(
                        "Run {} not committed: {}; planning again from the new state",
                        plan.get().run(),
                        e.getMessage());
            }
        }
    }

    private Optional<ArchivePlan> plan(ArchiveState state, long cutMillis) {
        Map<Integer, Long> from = new HashMap<>();
        Map<Integer, Long> until = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            // End offsets first: any record appended after this call is stamped after the cut.
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
            Map<TopicPartition, Long> atCut = new HashMap<>();
            partitions.forEach(p -> atCut.put(p, cutMillis));
            Map<TopicPartition, OffsetAndTimestamp> firstAtOrAfterCut = consumer.offsetsForTimes(atCut);
            for (TopicPartition p : partitions) {
                long start = state.offsets().getOrDefault(p.partition(), begin.get(p));
                OffsetAndTimestamp t = firstAtOrAfterCut.get(p);
                long stop = Math.min(end.get(p), t == null ? end.get(p) : t.offset());
                from.put(p.partition(), start);
                until.put(p.partition(), Math.max(start, stop));
            }
        }
        ArchivePlan plan =
                new ArchivePlan(state.lastRun() + 1, cutMillis, state, from, until, EventsTable.newAttempt());
        return plan.empty() ? Optional.empty() : Optional.of(plan);
    }

    private ArchiveRun execute(ArchivePlan plan) throws Exception {
        CrashPoints.reached("before-first-file");
        long started = System.nanoTime();
        ArchiveJob.Result result = ArchiveJob.run(
                engine, bootstrapServers, registryUrl, topic, plan, events.writers(plan.run(), plan.attempt()));
        CrashPoints.reached("before-commit");
        long snapshot;
        try {
            snapshot = events.commit(plan, result.files(), result.rows(), result.skipped());
        } catch (ArchiveConflict e) {
            delete(result.files());
            throw e;
        }
        CrashPoints.reached("after-commit");
        LOG.info(
                "Run {} committed: {} rows in {} file(s), {} undecodable skipped, cut {} ({} ms)",
                plan.run(),
                result.rows(),
                result.files().size(),
                result.skipped(),
                plan.cutMillis(),
                (System.nanoTime() - started) / 1_000_000);
        return new ArchiveRun(
                plan.run(),
                plan.cutMillis(),
                result.rows(),
                result.skipped(),
                result.files().size(),
                snapshot,
                System.currentTimeMillis());
    }

    /** The files of a run that did not commit: no snapshot names them, so nothing else can be reading them. */
    private void delete(List<DataFile> files) {
        FileIO io = events.table().io();
        for (DataFile f : files) {
            try {
                io.deleteFile(f.location());
            } catch (RuntimeException e) {
                LOG.warn("Could not delete {} of a run that did not commit: {}", f.location(), e.toString());
            }
        }
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        KafkaClients.secure(props);
        props.put("enable.auto.commit", "false");
        props.put("isolation.level", "read_committed");
        props.put("client.id", "strata-archiver");
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
