package dev.strata.batch.lake;

import dev.strata.batch.engine.ArchiveJob;
import dev.strata.batch.engine.CrashPoints;
import dev.strata.batch.engine.Engine;
import dev.strata.batch.lake.Manifest.Commit;
import dev.strata.batch.lake.Manifest.Intent;
import dev.strata.batch.lake.Manifest.OffsetRange;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.flink.core.fs.Path;
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
 * grows within a partition). Order: record the intent → the archive job (a Flink batch job) writes
 * the files into {@code _staging/run-N/} → commit (the manifest entry names the files) → move the
 * files into {@code events/}. A pending intent found at start is recovered: its staging directory
 * is deleted and exactly the intent re-executed; a committed run's files still in staging are moved.
 * Records that cannot be decoded are skipped and counted; the speed layer dead-letters them.
 */
public final class Archiver {

    private static final Logger LOG = LoggerFactory.getLogger(Archiver.class);

    private final Path eventsDir;
    private final Path stagingDir;
    private final Manifest manifest;
    private final Engine engine;
    private final String bootstrapServers;
    private final String registryUrl;
    private final String topic;

    public Archiver(Path lakeRoot, Engine engine, String bootstrapServers, String registryUrl, String topic) {
        this.eventsDir = new Path(lakeRoot, "events");
        this.stagingDir = new Path(lakeRoot, "_staging");
        this.manifest = new Manifest(lakeRoot);
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

    /** Finishes or redoes whatever a crash interrupted. Returns the commit of a re-executed run. */
    public Optional<Commit> recover() throws Exception {
        Optional<Intent> pending = manifest.pending();
        for (Commit c : manifest.commits()) {
            if (LakeFs.exists(staging(c.run()))) {
                publish(c); // a crash between the commit and the end of the moves
            }
        }
        if (pending.isEmpty()) {
            return Optional.empty();
        }
        Intent intent = pending.get();
        LOG.info("Recovering run {}: deleting what it staged, re-executing its intent", intent.run());
        return Optional.of(execute(intent));
    }

    /**
     * Recovers, then archives everything appended before {@code cutMillis}; empty if nothing new (a
     * run with no records is not made, and the cut stays where the last run left it).
     */
    public Optional<Commit> archive(long cutMillis) throws Exception {
        recover();
        List<Commit> commits = manifest.commits();
        long lastCut = commits.isEmpty()
                ? Long.MIN_VALUE
                : commits.get(commits.size() - 1).cutMillis();
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
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
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
        Path staging = staging(intent.run());
        LakeFs.delete(staging, true); // whatever an interrupted attempt left
        CrashPoints.reached("before-first-file");
        long started = System.nanoTime();
        ArchiveJob.Result result = ArchiveJob.run(engine, bootstrapServers, registryUrl, topic, intent, staging);
        List<String> files = LakeFs.filesUnder(staging);
        CrashPoints.reached("before-commit");
        Commit commit = new Commit(
                Manifest.VERSION,
                intent.run(),
                intent.cutMillis(),
                intent.ranges(),
                files,
                result.rows(),
                result.skipped());
        manifest.commit(commit);
        CrashPoints.reached("after-commit");
        publish(commit);
        LOG.info(
                "Run {} committed: {} rows in {} file(s), {} undecodable skipped, cut {} ({} ms)",
                intent.run(),
                result.rows(),
                files.size(),
                result.skipped(),
                intent.cutMillis(),
                (System.nanoTime() - started) / 1_000_000);
        return commit;
    }

    /** Moves a committed run's files from staging into the dataset; idempotent. */
    private void publish(Commit commit) throws IOException {
        Path staging = staging(commit.run());
        int moved = 0;
        for (String file : commit.files()) {
            Path staged = new Path(staging, file);
            if (LakeFs.exists(staged)) {
                LakeFs.move(staged, new Path(eventsDir, file));
                if (++moved == 1) {
                    CrashPoints.reached("between-moves");
                }
            }
        }
        LakeFs.delete(staging, true);
    }

    private Path staging(long run) {
        return new Path(stagingDir, String.format("run-%08d", run));
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
