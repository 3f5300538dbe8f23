package dev.strata.batch.transform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.batch.engine.CrashPoints;
import dev.strata.batch.engine.Engine;
import dev.strata.batch.engine.HandBack;
import dev.strata.lake.ArchivePlan;
import dev.strata.lake.ArchiveState;
import dev.strata.lake.CuratedTable;
import dev.strata.lake.DatasetTable;
import dev.strata.lake.DatasetWriter;
import dev.strata.lake.EventFileWriter;
import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import dev.strata.lake.TableVersion;
import dev.strata.lake.ViewsTable;
import dev.strata.schemas.Event;
import dev.strata.schemas.lake.ColumnType;
import dev.strata.schemas.lake.DatasetColumn;
import dev.strata.schemas.transforms.TransformConfig;
import dev.strata.schemas.transforms.TransformDefinition;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Snapshot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transforms on a real lake and a Flink MiniCluster, each output read back by DuckDB and compared
 * with DuckDB running the same computation over the input snapshots' files.
 */
class TransformIT {

    static final Instant T0 = Instant.parse("2026-11-28T22:00:00Z");
    static final String[] SITES = {"north", "south", "east", "nowhere"};
    static final List<TransformDefinition> EXAMPLES = TransformConfig.defaults();

    static Engine engine;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        engine = Engine.local(2);
    }

    @AfterAll
    static void stop() throws Exception {
        engine.close();
    }

    static TransformDefinition example(String name) {
        return EXAMPLES.stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
    }

    /** Archives {@code count} events as the next run: temperatures from 5 devices and orders, over two days. */
    static void archive(Lake lake, int count, long seed) {
        EventsTable events = lake.events();
        ArchiveState basis = events.state();
        long from = basis.offsets().getOrDefault(0, 0L);
        ArchivePlan plan = new ArchivePlan(
                basis.lastRun() + 1, 1_000, basis, Map.of(0, from), Map.of(0, from + count), EventsTable.newAttempt());
        Random random = new Random(seed);
        List<DataFile> files;
        try (EventFileWriter writer = events.writers(plan.run(), plan.attempt()).open(0)) {
            for (long offset = from; offset < from + count; offset++) {
                Instant time = T0.plusSeconds(offset * 97 % (2 * 86_400));
                boolean temperature = random.nextInt(4) > 0;
                writer.write(
                        new Event(
                                "e-" + offset,
                                temperature ? "device-" + random.nextInt(5) : "billing",
                                temperature ? "temperature" : "order",
                                time,
                                random.nextInt(10) == 0 ? null : Math.round(random.nextGaussian() * 1000) / 100.0,
                                Map.of("site", SITES[random.nextInt(SITES.length)]),
                                time),
                        0,
                        offset,
                        time.toEpochMilli() + 5);
            }
            files = writer.finish();
        }
        try {
            events.commit(plan, files, count, 0);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static void sites(Lake lake) throws Exception {
        DatasetTable sites = lake.createDataset(
                "sites",
                List.of(
                        new DatasetColumn("site", ColumnType.STRING, true),
                        new DatasetColumn("region", ColumnType.STRING, true)));
        DatasetWriter writer = sites.writer("u1", T0.toEpochMilli());
        writer.write(new Object[] {"north", "Nordics"});
        writer.write(new Object[] {"south", "Iberia"});
        writer.write(new Object[] {"east", "Baltics"});
        sites.commit(
                writer.finish(), writer.schemaId(), new DatasetTable.Adding("u1", "sha-u1", "sites.csv", 3, 0, ""));
    }

    static String files(org.apache.iceberg.Table table) {
        table.refresh();
        return "["
                + TableVersion.of(table.name(), table).files().stream()
                        .map(f -> "'" + f.location().replaceFirst("^file:", "") + "'")
                        .collect(Collectors.joining(", "))
                + "]";
    }

    static List<String> duckdb(String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
                Statement s = c.createStatement()) {
            s.execute("SET TimeZone = 'UTC'");
            List<String> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery(sql)) {
                while (rs.next()) {
                    List<String> row = new ArrayList<>();
                    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                        row.add(String.valueOf(rs.getObject(i)));
                    }
                    rows.add(String.join("|", row));
                }
            }
            return rows;
        }
    }

    static final String READINGS_BY_DUCKDB = "SELECT id, source, epoch_us(\"time\"), \"value\", attributes['site']"
            + " FROM read_parquet(%s) WHERE type = 'temperature' AND \"value\" IS NOT NULL ORDER BY id";
    static final String READINGS_OUTPUT =
            "SELECT id, device, epoch_us(\"time\"), celsius, site FROM read_parquet(%s) ORDER BY id";

    @Test
    void anIncrementalTransformAppliesEachNewEventsSnapshotOnceAndEqualsDuckDbOverTheSameFiles() throws Exception {
        TransformDefinition readings = example("temperature_readings");
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            Transforms.Outcome none = Transforms.run(engine, lake, readings);
            assertThat(none.rows()).as("no events yet: an empty output").isZero();
            archive(lake, 400, 1);
            Transforms.Outcome first = Transforms.run(engine, lake, readings);
            assertThat(first.applied()).isTrue();
            CuratedTable output = lake.curated("temperature_readings").orElseThrow();
            String events = files(lake.events().table());
            assertThat(duckdb(READINGS_OUTPUT.formatted(files(output.table()))))
                    .isNotEmpty()
                    .hasSize((int) first.rows())
                    .isEqualTo(duckdb(READINGS_BY_DUCKDB.formatted(events)));

            assertThat(Transforms.run(engine, lake, readings).applied())
                    .as("nothing new")
                    .isFalse();

            archive(lake, 300, 2);
            Transforms.Outcome second = Transforms.run(engine, lake, readings);
            long eventsSnapshot = lake.events().table().currentSnapshot().snapshotId();
            assertThat(second.applied()).isTrue();
            assertThat(second.inputs()).isEqualTo(Map.of("events", eventsSnapshot));
            assertThat(second.read()).isEqualTo("events=" + first.inputs().get("events") + ".." + eventsSnapshot);
            assertThat(duckdb(READINGS_OUTPUT.formatted(files(output.table()))))
                    .hasSize((int) (first.rows() + second.rows()))
                    .isEqualTo(duckdb(
                            READINGS_BY_DUCKDB.formatted(files(lake.events().table()))));
            Snapshot last = output.table().currentSnapshot();
            assertThat(last.summary())
                    .containsEntry(CuratedTable.INPUTS, "events=" + eventsSnapshot)
                    .containsEntry(CuratedTable.TRANSFORM, "temperature_readings");
            assertThat(output.runs()).hasSize(3);

            CuratedTable.Run back = output.rollback();
            assertThat(back.inputs()).isEqualTo(first.inputs());
            assertThat(output.runs()).hasSize(2);
            assertThat(duckdb(READINGS_OUTPUT.formatted(files(output.table()))))
                    .as("rolled back to the first run's rows")
                    .isEqualTo(duckdb(READINGS_BY_DUCKDB.formatted(events)));
            Transforms.Outcome again = Transforms.run(engine, lake, readings);
            assertThat(again.read()).as("the later snapshot applied again").isEqualTo(second.read());
            assertThat(duckdb(READINGS_OUTPUT.formatted(files(output.table()))))
                    .isEqualTo(duckdb(
                            READINGS_BY_DUCKDB.formatted(files(lake.events().table()))));
        }
    }

    /**
     * A task's files go back to the client inline, or, past the inline limit (a task writing
     * thousands of partitions), through a file of the output table that the client deletes once read.
     */
    @Test
    void aTaskHandsItsFilesBackInlineOrThroughAFileOfTheOutputTable() throws Exception {
        TransformDefinition readings = example("temperature_readings");
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            Transforms.run(engine, lake, readings); // no events yet: creates the output table
            archive(lake, 400, 1);
            CuratedTable output = lake.curated("temperature_readings").orElseThrow();
            int expected = duckdb(
                            READINGS_BY_DUCKDB.formatted(files(lake.events().table())))
                    .size();
            Path metadata = Path.of(output.table().location().replaceFirst("^file:", ""), "metadata");
            for (int inlineUpTo : List.of(HandBack.INLINE_UP_TO, 0)) {
                TransformJob.Planned planned = TransformJob.plan(
                        engine.environment(),
                        readings,
                        name -> Transforms.input(lake, readings, output.applied(), name));
                TransformJob.Written written = TransformJob.write(
                        planned,
                        new OutputWriter.Factory(output.table(), "handback-" + inlineUpTo, inlineUpTo),
                        "hand back " + inlineUpTo);
                assertThat(written.rows())
                        .as("inline up to %d bytes", inlineUpTo)
                        .isEqualTo(expected);
                assertThat(written.files())
                        .isNotEmpty()
                        .allSatisfy(f -> assertThat(Path.of(f.location().replaceFirst("^file:", "")))
                                .exists());
                assertThat(written.files().stream()
                                .mapToLong(DataFile::recordCount)
                                .sum())
                        .isEqualTo(expected);
                try (var left = Files.list(metadata)) {
                    assertThat(left.map(f -> f.getFileName().toString()))
                            .as("the hand-back files are deleted once read")
                            .noneMatch(n -> n.startsWith("hand-back-"));
                }
            }
        }
    }

    @Test
    void aReplaceTransformJoinsADatasetAndEqualsDuckDbAfterEveryBatch() throws Exception {
        TransformDefinition summary = example("daily_source_summary");
        String byDuckDb = "SELECT CAST(e.\"time\" AS DATE), e.source, s.region, count(*), round(avg(e.\"value\"), 6)"
                + " FROM read_parquet(%s) e LEFT JOIN read_parquet(%s) s ON e.attributes['site'] = s.site"
                + " GROUP BY ALL ORDER BY ALL";
        String output =
                "SELECT \"day\", source, region, events, round(avg_value, 6) FROM read_parquet(%s) ORDER BY ALL";
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            sites(lake);
            archive(lake, 500, 3);
            assertThat(Transforms.run(engine, lake, summary).applied()).isTrue();
            CuratedTable out = lake.curated("daily_source_summary").orElseThrow();
            String sites = files(lake.dataset("sites").orElseThrow().table());
            assertThat(duckdb(output.formatted(files(out.table()))))
                    .isNotEmpty()
                    .isEqualTo(duckdb(byDuckDb.formatted(files(lake.events().table()), sites)));
            assertThat(out.table().spec().fields()).hasSize(1);

            archive(lake, 200, 4);
            Transforms.Outcome again = Transforms.run(engine, lake, summary);
            assertThat(again.applied()).isTrue();
            assertThat(again.inputs()).containsOnlyKeys("events", "sites");
            assertThat(duckdb(output.formatted(files(out.table()))))
                    .as("every day's partition replaced, none twice")
                    .isEqualTo(duckdb(byDuckDb.formatted(files(lake.events().table()), sites)));
            assertThat(Transforms.run(engine, lake, summary).applied()).isFalse();

            // A second upload into the joined dataset: the site "nowhere" gets a region.
            DatasetTable table = lake.dataset("sites").orElseThrow();
            DatasetWriter writer = table.writer("u2", T0.toEpochMilli() + 1);
            writer.write(new Object[] {"nowhere", "Alps"});
            table.commit(
                    writer.finish(),
                    writer.schemaId(),
                    new DatasetTable.Adding("u2", "sha-u2", "sites-nowhere.csv", 1, 0, ""));
            Transforms.Outcome afterUpload = Transforms.run(engine, lake, summary);
            assertThat(afterUpload.applied())
                    .as("a new snapshot of the dataset is new input")
                    .isTrue();
            assertThat(afterUpload.inputs().get("sites"))
                    .isNotEqualTo(again.inputs().get("sites"));
            String bothUploads = files(lake.dataset("sites").orElseThrow().table());
            assertThat(duckdb(output.formatted(files(out.table()))))
                    .as("the events of site nowhere now have a region")
                    .anyMatch(row -> row.contains("|Alps|"))
                    .isEqualTo(duckdb(byDuckDb.formatted(files(lake.events().table()), bothUploads)));

            // A transform over another's output: the regions' totals of the summary.
            TransformDefinition regions = transform("""
                    transforms:
                      - name: region_totals
                        sql: |
                          SELECT region, SUM(events) AS events FROM daily_source_summary GROUP BY region
                        output: {table: region_totals, partitionBy: []}
                        mode: replace
                    """);
            Transforms.Outcome chained = Transforms.run(engine, lake, regions);
            assertThat(chained.inputs()).containsOnlyKeys("daily_source_summary");
            assertThat(duckdb("SELECT region, events FROM read_parquet(%s) ORDER BY ALL"
                            .formatted(files(
                                    lake.curated("region_totals").orElseThrow().table()))))
                    .isEqualTo(duckdb(("SELECT s.region, count(*) FROM read_parquet(%s) e LEFT JOIN read_parquet(%s) s"
                                    + " ON e.attributes['site'] = s.site GROUP BY ALL ORDER BY ALL")
                            .formatted(files(lake.events().table()), bothUploads)));
        }
    }

    @Test
    void racingRunsApplyEachInputSnapshotExactlyOnce() throws Exception {
        TransformDefinition readings = example("temperature_readings");
        try (Lake setup = Lake.open(LakeConfig.local(dir))) {
            archive(setup, 300, 5);
        }
        ExecutorService threads = Executors.newFixedThreadPool(3);
        try (Engine other = Engine.local(1)) {
            List<Future<?>> runs = new ArrayList<>();
            for (Engine e : List.of(engine, other, engine)) {
                runs.add(threads.submit(() -> {
                    try (Lake lake = Lake.open(LakeConfig.local(dir))) { // as another process would
                        return Transforms.run(e, lake, readings);
                    }
                }));
            }
            for (Future<?> f : runs) {
                f.get();
            }
        } finally {
            threads.shutdownNow();
        }
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            CuratedTable output = lake.curated("temperature_readings").orElseThrow();
            assertThat(output.runs())
                    .as("one run applied the snapshot; the others found it applied")
                    .hasSize(1);
            assertThat(duckdb(READINGS_OUTPUT.formatted(files(output.table()))))
                    .isEqualTo(duckdb(
                            READINGS_BY_DUCKDB.formatted(files(lake.events().table()))));
        }
    }

    @Test
    void theSchedulerRunsATransformWhenItsInputHasANewSnapshotOrItsIntervalPassedAndRetriesAFailedOneLater()
            throws Exception {
        long[] now = {0};
        TransformDefinition readings = example("temperature_readings");
        TransformDefinition hourly = transform("""
                transforms:
                  - name: per_source
                    sql: SELECT source, count(*) AS n FROM events GROUP BY source
                    output: {table: per_source}
                    mode: replace
                    trigger: {every: PT1H}
                """);
        TransformDefinition broken = transform("""
                transforms:
                  - name: broken
                    sql: SELECT site FROM sites
                    output: {table: broken}
                    mode: replace
                """);
        TransformDefinition zones = transform("""
                transforms:
                  - name: zone_list
                    sql: SELECT zone FROM zones
                    output: {table: zone_list}
                    mode: replace
                """);
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            DatasetTable empty =
                    lake.createDataset("zones", List.of(new DatasetColumn("zone", ColumnType.STRING, true)));
            TransformScheduler scheduler =
                    new TransformScheduler(engine, lake, List.of(readings, hourly, broken, zones), () -> now[0]);
            archive(lake, 200, 8);
            assertThat(scheduler.runDue())
                    .as("first time: every transform; the broken one fails alone")
                    .extracting(Transforms.Outcome::transform)
                    .containsExactly("temperature_readings", "per_source", "zone_list");
            DatasetWriter writer = empty.writer("z1", T0.toEpochMilli());
            writer.write(new Object[] {"z-1"});
            empty.commit(
                    writer.finish(), writer.schemaId(), new DatasetTable.Adding("z1", "sha-z1", "z.csv", 1, 0, ""));
            assertThat(scheduler.runDue())
                    .as("the dataset empty at the first run has its first snapshot: new input")
                    .extracting(Transforms.Outcome::transform, Transforms.Outcome::rows)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("zone_list", 1L));
            now[0] += Duration.ofSeconds(30).toNanos();
            assertThat(scheduler.runDue())
                    .as("nothing new, no interval passed, the failure is recent")
                    .isEmpty();

            archive(lake, 100, 9);
            now[0] += Duration.ofSeconds(31).toNanos();
            assertThat(scheduler.runDue())
                    .as("new events: the incremental one; a minute after its failure: the broken one, failing again")
                    .extracting(Transforms.Outcome::transform, Transforms.Outcome::applied)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("temperature_readings", true));
            now[0] += Duration.ofHours(1).toNanos();
            sites(lake);
            List<Transforms.Outcome> later = scheduler.runDue();
            assertThat(later)
                    .as("an hour later: the hourly one (its input moved: it recomputes) and the mended one")
                    .extracting(Transforms.Outcome::transform, Transforms.Outcome::applied)
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple("per_source", true),
                            org.assertj.core.groups.Tuple.tuple("broken", true));
        }
    }

    @Test
    void aRunCrashedMidWriteOrBeforeItsCommitLeavesNothingAppliedAndTheNextRunAppliesItOnce() throws Exception {
        TransformDefinition readings = example("temperature_readings");
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            archive(lake, 600, 10);
            for (String point : List.of("transform-mid-write", "transform-before-commit")) {
                CrashPoints.arm(point);
                try {
                    assertThatThrownBy(() -> Transforms.run(engine, lake, readings))
                            .as(point)
                            .hasStackTraceContaining("injected crash at " + point);
                } finally {
                    CrashPoints.arm(null);
                }
                assertThat(lake.curated("temperature_readings").orElseThrow().runs())
                        .as("after a crash at " + point)
                        .isEmpty();
            }
            assertThat(Transforms.run(engine, lake, readings).applied()).isTrue();
            CuratedTable output = lake.curated("temperature_readings").orElseThrow();
            assertThat(output.runs()).hasSize(1);
            assertThat(duckdb(READINGS_OUTPUT.formatted(files(output.table()))))
                    .as("the crashed runs' files are never read")
                    .isEqualTo(duckdb(
                            READINGS_BY_DUCKDB.formatted(files(lake.events().table()))));
        }
    }

    @Test
    void aReplayShowsThePartitionsANewQueryWouldChangeAndReplacesOnlyThoseInItsRange() throws Exception {
        TransformDefinition readings = example("temperature_readings");
        TransformDefinition rounded = new TransformDefinition(
                readings.name(),
                readings.sql().replace("`value` AS celsius", "ROUND(`value`, 0) AS celsius"),
                readings.output(),
                readings.partitionBy(),
                readings.mode(),
                readings.incremental(),
                readings.every(),
                readings.onNewInput());
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            archive(lake, 500, 11);
            Transforms.run(engine, lake, readings);
            CuratedTable output = lake.curated("temperature_readings").orElseThrow();
            Replay.Result same = Replay.run(engine, lake, readings, Optional.empty(), Optional.empty(), true);
            assertThat(same.changes()).as("the same query over the same inputs").isEmpty();
            assertThat(same.partitionsCompared()).isEqualTo(2); // the events span two days

            Replay.Result dry = Replay.run(engine, lake, rounded, Optional.empty(), Optional.empty(), true);
            assertThat(dry.changes())
                    .extracting(Replay.Change::partition)
                    .containsExactly("time_day=2026-11-28", "time_day=2026-11-29");
            assertThat(output.runs()).as("a dry run commits nothing").hasSize(1);

            Instant day2 = Instant.parse("2026-11-29T00:00:00Z");
            Replay.Result done = Replay.run(engine, lake, rounded, Optional.of(day2), Optional.empty(), false);
            assertThat(done.changes()).extracting(Replay.Change::partition).containsExactly("time_day=2026-11-29");
            assertThat(done.snapshot()).isPresent();
            String events = files(lake.events().table());
            assertThat(duckdb(READINGS_OUTPUT.formatted(files(output.table()))))
                    .as("day 1 as it was, day 2 recomputed")
                    .isEqualTo(duckdb(("SELECT id, source, epoch_us(\"time\"), CASE WHEN \"time\" < TIMESTAMPTZ '"
                                    + day2 + "' THEN \"value\" ELSE round(\"value\", 0) + 0.0 END, attributes['site']"
                                    + " FROM read_parquet(%s) WHERE type = 'temperature' AND \"value\" IS NOT NULL"
                                    + " ORDER BY id")
                            .formatted(events)));
            assertThat(Transforms.run(engine, lake, rounded).applied())
                    .as("the replay recorded the inputs it covered")
                    .isFalse();
        }
    }

    /** A replace transform reads the batch views' readable columns, equal to DuckDB over the same files. */
    @Test
    void aReplaceTransformReadsTheBatchViews() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            List<ViewDefinition> views = ViewConfig.defaults();
            Map<ViewKey, Aggregate> cells = new HashMap<>();
            for (int i = 0; i < 300; i++) {
                Instant time = T0.plusSeconds(i * 13L % 7_200);
                Event e = new Event("e" + i, "dev-" + (i % 4), "temperature", time, (double) i, Map.of(), time);
                for (ViewDefinition view : views) {
                    cells.computeIfAbsent(
                                    new ViewKey(
                                            view.name(), view.group(e), view.windowStartMillis(time.toEpochMilli()), 0),
                                    k -> Aggregate.empty(view))
                            .fold(e);
                }
            }
            Map<String, String> definitions = new HashMap<>();
            views.forEach(v -> definitions.put(v.name(), v.toString()));
            lake.views()
                    .commit(
                            java.util.OptionalLong.empty(),
                            new ViewsTable.Contents(
                                    1, 60_000, CutSettings.DEFAULTS, definitions, "fold", views, cells));
            TransformDefinition daily = transform("""
                    transforms:
                      - name: daily_per_source
                        sql: |
                          SELECT source, CAST(window_start AS DATE) AS `day`, SUM(`count`) AS events, MAX(`max`) AS peak
                          FROM batch_views WHERE view = 'events_per_source_1m'
                          GROUP BY source, CAST(window_start AS DATE)
                        output: {table: daily_per_source, partitionBy: [day]}
                        mode: replace
                    """);
            Transforms.Outcome outcome = Transforms.run(engine, lake, daily);
            assertThat(outcome.applied()).isTrue();
            assertThat(outcome.inputs()).containsOnlyKeys("batch_views");
            assertThat(duckdb("SELECT source, \"day\", events, peak FROM read_parquet(%s) ORDER BY ALL"
                            .formatted(files(lake.curated("daily_per_source")
                                    .orElseThrow()
                                    .table()))))
                    .hasSize(4)
                    .isEqualTo(duckdb(("SELECT source, CAST(window_start AS DATE), SUM(\"count\"), MAX(\"max\")"
                                    + " FROM read_parquet(%s) WHERE view = 'events_per_source_1m' GROUP BY ALL"
                                    + " ORDER BY ALL")
                            .formatted(files(lake.views().table()))));
        }
    }

    static TransformDefinition transform(String yaml) {
        return TransformConfig.parse(yaml.getBytes(StandardCharsets.UTF_8)).get(0);
    }

    @Test
    void aBadTransformGetsItsSpecificErrorAndOthersKeepRunning() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            archive(lake, 100, 6);
            assertThatThrownBy(() -> Transforms.run(engine, lake, transform("""
                            transforms:
                              - name: t1
                                sql: SELECT id FROM nope
                                output: {table: t1}
                            """)))
                    .isInstanceOf(TransformException.class)
                    .hasMessageContaining("transform 't1'")
                    .hasMessageContaining("unknown table 'nope'");
            assertThatThrownBy(() -> Transforms.run(engine, lake, transform("""
                            transforms:
                              - name: t2
                                sql: SELECT missing_column FROM events
                                output: {table: t2}
                            """)))
                    .isInstanceOf(TransformException.class)
                    .hasMessageContaining("transform 't2': its SQL does not plan")
                    .hasMessageContaining("missing_column")
                    .hasMessageContaining("; inputs events="
                            + lake.events().table().currentSnapshot().snapshotId());
            assertThatThrownBy(() -> Transforms.run(engine, lake, transform("""
                            transforms:
                              - name: t7
                                sql: SELECT CAST(id AS INT) AS n FROM events
                                output: {table: t7}
                            """)))
                    .isInstanceOf(TransformException.class)
                    .hasMessageContaining("transform 't7': its job failed")
                    .hasMessageContaining("NumberFormatException")
                    .hasMessageContaining("; inputs events="
                            + lake.events().table().currentSnapshot().snapshotId());
            assertThatThrownBy(() -> Transforms.run(engine, lake, transform("""
                            transforms:
                              - name: t3
                                sql: SELECT id FROM t3
                                output: {table: t3}
                            """)))
                    .hasMessageContaining("reads its own output table 't3'");
            assertThatThrownBy(() -> Transforms.run(engine, lake, transform("""
                            transforms:
                              - name: t4
                                sql: SELECT id FROM sites
                                output: {table: t4}
                                mode: incremental
                                incremental: events
                            """)))
                    .hasMessageContaining("unknown table 'sites'");
            assertThatThrownBy(() -> Transforms.run(engine, lake, transform("""
                            transforms:
                              - name: t6
                                sql: SELECT 1 AS x
                                output: {table: t6}
                            """)))
                    .hasMessageContaining("incremental over 'events', which its SQL does not read");

            sites(lake);
            assertThatThrownBy(() -> Transforms.run(engine, lake, transform("""
                            transforms:
                              - name: t5
                                sql: SELECT id FROM events
                                output: {table: sites}
                            """)))
                    .hasMessageContaining("output table 'sites' is the name of an uploaded dataset");

            assertThat(Transforms.run(engine, lake, transform("""
                            transforms:
                              - name: ids
                                sql: SELECT id, source FROM events
                                output: {table: ids}
                            """)).applied()).isTrue();
            archive(lake, 50, 7);
            assertThatThrownBy(() -> Transforms.run(engine, lake, transform("""
                            transforms:
                              - name: ids
                                sql: SELECT id, `value` FROM events
                                output: {table: ids}
                            """)))
                    .isInstanceOf(TransformException.class)
                    .hasMessageContaining("does not fit its output table 'ids'")
                    .hasMessageContaining("value double")
                    .hasMessageContaining("source string")
                    .hasMessageContaining("inputs events="
                            + lake.events().table().currentSnapshot().snapshotId());
            assertThat(Transforms.run(engine, lake, example("temperature_readings"))
                            .applied())
                    .as("the others keep running")
                    .isTrue();
        }
    }
}
