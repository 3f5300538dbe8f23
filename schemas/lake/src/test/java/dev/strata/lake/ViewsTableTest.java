package dev.strata.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.schemas.Event;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.Measure;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ViewsTableTest {

    static final List<ViewDefinition> VIEWS = ViewConfig.defaults();
    static final Map<String, ViewDefinition> BY_NAME =
            VIEWS.stream().collect(Collectors.toMap(ViewDefinition::name, Function.identity()));
    static final Instant T0 = Instant.parse("2026-11-30T10:00:00Z");

    @TempDir
    Path dir;

    /** {@code events} events over 5 sources and 10 minutes, folded into every view. */
    static Map<ViewKey, Aggregate> cells(List<ViewDefinition> views, int events) {
        Map<ViewKey, Aggregate> cells = new HashMap<>();
        for (int i = 0; i < events; i++) {
            Instant time = T0.plusSeconds(i * 7L % 600);
            Event e = new Event(
                    "e" + i,
                    "dev-" + (i % 5),
                    i % 2 == 0 ? "temperature" : "humidity",
                    time,
                    (double) i,
                    Map.of("site", "s" + (i % 3)),
                    time);
            foldInto(cells, views, e);
        }
        return cells;
    }

    /** Folds an event into the cells of every view it matches. */
    static void foldInto(Map<ViewKey, Aggregate> cells, List<ViewDefinition> views, Event e) {
        for (ViewDefinition view : views) {
            if (view.matches(e)) {
                long window = view.windowStartMillis(e.getTime().toEpochMilli());
                cells.computeIfAbsent(new ViewKey(view.name(), view.group(e), window, 0), k -> Aggregate.empty(view))
                        .fold(e);
            }
        }
    }

    static ViewsTable.Contents contents(long run, long cut, List<ViewDefinition> views, Map<ViewKey, Aggregate> cells) {
        Map<String, String> definitions = new HashMap<>();
        views.forEach(v -> definitions.put(v.name(), v.toString()));
        return new ViewsTable.Contents(run, cut, CutSettings.DEFAULTS, definitions, "fold", views, cells);
    }

    static Map<ViewKey, Map<String, Double>> measures(Map<ViewKey, Aggregate> cells) {
        Map<ViewKey, Map<String, Double>> m = new HashMap<>();
        cells.forEach((k, a) -> m.put(k, a.measures()));
        return m;
    }

    @Test
    void aBatchSnapshotIsAnIcebergSnapshotWithTheStateToMergeAndColumnsSqlReads() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            ViewsTable views = lake.views();
            assertThat(views.head()).isEqualTo(ViewsTable.Head.EMPTY);
            Map<ViewKey, Aggregate> cells = cells(VIEWS, 500);

            long id = views.commit(OptionalLong.empty(), contents(1, 60_000, VIEWS, cells));

            ViewsTable.Head head = views.head();
            assertThat(head.snapshotId()).hasValue(id);
            assertThat(head.run()).isEqualTo(1);
            assertThat(head.cutMillis()).isEqualTo(60_000);
            assertThat(head.settings()).contains(CutSettings.DEFAULTS);
            assertThat(head.cells()).isEqualTo(cells.size());
            assertThat(head.definitions()).containsOnlyKeys(BY_NAME.keySet());
            assertThat(measures(views.cells(id, BY_NAME))).isEqualTo(measures(cells));

            // DuckDB, over the files of the current snapshot, reads the readable columns.
            String files = TableVersion.of(ViewsTable.NAME, views.table()).files().stream()
                    .map(f -> "'" + f.location().replace("file:", "") + "'")
                    .collect(Collectors.joining(",", "[", "]"));
            ViewKey someCell = cells.keySet().stream()
                    .filter(k -> k.view().equals("events_per_source_1m"))
                    .findFirst()
                    .orElseThrow();
            Map<String, Double> expected = cells.get(someCell).measures();
            try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                    Statement sql = duck.createStatement();
                    ResultSet r = sql.executeQuery("SELECT count, sum, max, p95, epoch_ms(window_end - window_start)"
                            + " FROM read_parquet(" + files + ") WHERE view = 'events_per_source_1m' AND source = '"
                            + someCell.group().get(0) + "' AND epoch_ms(window_start) = "
                            + someCell.windowStartMillis())) {
                assertThat(r.next()).isTrue();
                assertThat(r.getLong(1)).isEqualTo(expected.get("count").longValue());
                assertThat(r.getDouble(2)).isEqualTo(expected.get("sum"));
                assertThat(r.getDouble(3)).isEqualTo(expected.get("max"));
                assertThat(r.getDouble(4)).isEqualTo(expected.get("p95"));
                assertThat(r.getLong(5)).isEqualTo(60_000);
                assertThat(r.next()).isFalse();
            }
        }
    }

    @Test
    void ofRacingCommitsFromTheSameSnapshotOneHoldsAndTheOthersAreToldSoWithNothingLeft() throws Exception {
        try (Lake first = Lake.open(LakeConfig.local(dir))) {
            long base = first.views().commit(OptionalLong.empty(), contents(1, 60_000, VIEWS, cells(VIEWS, 100)));
            int racers = 5;
            ExecutorService pool = Executors.newFixedThreadPool(racers);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<String>> outcomes = new ArrayList<>();
            for (int i = 0; i < racers; i++) {
                int events = 200 + i;
                outcomes.add(pool.submit(() -> {
                    try (Lake lake = Lake.open(LakeConfig.local(dir))) {
                        go.await();
                        try {
                            lake.views()
                                    .commit(OptionalLong.of(base), contents(2, 120_000, VIEWS, cells(VIEWS, events)));
                            return "committed";
                        } catch (ViewsConflict e) {
                            return "conflict: " + e.getMessage();
                        }
                    }
                }));
            }
            go.countDown();
            List<String> results = new ArrayList<>();
            for (Future<String> f : outcomes) {
                results.add(f.get());
            }
            pool.shutdown();

            assertThat(results).filteredOn("committed"::equals).hasSize(1);
            assertThat(results)
                    .filteredOn(r -> r.startsWith("conflict"))
                    .hasSize(racers - 1)
                    .allMatch(r -> r.contains("another batch process committed"));
            assertThat(first.views().history()).extracting(ViewsTable.Head::run).containsExactly(2L, 1L);
            // The losers deleted their files: only the two snapshots' files are in the table's directory.
            try (var files = java.nio.file.Files.walk(dir)) {
                assertThat(files.filter(f -> f.toString().endsWith(".parquet")).count())
                        .isEqualTo(2L * VIEWS.size());
            }
        }
    }

    @Test
    void rollbackMakesThePreviousSnapshotCurrentAndACommitMustNameWhatItHolds() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            ViewsTable views = lake.views();
            long one = views.commit(OptionalLong.empty(), contents(1, 60_000, VIEWS, cells(VIEWS, 100)));
            long two = views.commit(OptionalLong.of(one), contents(2, 120_000, VIEWS, cells(VIEWS, 200)));

            assertThatThrownBy(() -> views.rollback(one)).isInstanceOf(ViewsConflict.class);
            assertThat(views.rollback(two)).isEqualTo(one);

            assertThat(views.head().snapshotId()).hasValue(one);
            assertThat(measures(views.announced(
                            BatchCommit.of(1, 60_000, ViewsTable.reference(one), CutSettings.DEFAULTS), BY_NAME)))
                    .isEqualTo(measures(cells(VIEWS, 100)));
            assertThatThrownBy(() -> views.announced(
                            BatchCommit.of(3, 60_000, ViewsTable.reference(one), CutSettings.DEFAULTS), BY_NAME))
                    .hasMessageContaining("holds run 1 cut 60000, the commit announced run 3 cut 60000");
            assertThatThrownBy(() -> views.announced(
                            BatchCommit.of(1, 60_000, "views/snapshots/v-00000001.snapshot", CutSettings.DEFAULTS),
                            BY_NAME))
                    .hasMessageContaining("an earlier build's snapshot file");
            assertThatThrownBy(() -> views.rollback(one)).hasMessageContaining("nothing to roll back to");
        }
    }

    @Test
    void aViewWithNewGroupsAndMeasuresAddsColumnsAndOldSnapshotsStayReadable() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            ViewsTable views = lake.views();
            long one = views.commit(OptionalLong.empty(), contents(1, 60_000, VIEWS, cells(VIEWS, 100)));
            ViewDefinition perSite = new ViewDefinition(
                    "per_site_10m",
                    Set.of(),
                    Map.of(),
                    List.of("attributes.site"),
                    Duration.ofMinutes(10),
                    List.of(Measure.parse("count"), Measure.parse("avg"), Measure.parse("distinct(source)")));
            List<ViewDefinition> more = new ArrayList<>(VIEWS);
            more.add(perSite);

            long two = views.commit(OptionalLong.of(one), contents(2, 120_000, more, cells(more, 300)));

            assertThat(views.table().schemas()).hasSizeGreaterThan(2);
            assertThat(views.table().schema().findField("attr_site")).isNotNull();
            assertThat(views.table().schema().findField("avg")).isNotNull();
            Map<String, ViewDefinition> byName = new HashMap<>(BY_NAME);
            byName.put(perSite.name(), perSite);
            assertThat(measures(views.cells(two, byName))).isEqualTo(measures(cells(more, 300)));
            assertThat(measures(views.cells(one, byName))).isEqualTo(measures(cells(VIEWS, 100)));
            // A view no longer defined is left out.
            assertThat(views.cells(two, BY_NAME).keySet())
                    .noneMatch(k -> k.view().equals("per_site_10m"));
        }
    }

    @Test
    void expiryKeepsTheRollbackDepth() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            ViewsTable views = lake.views();
            OptionalLong base = OptionalLong.empty();
            for (int run = 1; run <= 6; run++) {
                base = OptionalLong.of(views.commit(base, contents(run, run * 60_000L, VIEWS, cells(VIEWS, 50))));
            }

            views.expire(3);

            assertThat(views.history()).extracting(ViewsTable.Head::run).containsExactly(6L, 5L, 4L);
            try (var files = java.nio.file.Files.walk(dir)) {
                assertThat(files.filter(f -> f.toString().endsWith(".parquet")).count())
                        .as("the expired snapshots' files are deleted (those the oldest one kept removed go with it)")
                        .isEqualTo(4L * VIEWS.size());
            }
        }
    }

    /** Events {@code from} to {@code from + count}: sources round robin, one minute after another per round. */
    static Map<ViewKey, Aggregate> spread(int from, int count, int sources, int firstMinute) {
        Map<ViewKey, Aggregate> cells = new HashMap<>();
        for (int i = from; i < from + count; i++) {
            Instant time = T0.plusSeconds(60L * (firstMinute + (i - from) / sources) + i % 60);
            Event e = new Event(
                    "e" + i,
                    "dev-" + (i % sources),
                    i % 2 == 0 ? "temperature" : "humidity",
                    time,
                    (double) i,
                    Map.of(),
                    time);
            foldInto(cells, VIEWS, e);
        }
        return cells;
    }

    static Set<String> files(ViewsTable views, long snapshotId) throws Exception {
        Set<String> files = new java.util.HashSet<>();
        try (var tasks = views.table().newScan().useSnapshot(snapshotId).planFiles()) {
            tasks.forEach(t -> files.add(t.file().location()));
        }
        return files;
    }

    @Test
    void aFoldRewritesOnlyTheFilesOfTheWindowsItTouchesAndItsSmallFiles() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            ViewsTable views = lake.views();
            // 100 sources x 250 minutes: 25,000 cells of the per-source view, in files of up to 2,048 by window.
            Map<ViewKey, Aggregate> history = spread(0, 25_000, 100, 0);
            long one = views.commit(OptionalLong.empty(), contents(1, 60_000, VIEWS, history));
            Set<String> before = files(views, one);
            // New windows after the history, and late events in minute 10 (inside the first file's windows).
            Map<ViewKey, Aggregate> folded = spread(25_000, 500, 100, 250);
            spread(30_000, 200, 100, 10).forEach((k, a) -> folded.merge(k, a, Aggregate::merge));
            Map<ViewKey, Aggregate> expected = spread(0, 25_000, 100, 0); // the same cells, merged apart
            spread(25_000, 500, 100, 250).forEach((k, a) -> expected.merge(k, a, Aggregate::merge));
            spread(30_000, 200, 100, 10).forEach((k, a) -> expected.merge(k, a, Aggregate::merge));

            long two = views.commitFolded(views.head(), contents(2, 120_000, VIEWS, folded));

            assertThat(measures(views.cells(two, BY_NAME))).isEqualTo(measures(expected));
            assertThat(views.head().cells()).isEqualTo(expected.size());
            Set<String> kept = new java.util.HashSet<>(files(views, two));
            kept.retainAll(before);
            int perSourceFiles = (25_000 + ViewFiles.CELLS_PER_FILE - 1) / ViewFiles.CELLS_PER_FILE;
            assertThat(kept)
                    .as("the per-source view's files but the first (minute 10) and the last (small) are kept")
                    .hasSize(perSourceFiles - 2);
            // The readable columns of rows copied, merged and new alike: DuckDB over the snapshot's files.
            String files = files(views, two).stream()
                    .map(f -> "'" + f.replace("file:", "") + "'")
                    .collect(Collectors.joining(",", "[", "]"));
            try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                    Statement sql = duck.createStatement();
                    ResultSet r = sql.executeQuery("SELECT count(*), sum(count) FROM read_parquet(" + files
                            + ") WHERE view = 'events_per_source_1m'")) {
                assertThat(r.next()).isTrue();
                assertThat(r.getLong(1))
                        .isEqualTo(expected.keySet().stream()
                                .filter(k -> k.view().equals("events_per_source_1m"))
                                .count());
                assertThat(r.getLong(2)).isEqualTo(25_700);
            }
            // A fold from a snapshot that is no longer current is refused, nothing of it committed.
            assertThatThrownBy(() -> views.commitFolded(
                            views.head(one).orElseThrow(), contents(2, 120_000, VIEWS, spread(40_000, 10, 5, 0))))
                    .isInstanceOf(ViewsConflict.class);
            assertThat(views.head().snapshotId()).hasValue(two);
        }
    }

    @Test
    void aFoldDropsTheFilesOfViewsNoLongerDefinedAndFoldsIntoAnEmptyTable() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            ViewsTable views = lake.views();
            long one = views.commitFolded(ViewsTable.Head.EMPTY, contents(1, 60_000, VIEWS, cells(VIEWS, 300)));
            assertThat(measures(views.cells(one, BY_NAME))).isEqualTo(measures(cells(VIEWS, 300)));
            assertThat(views.head().cells()).isEqualTo(cells(VIEWS, 300).size());
            ViewDefinition kept = VIEWS.get(0);
            Map<ViewKey, Aggregate> folded = new HashMap<>();
            cells(VIEWS, 50).forEach((k, a) -> {
                if (k.view().equals(kept.name())) {
                    folded.put(k, a);
                }
            });

            long two = views.commitFolded(views.head(), contents(2, 120_000, List.of(kept), folded));

            Set<String> partitions = new java.util.HashSet<>();
            try (var tasks = views.table().newScan().useSnapshot(two).planFiles()) {
                tasks.forEach(t -> partitions.add(t.file().partition().get(0, String.class)));
            }
            assertThat(partitions).containsExactly(kept.name());
            Map<ViewKey, Aggregate> expected = new HashMap<>();
            cells(VIEWS, 300).forEach((k, a) -> {
                if (k.view().equals(kept.name())) {
                    expected.put(k, a);
                }
            });
            folded.forEach((k, a) -> expected.merge(k, a, Aggregate::merge));
            assertThat(measures(views.cells(two, BY_NAME))).isEqualTo(measures(expected));
            assertThat(views.head().cells()).isEqualTo(expected.size());
        }
    }
}
