package dev.strata.batch.lake;

import dev.strata.batch.lake.Manifest.Commit;
import dev.strata.batch.lake.Manifest.Intent;
import dev.strata.batch.lake.Manifest.OffsetRange;
import dev.strata.schemas.Event;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventDeserializer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One archive cycle: every record of {@code events} appended before the cycle's cut goes into the
 * lake exactly once, whatever crashes where. The cut is a multiple of the bucket size, a safety
 * margin behind the clock; per partition the run takes the offsets from where the last committed
 * run stopped up to the first offset appended at or after the cut (the broker's LogAppendTime only
 * grows within a partition). Order: record the intent → write files (hidden) → commit → publish.
 * A pending intent found at start is recovered: its files are deleted and exactly it re-executed.
 * Records that cannot be decoded are skipped and counted; the speed layer dead-letters them.
 */
public final class Archiver {

    private static final Logger LOG = LoggerFactory.getLogger(Archiver.class);

    /** Called at the points a crash test kills the run; production passes {@link #NONE}. */
    public interface FailurePoints {
        void reached(String point) throws IOException;
    }

    public static final FailurePoints NONE = point -> { };

    private final Path eventsDir;
    private final Manifest manifest;
    private final String bootstrapServers;
    private final String registryUrl;
    private final String topic;
    private final FailurePoints failures;

    public Archiver(Path lakeRoot, String bootstrapServers, String registryUrl, String topic, FailurePoints failures)
            throws IOException {
        this.eventsDir = lakeRoot.resolve("events");
        this.manifest = new Manifest(lakeRoot);
        this.bootstrapServers = bootstrapServers;
        this.registryUrl = registryUrl;
        this.topic = topic;
        this.failures = failures;
    }

    /** The cut of a cycle at {@code nowMillis}: rounded down to the bucket, a margin behind now. */
    public static long cutAt(long nowMillis, Duration bucket, Duration margin) {
        long b = bucket.toMillis();
        return Math.floorDiv(nowMillis - margin.toMillis(), b) * b;
    }

    /** Finishes or redoes whatever a crash interrupted. Returns the commit of a re-executed run. */
    public Optional<Commit> recover() throws Exception {
        for (Commit c : manifest.commits()) {
            ArchiveWriter.publish(eventsDir, c.files()); // a crash between commit and publish
        }
        Optional<Intent> pending = manifest.pending();
        if (pending.isEmpty()) {
            return Optional.empty();
        }
        Intent intent = pending.get();
        int deleted = ArchiveWriter.deleteRun(eventsDir, intent.run());
        LOG.info("Recovering run {}: deleted {} file(s) it left, re-executing its intent", intent.run(), deleted);
        return Optional.of(execute(intent));
    }

    /**
     * Recovers, then archives everything appended before {@code cutMillis}; empty if nothing new (a
     * run with no records is not made, and the cut stays where the last run left it).
     */
    public Optional<Commit> archive(long cutMillis) throws Exception {
        recover();
        List<Commit> commits = manifest.commits();
        long lastCut = commits.isEmpty() ? Long.MIN_VALUE : commits.get(commits.size() - 1).cutMillis();
        if (cutMillis <= lastCut) {
            return Optional.empty();
        }
        Map<Integer, Long> done = new HashMap<>();
        for (Commit c : commits) {
            c.ranges().forEach(r -> done.merge(r.partition(), r.until(), Math::max));
        }
        List<OffsetRange> ranges = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            // End offsets first: any record appended after this call is stamped after the cut.
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
            Map<TopicPartition, Long> atCut = new HashMap<>();
            partitions.forEach(p -> atCut.put(p, cutMillis));
            Map<TopicPartition, OffsetAndTimestamp> firstAtOrAfterCut = consumer.offsetsForTimes(atCut);
            for (TopicPartition p : partitions) {
                long from = done.getOrDefault(p.partition(), begin.get(p));
                OffsetAndTimestamp t = firstAtOrAfterCut.get(p);
                long until = Math.min(end.get(p), t == null ? end.get(p) : t.offset());
                ranges.add(new OffsetRange(p.partition(), from, Math.max(from, until)));
            }
        }
        if (ranges.stream().allMatch(r -> r.until() == r.from())) {
            return Optional.empty(); // nothing appended since the last run: no run, the cut stays
        }
        Intent intent = new Intent(Manifest.VERSION, manifest.lastRun() + 1, cutMillis, ranges);
        manifest.recordIntent(intent);
        return Optional.of(execute(intent));
    }

    private Commit execute(Intent intent) throws Exception {
        failures.reached("before-first-file");
        EventDeserializer deserializer = new EventDeserializer();
        deserializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registryUrl), false);
        long skipped = 0;
        List<String> files;
        long rows;
        try (KafkaConsumer<byte[], byte[]> consumer = consumer();
                ArchiveWriter writer = new ArchiveWriter(eventsDir, intent.run())) {
            Map<TopicPartition, Long> until = new HashMap<>();
            for (OffsetRange r : intent.ranges()) {
                if (r.until() > r.from()) {
                    until.put(new TopicPartition(topic, r.partition()), r.until());
                }
            }
            consumer.assign(until.keySet());
            for (OffsetRange r : intent.ranges()) {
                if (r.until() > r.from()) {
                    consumer.seek(new TopicPartition(topic, r.partition()), r.from());
                }
            }
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            while (until.keySet().stream().anyMatch(p -> consumer.position(p) < until.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("run " + intent.run() + " could not read its offset ranges in 10 minutes");
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition p = new TopicPartition(record.topic(), record.partition());
                    if (record.offset() >= until.get(p)) {
                        continue;
                    }
                    Event event;
                    try {
                        event = deserializer.deserialize(topic, record.value());
                    } catch (RuntimeException e) {
                        skipped++;
                        continue;
                    }
                    boolean first = writer.rows() == 0;
                    writer.add(LakeSchema.row(event, record.partition(), record.offset(), record.timestamp(), intent.run()));
                    if (!first && writer.rows() % 1000 == 0) {
                        failures.reached("mid-write");
                    }
                }
            }
            files = writer.finish();
            rows = writer.rows();
        }
        failures.reached("before-commit");
        Commit commit = new Commit(Manifest.VERSION, intent.run(), intent.cutMillis(), intent.ranges(), files, rows, skipped);
        manifest.commit(commit);
        failures.reached("after-commit");
        ArchiveWriter.publish(eventsDir, files);
        LOG.info("Run {} committed: {} rows in {} file(s), {} undecodable skipped, cut {}", intent.run(), rows, files.size(),
                skipped, intent.cutMillis());
        return commit;
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        props.put("enable.auto.commit", "false");
        props.put("isolation.level", "read_committed");
        props.put("client.id", "strata-archiver");
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

}
