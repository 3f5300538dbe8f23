package dev.strata.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.schemas.Event;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventsTableTest {

    static final Instant T0 = Instant.parse("2026-11-30T10:00:00Z");

    @TempDir
    Path dir;

    static List<DataFile> write(EventsTable events, long run, String attempt, int partition, long from, long until) {
        try (EventFileWriter writer = events.writers(run, attempt).open(partition)) {
            for (long offset = from; offset < until; offset++) {
                Instant time = T0.plusSeconds(offset * 90); // a few hours
                writer.write(
                        new Event(
                                "e-" + partition + "-" + offset,
                                "s",
                                "t",
                                time,
                                (double) offset,
                                Map.of("k", "v"),
                                time),
                        partition,
                        offset,
                        time.toEpochMilli() + 5);
            }
            return writer.finish();
        }
    }

    static ArchivePlan plan(ArchiveState basis, long cut, Map<Integer, Long> until) {
        Map<Integer, Long> from = until.keySet().stream()
                .collect(Collectors.toMap(p -> p, p -> basis.offsets().getOrDefault(p, 0L)));
        return new ArchivePlan(basis.lastRun() + 1, cut, basis, from, until, EventsTable.newAttempt());
    }

    @Test
    void aRunIsOneSnapshotThatRecordsWhereTheArchiveStandsAndEveryEngineReadsItsRows() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            EventsTable events = lake.events();
            assertThat(events.state()).isEqualTo(ArchiveState.EMPTY);
            ArchivePlan plan = plan(events.state(), 1_000, Map.of(0, 200L, 1, 100L));
            List<DataFile> files = new ArrayList<>(write(events, 1, plan.attempt(), 0, 0, 200));
            files.addAll(write(events, 1, plan.attempt(), 1, 0, 100));

            events.commit(plan, files, 300, 0);

            ArchiveState state = events.state();
            assertThat(state.offsets()).isEqualTo(Map.of(0, 200L, 1, 100L));
            assertThat(state.lastRun()).isEqualTo(1);
            assertThat(state.lastCutMillis()).isEqualTo(1_000);
            assertThat(events.runs()).singleElement().satisfies(r -> {
                assertThat(r.run()).isEqualTo(1);
                assertThat(r.rows()).isEqualTo(300);
            });
            // Iceberg's own reader and DuckDB over the planned files agree.
            Table table = events.table();
            try (CloseableIterable<Record> rows = IcebergGenerics.read(table).build()) {
                assertThat(rows).hasSize(300);
            }
            String list = events.filesOfRunsFrom(1).stream()
                    .map(f -> "'" + f.location().replace("file:", "") + "'")
                    .collect(Collectors.joining(", "));
            try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                    Statement sql = duck.createStatement();
                    ResultSet r = sql.executeQuery("SELECT count(*), count(DISTINCT (kafka_partition, kafka_offset)),"
                            + " min(time), count(DISTINCT date_trunc('hour', time)) FROM read_parquet([" + list
                            + "])")) {
                r.next();
                assertThat(r.getLong(1)).isEqualTo(300);
                assertThat(r.getLong(2)).isEqualTo(300);
                assertThat(r.getObject(3).toString()).startsWith("2026-11-30");
            }
            assertThat(events.filesOfRunsFrom(2)).isEmpty();
        }
    }

    @Test
    void ofRacingWritersPlannedFromTheSameStateExactlyOneCommitsAndTheOthersAreToldSo() throws Exception {
        try (Lake first = Lake.open(LakeConfig.local(dir))) {
            ArchiveState basis = first.events().state();
            int racers = 6;
            ExecutorService pool = Executors.newFixedThreadPool(racers);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<String>> outcomes = new ArrayList<>();
            for (int i = 0; i < racers; i++) {
                outcomes.add(pool.submit(() -> {
                    try (Lake lake = Lake.open(LakeConfig.local(dir))) {
                        EventsTable events = lake.events();
                        ArchivePlan plan = plan(basis, 1_000, Map.of(0, 50L));
                        List<DataFile> files = write(events, plan.run(), plan.attempt(), 0, 0, 50);
                        go.await();
                        try {
                            events.commit(plan, files, 50, 0);
                            return "committed";
                        } catch (ArchiveConflict e) {
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
                    .allMatch(r -> r.contains("another batch process committed run 1"));
            try (CloseableIterable<Record> rows =
                    IcebergGenerics.read(first.events().table()).build()) {
                assertThat(rows).as("each offset once").hasSize(50);
            }
        }
    }

    @Test
    void aCommitPlannedFromAnOlderStateIsRefusedEvenWhenItsOwnOffsetsDoNotOverlap() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            EventsTable events = lake.events();
            ArchiveState basis = events.state();
            ArchivePlan one = plan(basis, 1_000, Map.of(0, 10L));
            events.commit(one, write(events, 1, one.attempt(), 0, 0, 10), 10, 0);
            ArchivePlan stale = plan(basis, 2_000, Map.of(1, 10L));

            assertThatThrownBy(() -> events.commit(stale, write(events, 1, stale.attempt(), 1, 0, 10), 10, 0))
                    .isInstanceOf(ArchiveConflict.class)
                    .hasMessageContaining("planned from run 0");
            assertThat(events.state().offsets()).isEqualTo(Map.of(0, 10L));
        }
    }

    @Test
    void theLayoutOfEarlierBuildsIsRefusedWithWhatToDo() throws Exception {
        java.nio.file.Files.createDirectories(dir.resolve("_manifest"));

        assertThatThrownBy(() -> Lake.open(LakeConfig.local(dir)))
                .isInstanceOf(LakeLayoutException.class)
                .hasMessageContaining("Move that directory aside");
        java.nio.file.Files.delete(dir.resolve("_manifest"));
        java.nio.file.Files.createDirectories(dir.resolve("sensors"));
        java.nio.file.Files.writeString(dir.resolve("sensors/_dataset.json"), "{}");
        assertThatThrownBy(() -> Lake.open(LakeConfig.local(dir)))
                .isInstanceOf(LakeLayoutException.class)
                .hasMessageContaining("a dataset manifest sensors/_dataset.json");
    }
}
