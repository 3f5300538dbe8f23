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
        return Optional.of(publish(next));
    }

    /** Writes {@code snapshot} as the next version and announces it. */
    public BatchCommit publish(Snapshot snapshot) throws Exception {
        Path file = snapshotsDir.resolve(String.format("v-%08d.snapshot", nextVersion()));
        snapshot.write(file);
        writeDefinitions();
        BatchCommit announced = BatchCommit.of(snapshot.run(), snapshot.cutMillis(), lakeRoot.relativize(file).toString());
        announce(announced);
        prune();
        LOG.info("Batch snapshot {} (run {}, cut {}) with {} cells announced", file.getFileName(), snapshot.run(),
                snapshot.cutMillis(), snapshot.cells().size());
        return announced;
    }

    /** A view, a window range, or both, to recompute; empty parts mean "all". */
    public record ReplayScope(Optional<String> view, Optional<Long> fromMillis, Optional<Long> toMillis) {
        public static final ReplayScope ALL = new ReplayScope(Optional.empty(), Optional.empty(), Optional.empty());

        boolean covers(ViewKey cell) {
            return view.map(v -> v.equals(cell.view())).orElse(true)
                    && fromMillis.map(f -> cell.windowStartMillis() >= f).orElse(true)
                    && toMillis.map(t -> cell.windowStartMillis() < t).orElse(true);
        }
    }

    /**
     * Recomputes the cells in {@code scope} from the whole lake with today's view definitions; the
     * other cells stay as the current snapshot has them. Nothing is written: see {@link #publish}.
     */
    public Snapshot replay(ReplayScope scope) throws Exception {
        Snapshot current = currentSnapshot();
        Snapshot all = replay();
        Map<ViewKey, Aggregate> cells = new HashMap<>();
        current.cells().forEach((cell, aggregate) -> {
            if (!scope.covers(cell)) {
                cells.put(cell, aggregate);
            }
        });
        all.cells().forEach((cell, aggregate) -> {
            if (scope.covers(cell)) {
                cells.put(cell, aggregate);
            }
        });
        return new Snapshot(all.run(), all.cutMillis(), cells);
    }

    /** A cell whose measures differ between two snapshots (null: absent on that side). */
    public record Change(ViewKey cell, Map<String, Double> before, Map<String, Double> after) {}

    public static List<Change> diff(Snapshot before, Snapshot after) {
        java.util.Set<ViewKey> cells = new java.util.HashSet<>(before.cells().keySet());
        cells.addAll(after.cells().keySet());
        List<Change> changes = new ArrayList<>();
        for (ViewKey cell : cells) {
            Map<String, Double> b = before.cells().containsKey(cell) ? before.cells().get(cell).measures() : null;
            Map<String, Double> a = after.cells().containsKey(cell) ? after.cells().get(cell).measures() : null;
            if (!java.util.Objects.equals(b, a)) {
                changes.add(new Change(cell, b, a));
            }
        }
        changes.sort(Comparator.comparing((Change c) -> c.cell().view()).thenComparingLong(c -> c.cell().windowStartMillis())
                .thenComparing(c -> c.cell().group().toString()));
        return changes;
    }

    /**
     * Makes the previous snapshot version current again (the newest is kept aside as
     * {@code .rolledback}). If the previous version's cut is older, the runs since are folded in
     * again at once, so the announced cut never moves back behind what the speed layer dropped.
     */
    public BatchCommit rollback() throws Exception {
        List<Path> versions = snapshots();
        if (versions.size() < 2) {
            throw new IllegalStateException("nothing to roll back to: " + versions.size() + " snapshot version(s) in " + snapshotsDir);
        }
        Path newest = versions.get(versions.size() - 1);
        Snapshot rolledBack = Snapshot.read(newest, views);
        Files.move(newest, newest.resolveSibling(newest.getFileName() + ".rolledback"));
        Snapshot previous = Snapshot.read(versions.get(versions.size() - 2), views);
        List<Commit> commits = manifest.commits();
        List<Commit> missing = commits.stream().filter(c -> c.run() > previous.run()).toList();
        Snapshot restored = missing.isEmpty() ? previous : fold(previous, commits, missing);
        LOG.info("Rolled back {} (run {}); current: run {}, cut {}", newest.getFileName(), rolledBack.run(), restored.run(),
                restored.cutMillis());
        return publish(restored);
    }

    /**
     * The views whose definition differs from the one the current snapshot was computed with, each
     * with the replay that brings it up to date; empty when they agree (or nothing was computed yet).
     */
    public List<String> changedViews() throws IOException {
        Path file = snapshotsDir.resolve(DEFINITIONS);
        if (!Files.exists(file)) {
            return List.of();
        }
        Map<String, String> recorded = new java.util.TreeMap<>();
        for (String line : Files.readAllLines(file)) {
            int tab = line.indexOf('\t');
            if (tab > 0) {
                recorded.put(line.substring(0, tab), line.substring(tab + 1));
            }
        }
        List<String> advice = new ArrayList<>();
        for (ViewDefinition view : settings.views()) {
            String before = recorded.get(view.name());
            if (before == null) {
                advice.add("view " + view.name() + " is new: run ./strata batch replay --view " + view.name());
            } else if (!before.equals(describe(view))) {
                advice.add("view " + view.name() + " changed since the current snapshot was computed: run"
                        + " ./strata batch replay --view " + view.name() + " (add --dry-run to see what changes)");
            }
        }
        return advice;
    }

    static final String DEFINITIONS = "definitions.tsv";

    /** A canonical description of a view: equal exactly when the definitions mean the same. */
    static String describe(ViewDefinition v) {
        return "types=" + new java.util.TreeSet<>(v.types()) + " attributes=" + new java.util.TreeMap<>(v.attributes())
                + " groupBy=" + v.groupBy() + " window=" + v.window() + " measures="
                + v.measures().stream().map(m -> m.name()).toList();
    }

    private void writeDefinitions() throws IOException {
        StringBuilder text = new StringBuilder();
        for (ViewDefinition view : settings.views()) {
            text.append(view.name()).append('\t').append(describe(view)).append('\n');
        }
        Path file = snapshotsDir.resolve(DEFINITIONS);
        Path temp = file.resolveSibling("." + DEFINITIONS + ".tmp");
        Files.writeString(temp, text);
        Files.move(temp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private long nextVersion() throws IOException {
        if (!Files.exists(snapshotsDir)) {
            return 1;
        }
        try (Stream<Path> files = Files.list(snapshotsDir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.matches("v-\\d{8}\\.snapshot.*"))
                    .mapToLong(n -> Long.parseLong(n.substring(2, 10))).max().orElse(0) + 1;
        }
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
