package dev.strata.batch.views;

import dev.strata.batch.engine.CrashPoints;
import dev.strata.batch.engine.Engine;
import dev.strata.batch.engine.FoldJob;
import dev.strata.batch.lake.Archiver;
import dev.strata.batch.lake.LakeFs;
import dev.strata.lake.ArchiveRun;
import dev.strata.lake.ArchiveState;
import dev.strata.lake.EventsTable;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.core.fs.Path;
import org.apache.iceberg.DataFile;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
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

    /**
     * The batch layer's settings: its views, the cut settings it shares with the speed layer, how
     * far behind the clock its cut stays, how many snapshot versions it keeps, and up to how many
     * rows per subtask the recompute finds retry candidates in memory.
     */
    public record Settings(
            List<ViewDefinition> views,
            CutSettings cut,
            Duration safetyMargin,
            int keepSnapshots,
            long inMemoryRowsPerSubtask) {
        public static final String DEFAULT_KEEP_SNAPSHOTS = "5";
        public static final String DEFAULT_IN_MEMORY_ROWS_PER_SUBTASK = "8000000";

        public static Settings of(List<ViewDefinition> views) {
            return new Settings(
                    views,
                    CutSettings.DEFAULTS,
                    Duration.parse(CutSettings.DEFAULT_SAFETY_MARGIN),
                    Integer.parseInt(DEFAULT_KEEP_SNAPSHOTS),
                    Long.parseLong(DEFAULT_IN_MEMORY_ROWS_PER_SUBTASK));
        }

        public Settings withCut(CutSettings cut, Duration safetyMargin) {
            return new Settings(views, cut, safetyMargin, keepSnapshots, inMemoryRowsPerSubtask);
        }

        public Settings withInMemoryRowsPerSubtask(long rows) {
            return new Settings(views, cut, safetyMargin, keepSnapshots, rows);
        }
    }

    private final EventsTable events;
    private final Path snapshotsDir;
    private final Archiver archiver;
    private final Engine engine;
    private final Settings settings;
    private final Map<String, ViewDefinition> views;
    private final String bootstrapServers;
    private final String commitsTopic;

    /** @param lakeRoot the lake's directory (the batch views' snapshots live under it) */
    public BatchCycle(
            EventsTable events,
            Path lakeRoot,
            Archiver archiver,
            Engine engine,
            Settings settings,
            String bootstrapServers,
            String commitsTopic) {
        this.events = events;
        this.snapshotsDir = new Path(lakeRoot, SNAPSHOTS);
        this.archiver = archiver;
        this.engine = engine;
        this.settings = settings;
        this.views = settings.views().stream().collect(Collectors.toMap(ViewDefinition::name, Function.identity()));
        this.bootstrapServers = bootstrapServers;
        this.commitsTopic = commitsTopic;
    }

    /** Runs a cycle at {@code nowMillis}; returns the announced commit, or empty if nothing was new. */
    public Optional<BatchCommit> run(long nowMillis) throws Exception {
        archiver.archive(Archiver.cutAt(nowMillis, settings.cut().bucket(), settings.safetyMargin()));
        Snapshot current = currentSnapshot();
        ArchiveState state = events.state();
        if (state.lastRun() <= current.run()) {
            return announceIfUnannounced(current);
        }
        return Optional.of(publish(fold(current, current.run() + 1, state)));
    }

    /** A crash between writing a snapshot and announcing it: the next cycle announces it. */
    private Optional<BatchCommit> announceIfUnannounced(Snapshot current) throws Exception {
        List<Path> versions = snapshots();
        if (versions.isEmpty()) {
            return Optional.empty();
        }
        BatchCommit expected = BatchCommit.of(
                current.run(),
                current.cutMillis(),
                SNAPSHOTS + "/" + versions.get(versions.size() - 1).getName(),
                settings.cut());
        if (expected.sameSnapshot(lastAnnounced().orElse(null))) {
            return Optional.empty(); // announced already, with the settings it was computed with
        }
        Optional<String> refusal = settings.cut().refusal(expected, "batch layer");
        if (refusal.isPresent()) {
            // Written by a cycle with other settings and never announced: the next run's fold supersedes it.
            LOG.warn("Not announcing {}: {}", expected.snapshot(), refusal.get());
            return Optional.empty();
        }
        LOG.info("Announcing {} (written, not yet announced when the last cycle stopped)", expected.snapshot());
        announce(expected);
        return Optional.of(expected);
    }

    /** The newest record of the commits topic. */
    private Optional<BatchCommit> lastAnnounced() {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        props.put("enable.auto.commit", "false");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition p = new TopicPartition(commitsTopic, 0);
            consumer.assign(List.of(p));
            long end = consumer.endOffsets(List.of(p)).get(p);
            if (end == 0) {
                return Optional.empty();
            }
            consumer.seek(p, end - 1);
            BatchCommit last = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (consumer.position(p) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value() != null) {
                        last = BatchCommit.decode(r.value());
                    }
                }
            }
            return Optional.ofNullable(last);
        }
    }

    /** Writes {@code snapshot} as the next version and announces it. */
    public BatchCommit publish(Snapshot snapshot) throws Exception {
        String name = String.format("v-%08d.snapshot", nextVersion());
        snapshot.write(new Path(snapshotsDir, name));
        writeDefinitions();
        BatchCommit announced =
                BatchCommit.of(snapshot.run(), snapshot.cutMillis(), SNAPSHOTS + "/" + name, settings.cut());
        CrashPoints.reached("before-announce");
        announce(announced);
        prune();
        LOG.info(
                "Batch snapshot {} (run {}, cut {}) with {} cells announced",
                name,
                snapshot.run(),
                snapshot.cutMillis(),
                snapshot.cells().size());
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
        Set<ViewKey> cells = new HashSet<>(before.cells().keySet());
        cells.addAll(after.cells().keySet());
        List<Change> changes = new ArrayList<>();
        for (ViewKey cell : cells) {
            Map<String, Double> b =
                    before.cells().containsKey(cell) ? before.cells().get(cell).measures() : null;
            Map<String, Double> a =
                    after.cells().containsKey(cell) ? after.cells().get(cell).measures() : null;
            if (!Objects.equals(b, a)) {
                changes.add(new Change(cell, b, a));
            }
        }
        changes.sort(Comparator.comparing((Change c) -> c.cell().view())
                .thenComparingLong(c -> c.cell().windowStartMillis())
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
            throw new IllegalStateException(
                    "nothing to roll back to: " + versions.size() + " snapshot version(s) in " + snapshotsDir);
        }
        Path newest = versions.get(versions.size() - 1);
        Snapshot rolledBack = Snapshot.read(newest, views);
        LakeFs.move(newest, new Path(snapshotsDir, newest.getName() + ".rolledback"));
        Snapshot previous = Snapshot.read(versions.get(versions.size() - 2), views);
        ArchiveState state = events.state();
        Snapshot restored = state.lastRun() <= previous.run() ? previous : fold(previous, previous.run() + 1, state);
        LOG.info(
                "Rolled back {} (run {}); current: run {}, cut {}",
                newest.getName(),
                rolledBack.run(),
                restored.run(),
                restored.cutMillis());
        return publish(restored);
    }

    /**
     * The views whose definition differs from the one the current snapshot was computed with, each
     * with the replay that brings it up to date; empty when they agree (or nothing was computed yet).
     */
    public List<String> changedViews() throws IOException {
        Path file = new Path(snapshotsDir, DEFINITIONS);
        if (!LakeFs.exists(file)) {
            return List.of();
        }
        Map<String, String> recorded = new TreeMap<>();
        for (String line : new String(LakeFs.read(file), StandardCharsets.UTF_8).split("\n")) {
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
    static final String SNAPSHOTS = "views/snapshots";

    /** A canonical description of a view: equal exactly when the definitions mean the same. */
    static String describe(ViewDefinition v) {
        return "types=" + new TreeSet<>(v.types()) + " attributes=" + new TreeMap<>(v.attributes())
                + " groupBy=" + v.groupBy() + " window=" + v.window() + " measures="
                + v.measures().stream().map(m -> m.name()).toList();
    }

    private void writeDefinitions() throws IOException {
        StringBuilder text = new StringBuilder();
        for (ViewDefinition view : settings.views()) {
            text.append(view.name()).append('\t').append(describe(view)).append('\n');
        }
        LakeFs.writeAtomically(
                new Path(snapshotsDir, DEFINITIONS), text.toString().getBytes(StandardCharsets.UTF_8));
    }

    private long nextVersion() throws IOException {
        return LakeFs.list(snapshotsDir).stream()
                        .map(s -> s.getPath().getName())
                        .filter(n -> n.matches("v-\\d{8}\\.snapshot.*"))
                        .mapToLong(n -> Long.parseLong(n.substring(2, 10)))
                        .max()
                        .orElse(0)
                + 1;
    }

    /** Recomputes every view from the whole lake: the same folds, from an empty snapshot. */
    public Snapshot replay() throws Exception {
        ArchiveState state = events.state();
        return state.lastRun() == 0 ? Snapshot.empty() : fold(Snapshot.empty(), 1, state);
    }

    /** The newest snapshot on disk, or the empty one. */
    public Snapshot currentSnapshot() throws IOException {
        Optional<Path> newest = snapshots().stream().reduce((a, b) -> b);
        return newest.isEmpty() ? Snapshot.empty() : Snapshot.read(newest.get(), views);
    }

    /**
     * Folds the rows of runs {@code firstRun} to the state's last run into {@code base}: the new
     * snapshot holds everything appended before the state's cut.
     */
    private Snapshot fold(Snapshot base, long firstRun, ArchiveState state) throws Exception {
        List<DataFile> runFiles = events.filesOfRunsFrom(firstRun);
        // Rows of earlier runs that can still be retried, within the horizon, by the rows folded: those
        // appended after the previous run's cut less the horizon (all earlier rows if that cut is unknown).
        List<DataFile> context = List.of();
        if (firstRun > 1) {
            long previousCut = events.runs().stream()
                    .filter(r -> r.run() == firstRun - 1)
                    .mapToLong(ArchiveRun::cutMillis)
                    .findFirst()
                    .orElse(Long.MIN_VALUE);
            long from = previousCut == Long.MIN_VALUE
                    ? Long.MIN_VALUE
                    : previousCut
                            - settings.cut().dedupHorizon().toMillis()
                            - settings.cut().bucket().toMillis();
            Set<String> folded = runFiles.stream().map(DataFile::location).collect(Collectors.toSet());
            context = events.filesBefore(firstRun, from).stream()
                    .filter(f -> !folded.contains(f.location()))
                    .toList();
        }
        long rows = Stream.concat(context.stream(), runFiles.stream())
                .mapToLong(DataFile::recordCount)
                .sum();
        Map<ViewKey, Aggregate> cells = new HashMap<>(base.cells());
        FoldJob.run(engine, settings, locations(context), locations(runFiles), rows, firstRun)
                .forEach((cell, aggregate) -> cells.merge(cell, aggregate, Aggregate::merge));
        return new Snapshot(state.lastRun(), state.lastCutMillis(), cells);
    }

    private static List<String> locations(List<DataFile> files) {
        return files.stream().map(DataFile::location).toList();
    }

    private void announce(BatchCommit commit) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        props.put("acks", "all");
        props.put("enable.idempotence", "true");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(commitsTopic, BatchCommit.KEY, commit.encode()))
                    .get(30, TimeUnit.SECONDS);
        }
    }

    private List<Path> snapshots() throws IOException {
        return LakeFs.list(snapshotsDir).stream()
                .map(s -> s.getPath())
                .filter(p -> p.getName().matches("v-\\d{8}\\.snapshot"))
                .toList();
    }

    private void prune() throws IOException {
        List<Path> all = snapshots();
        for (int i = 0; i < all.size() - settings.keepSnapshots(); i++) {
            LakeFs.delete(all.get(i), false);
        }
    }
}
