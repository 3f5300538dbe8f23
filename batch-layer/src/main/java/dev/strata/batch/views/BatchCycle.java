package dev.strata.batch.views;

import dev.strata.batch.lake.Archiver;
import dev.strata.batch.lake.LakeReader;
import dev.strata.batch.lake.LakeSchema;
import dev.strata.batch.lake.Manifest;
import dev.strata.batch.lake.Manifest.Commit;
import dev.strata.schemas.Event;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One batch cycle: archive everything appended before the cut, fold every committed run the current
 * snapshot lacks into it (the shared monoid; an id seen within the dedup horizon counts once), write
 * the new snapshot version, announce it on {@code batch-commits}, keep the last few versions.
 * Each step is safe to redo: a crash anywhere is finished by the next cycle.
 */
public final class BatchCycle {

    private static final Logger LOG = LoggerFactory.getLogger(BatchCycle.class);

    /** The batch layer's settings. */
    public record Settings(List<ViewDefinition> views, Duration bucket, Duration safetyMargin, Duration dedupHorizon,
            int keepSnapshots) {
        public static Settings of(List<ViewDefinition> views) {
            return new Settings(views, Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofHours(24), 5);
        }
    }

    private final Path lakeRoot;
    private final Path eventsDir;
    private final Path snapshotsDir;
    private final Archiver archiver;
    private final Manifest manifest;
    private final Settings settings;
    private final Map<String, ViewDefinition> views;
    private final String bootstrapServers;
    private final String commitsTopic;

    public BatchCycle(Path lakeRoot, Archiver archiver, Settings settings, String bootstrapServers, String commitsTopic)
            throws IOException {
        this.lakeRoot = lakeRoot;
        this.eventsDir = lakeRoot.resolve("events");
        this.snapshotsDir = lakeRoot.resolve("views/snapshots");
        this.archiver = archiver;
        this.manifest = new Manifest(lakeRoot);
        this.settings = settings;
        this.views = settings.views().stream().collect(Collectors.toMap(ViewDefinition::name, Function.identity()));
        this.bootstrapServers = bootstrapServers;
        this.commitsTopic = commitsTopic;
    }

    /** Runs a cycle at {@code nowMillis}; returns the announced commit, or empty if nothing was new. */
    public Optional<BatchCommit> run(long nowMillis) throws Exception {
        archiver.archive(Archiver.cutAt(nowMillis, settings.bucket(), settings.safetyMargin()));
        Snapshot current = currentSnapshot();
        List<Commit> commits = manifest.commits();
        List<Commit> missing = commits.stream().filter(c -> c.run() > current.run()).toList();
        if (missing.isEmpty()) {
            return Optional.empty();
        }
        Snapshot next = fold(current, commits, missing);
        Path file = snapshotsDir.resolve(String.format("v-%08d.snapshot", next.run()));
        next.write(file);
        BatchCommit announced = BatchCommit.of(next.run(), next.cutMillis(), lakeRoot.relativize(file).toString());
        announce(announced);
        prune();
        LOG.info("Batch snapshot v{} (cut {}) with {} cells announced", next.run(), next.cutMillis(), next.cells().size());
        return Optional.of(announced);
    }

    /** Recomputes every view from the whole lake: the same folds, from an empty snapshot. */
    public Snapshot replay() throws IOException {
        List<Commit> commits = manifest.commits();
        return fold(Snapshot.empty(), commits, commits);
    }

    /** The newest snapshot on disk, or the empty one. */
    public Snapshot currentSnapshot() throws IOException {
        Optional<Path> newest = snapshots().stream().reduce((a, b) -> b);
        return newest.isEmpty() ? Snapshot.empty() : Snapshot.read(newest.get(), views);
    }

    private Snapshot fold(Snapshot base, List<Commit> all, List<Commit> runs) throws IOException {
        Map<ViewKey, Aggregate> cells = new HashMap<>(base.cells());
        long horizon = settings.dedupHorizon().toMillis();
        Map<String, Long> seen = new HashMap<>();
        long firstCut = runs.get(0).cutMillis();
        // Ids of earlier runs that can still be within the horizon of the runs being folded.
        List<Commit> earlier = all.stream()
                .filter(c -> c.run() < runs.get(0).run() && c.cutMillis() >= firstCut - horizon - settings.bucket().toMillis())
                .toList();
        for (Commit c : earlier) {
            LakeReader.forEachRow(eventsDir, c.files(), r -> seen.merge(r.get("id").toString(), LakeSchema.millis(r.get("append_time")), Math::min));
        }
        for (Commit run : runs) {
            List<GenericRecord> rows = new ArrayList<>();
            LakeReader.forEachRow(eventsDir, run.files(), rows::add);
            rows.sort(Comparator.comparingLong((GenericRecord r) -> LakeSchema.millis(r.get("append_time")))
                    .thenComparingInt(r -> (Integer) r.get("kafka_partition"))
                    .thenComparingLong(r -> (Long) r.get("kafka_offset")));
            Map<ViewKey, Aggregate> delta = new HashMap<>();
            for (GenericRecord row : rows) {
                String id = row.get("id").toString();
                long appended = LakeSchema.millis(row.get("append_time"));
                Long first = seen.get(id);
                if (first != null && appended - first < horizon) {
                    continue; // a retry within the dedup horizon: counted once
                }
                seen.put(id, appended);
                Event event = LakeSchema.event(row);
                for (ViewDefinition view : settings.views()) {
                    if (view.matches(event)) {
                        ViewKey cell = Snapshot.cell(view.name(), view.group(event), view.windowStart(event.getTime()).toEpochMilli());
                        delta.computeIfAbsent(cell, k -> Aggregate.empty(view)).fold(event);
                    }
                }
            }
            delta.forEach((cell, aggregate) -> cells.merge(cell, aggregate, Aggregate::merge));
        }
        Commit last = runs.get(runs.size() - 1);
        return new Snapshot(last.run(), last.cutMillis(), cells);
    }

    private void announce(BatchCommit commit) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        props.put("acks", "all");
        props.put("enable.idempotence", "true");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(commitsTopic, BatchCommit.KEY, commit.encode())).get(30, TimeUnit.SECONDS);
        }
    }

    private List<Path> snapshots() throws IOException {
        if (!Files.exists(snapshotsDir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(snapshotsDir)) {
            return files.filter(p -> p.getFileName().toString().matches("v-\\d{8}\\.snapshot")).sorted().toList();
        }
    }

    private void prune() throws IOException {
        List<Path> all = snapshots();
        for (int i = 0; i < all.size() - settings.keepSnapshots(); i++) {
            Files.delete(all.get(i));
        }
    }
}
