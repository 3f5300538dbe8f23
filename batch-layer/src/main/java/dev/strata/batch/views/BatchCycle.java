package dev.strata.batch.views;

import dev.strata.batch.engine.CrashPoints;
import dev.strata.batch.engine.Engine;
import dev.strata.batch.engine.FoldJob;
import dev.strata.batch.lake.Archiver;
import dev.strata.lake.ArchiveRun;
import dev.strata.lake.ArchiveState;
import dev.strata.lake.EventsTable;
import dev.strata.lake.ViewsConflict;
import dev.strata.lake.ViewsTable;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.iceberg.DataFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One batch cycle: archive everything appended before the cut, fold every committed run the current
 * batch snapshot lacks into it (the shared monoid; an id seen within the dedup horizon counts once),
 * commit the result as the next snapshot of the lake's {@code batch_views} table, announce it on
 * {@code batch-commits}, keep the last few snapshots. Each step is safe to redo (a crash anywhere is
 * finished by the next cycle) and safe to race: a commit holds only if the table's current snapshot
 * is still the one the fold started from, so two processes never fold a run twice or lose one: the
 * loser folds again from the winner's snapshot.
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

    /** Folds again from the new current snapshot at most this often when others keep committing first. */
    static final int MAX_FOLDS = 5;

    private final EventsTable events;
    private final ViewsTable table;
    private final Archiver archiver;
    private final Engine engine;
    private final Settings settings;
    private final Map<String, ViewDefinition> views;
    private final CommitsTopic commits;

    public BatchCycle(
            EventsTable events,
            ViewsTable table,
            Archiver archiver,
            Engine engine,
            Settings settings,
            String bootstrapServers,
            String commitsTopic) {
        this.events = events;
        this.table = table;
        this.archiver = archiver;
        this.engine = engine;
        this.settings = settings;
        this.views = settings.views().stream().collect(Collectors.toMap(ViewDefinition::name, Function.identity()));
        this.commits = new CommitsTopic(bootstrapServers, commitsTopic);
    }

    /** Runs a cycle at {@code nowMillis}; returns the announced commit, or empty if nothing was new. */
    public Optional<BatchCommit> run(long nowMillis) throws Exception {
        long started = System.nanoTime();
        archiver.archive(Archiver.cutAt(nowMillis, settings.cut().bucket(), settings.safetyMargin()));
        long archived = System.nanoTime();
        for (int folds = 1; ; folds++) {
            ViewsTable.Head head = table.head();
            ArchiveState state = events.state();
            if (state.lastRun() <= head.run()) {
                return announceIfUnannounced(head);
            }
            long foldStarted = System.nanoTime();
            Snapshot folded = new Snapshot(state.lastRun(), state.lastCutMillis(), foldRuns(head.run() + 1));
            long foldEnded = System.nanoTime();
            try {
                BatchCommit published = announce(folded, "fold", table.commitFolded(head, contents(folded, "fold")));
                long committed = System.nanoTime();
                indexRunsFrom(head.run() + 1);
                LOG.info(
                        "Cycle of runs {} to {}: {} ms to archive, {} ms to fold, {} ms to commit and announce, {} ms"
                                + " to index the runs' identities",
                        head.run() + 1,
                        state.lastRun(),
                        (archived - started) / 1_000_000,
                        (foldEnded - foldStarted) / 1_000_000,
                        (committed - foldEnded) / 1_000_000,
                        (System.nanoTime() - committed) / 1_000_000);
                return Optional.of(published);
            } catch (ViewsConflict e) {
                if (folds == MAX_FOLDS) {
                    throw new IllegalStateException(
                            "another batch process committed first " + MAX_FOLDS
                                    + " times in a row; the next cycle folds again",
                            e);
                }
                LOG.info(
                        "Fold of runs {} to {} not committed: {}; folding again from the new snapshot",
                        head.run() + 1,
                        state.lastRun(),
                        e.getMessage());
            }
        }
    }

    /** A crash (or a lost race) between committing a snapshot and announcing it: announced now. */
    private Optional<BatchCommit> announceIfUnannounced(ViewsTable.Head head) throws Exception {
        if (head.snapshotId().isEmpty() || head.run() == 0) {
            return Optional.empty();
        }
        BatchCommit expected = commitOf(head);
        if (expected.sameSnapshot(commits.last().orElse(null))) {
            return Optional.empty(); // announced already, with the settings it was computed with
        }
        Optional<String> refusal = settings.cut().refusal(expected, "batch layer");
        if (refusal.isPresent()) {
            // Committed by a cycle with other settings and never announced: the next run's fold supersedes it.
            LOG.warn("Not announcing {}: {}", expected.snapshot(), refusal.get());
            return Optional.empty();
        }
        LOG.info("Announcing {} (committed, not yet announced)", expected.snapshot());
        commits.announce(expected);
        return Optional.of(expected);
    }

    /** The announcement of a committed snapshot: run, cut, where it is, and the settings it was computed with. */
    private BatchCommit commitOf(ViewsTable.Head head) {
        return BatchCommit.of(
                head.run(),
                head.cutMillis(),
                ViewsTable.reference(head.snapshotId().getAsLong()),
                head.settings().orElse(settings.cut()));
    }

    /**
     * Commits {@code snapshot} on top of {@code base} (replacing every cell) and announces it.
     *
     * @throws ViewsConflict if the table's current snapshot is no longer {@code base}
     */
    private BatchCommit publish(ViewsTable.Head base, Snapshot snapshot, String kind) throws Exception {
        return announce(snapshot, kind, table.commit(base.snapshotId(), contents(snapshot, kind)));
    }

    private ViewsTable.Contents contents(Snapshot snapshot, String kind) {
        return new ViewsTable.Contents(
                snapshot.run(),
                snapshot.cutMillis(),
                settings.cut(),
                Definitions.of(settings.views()),
                kind,
                settings.views(),
                snapshot.cells());
    }

    /**
     * Announces the committed snapshot {@code id}; then, if another process committed meanwhile,
     * announces the table's current snapshot too, so the topic ends with it.
     */
    private BatchCommit announce(Snapshot snapshot, String kind, long id) throws Exception {
        BatchCommit announced =
                BatchCommit.of(snapshot.run(), snapshot.cutMillis(), ViewsTable.reference(id), settings.cut());
        CrashPoints.reached("before-announce");
        commits.announce(announced);
        LOG.info(
                "Batch snapshot {} ({} of run {}, cut {}) announced: {} cells {}",
                id,
                kind,
                snapshot.run(),
                snapshot.cutMillis(),
                snapshot.cells().size(),
                kind.equals("fold") ? "folded in" : "in all");
        ViewsTable.Head now = table.head();
        if (!now.snapshotId().equals(OptionalLong.of(id))) {
            announceIfUnannounced(now);
        }
        table.expire(settings.keepSnapshots());
        return announced;
    }

    /** What a replay changes (window by window, before and after) and, unless it was a dry run, its commit. */
    public record Replayed(Snapshot snapshot, List<Change> changes, Optional<BatchCommit> commit) {}

    /**
     * Recomputes the cells in {@code scope} from the whole lake with today's view definitions; the
     * other cells stay as the current snapshot has them. Unless {@code dryRun}, commits the result as
     * a new snapshot and announces it. A cycle that commits while the replay runs is not lost: the
     * replay folds the runs it added into both parts and commits on top of it.
     */
    public Replayed replay(ReplayScope scope, boolean dryRun) throws Exception {
        Snapshot all = replay();
        for (int folds = 1; ; folds++) {
            ViewsTable.Head head = table.head();
            Snapshot current = read(head);
            ArchiveState state = events.state();
            Snapshot recomputed = all.run() < state.lastRun() ? fold(all, all.run() + 1, state) : all;
            Snapshot kept = current.run() < state.lastRun() ? fold(current, current.run() + 1, state) : current;
            // Windows that start before the retention floor lost events to the retention: kept as they are.
            long floor = events.retentionFloorMillis();
            Predicate<ViewKey> recompute = cell -> scope.covers(cell) && cell.windowStartMillis() >= floor;
            Map<ViewKey, Aggregate> cells = new HashMap<>();
            kept.cells().forEach((cell, aggregate) -> {
                if (!recompute.test(cell)) {
                    cells.put(cell, aggregate);
                }
            });
            recomputed.cells().forEach((cell, aggregate) -> {
                if (recompute.test(cell)) {
                    cells.put(cell, aggregate);
                }
            });
            Snapshot replayed = new Snapshot(recomputed.run(), recomputed.cutMillis(), cells);
            List<Change> changes = Change.diff(current, replayed);
            if (dryRun) {
                return new Replayed(replayed, changes, Optional.empty());
            }
            try {
                return new Replayed(replayed, changes, Optional.of(publish(head, replayed, "replay")));
            } catch (ViewsConflict e) {
                if (folds == MAX_FOLDS) {
                    throw new IllegalStateException(
                            "another batch process committed first " + MAX_FOLDS + " times in a row; replay again", e);
                }
                all = recomputed;
                LOG.info("Replay not committed: {}; merging it with the new snapshot", e.getMessage());
            }
        }
    }

    /**
     * Makes the previous batch snapshot current again (Iceberg's rollback of {@code batch_views};
     * the newer one stays in the table's history until it expires) and announces it. If the
     * previous snapshot's cut is older, the runs since are folded in at once, as a new snapshot on
     * top of it, so the announced cut never moves back behind what the speed layer dropped.
     */
    public BatchCommit rollback() throws Exception {
        ViewsTable.Head newest = table.head();
        if (newest.snapshotId().isEmpty()) {
            throw new IllegalStateException("nothing to roll back: no batch snapshot yet");
        }
        long previousId = table.rollback(newest.snapshotId().getAsLong());
        ViewsTable.Head previous = table.head(previousId).orElseThrow();
        ArchiveState state = events.state();
        LOG.info(
                "Rolled back snapshot {} (run {}) to {} (run {}, cut {})",
                newest.snapshotId().getAsLong(),
                newest.run(),
                previousId,
                previous.run(),
                previous.cutMillis());
        if (state.lastRun() <= previous.run()) {
            BatchCommit commit = commitOf(previous);
            commits.announce(commit);
            return commit;
        }
        try {
            return publish(previous, fold(read(previous), previous.run() + 1, state), "rollback");
        } catch (ViewsConflict e) {
            // A cycle folded the runs since onto the rolled-back-to snapshot first: that is the same result.
            LOG.info("The runs since the rolled-back-to snapshot were folded by another process: {}", e.getMessage());
            ViewsTable.Head now = table.head();
            announceIfUnannounced(now);
            return commitOf(now);
        }
    }

    /**
     * The views whose definition differs from the one the current snapshot was computed with, each
     * with the replay that brings it up to date; empty when they agree (or nothing was computed yet).
     */
    public List<String> changedViews() {
        return Definitions.changed(table.head(), settings.views());
    }

    /** Recomputes every view from the whole lake: the same folds, from an empty snapshot. */
    public Snapshot replay() throws Exception {
        ArchiveState state = events.state();
        return state.lastRun() == 0 ? Snapshot.empty() : fold(Snapshot.empty(), 1, state);
    }

    /** The current batch snapshot, or the empty one. */
    public Snapshot currentSnapshot() {
        return read(table.head());
    }

    private Snapshot read(ViewsTable.Head head) {
        if (head.snapshotId().isEmpty() || head.run() == 0) {
            return Snapshot.empty();
        }
        return new Snapshot(
                head.run(),
                head.cutMillis(),
                new HashMap<>(table.cells(head.snapshotId().getAsLong(), views)));
    }

    /**
     * Folds the rows of runs {@code firstRun} to the state's last run into {@code base}: the new
     * snapshot holds everything appended before the state's cut.
     */
    private Snapshot fold(Snapshot base, long firstRun, ArchiveState state) throws Exception {
        Map<ViewKey, Aggregate> cells = new HashMap<>(base.cells());
        foldRuns(firstRun).forEach((cell, aggregate) -> cells.merge(cell, aggregate, Aggregate::merge));
        return new Snapshot(state.lastRun(), state.lastCutMillis(), cells);
    }

    /** The cells of the rows of runs {@code firstRun} on, retries within the dedup horizon counted once. */
    private Map<ViewKey, Aggregate> foldRuns(long firstRun) throws Exception {
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
        return FoldJob.run(engine, settings, events.table().io(), files(context), files(runFiles), firstRun);
    }

    private static FoldJob.Files files(List<DataFile> files) {
        return new FoldJob.Files(
                files.stream().map(DataFile::location).toList(),
                files.stream().mapToLong(DataFile::recordCount).sum());
    }

    /**
     * Builds the identity indexes of the runs a cycle folded, so that the next cycles read them, not
     * the runs' Parquet columns, while these runs are within the dedup horizon. Derived data: if it
     * fails, a cycle that needs an index builds it.
     */
    private void indexRunsFrom(long firstRun) {
        try {
            FoldJob.index(engine, events.table().io(), files(events.filesOfRunsFrom(firstRun)));
        } catch (Exception e) {
            LOG.warn(
                    "Identity indexes of runs {}+ not built now (the next cycle that needs them builds them)",
                    firstRun,
                    e);
        }
    }

    /** Where this cycle's jobs run (the scheduler's transforms run there too). */
    public Engine engine() {
        return engine;
    }
}
