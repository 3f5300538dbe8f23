package dev.strata.lake;

import static dev.strata.lake.EventsTableTest.plan;
import static dev.strata.lake.EventsTableTest.write;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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

/**
 * The lake's upkeep never changes a query's answer: the same rows before and after compaction,
 * expiry and orphan removal (Iceberg's reader and DuckDB over the planned files), the archive's
 * offsets carried through every snapshot it makes, and the retention dropping exactly the hours past it.
 */
class MaintenanceTest {

    /** Events at T0 + offset × 90 s: 5 runs × 40 offsets on 2 Kafka partitions span hours 10:00 to 14:59. */
    static final Instant T0 = EventsTableTest.T0;

    static final Maintenance.Settings SETTINGS = new Maintenance.Settings(
            Duration.ofHours(2), 32L << 20, 128L << 20, 1, Duration.ZERO, Duration.ofHours(24), Optional.empty());

    @TempDir
    Path dir;

    /** Five archive runs, each a file per Kafka partition and hour: many small files. */
    static void archive(EventsTable events, int runs) throws ArchiveConflict {
        for (int run = 1; run <= runs; run++) {
            ArchiveState basis = events.state();
            long from = (run - 1) * 40L;
            ArchivePlan plan = plan(basis, run * 1_000L, Map.of(0, from + 40, 1, from + 40));
            List<DataFile> files = new ArrayList<>(write(events, plan.run(), plan.attempt(), 0, from, from + 40));
            files.addAll(write(events, plan.run(), plan.attempt(), 1, from, from + 40));
            events.commit(plan, files, 80, 0);
        }
    }

    /** Every row, as text, in a stable order. */
    static List<String> rows(Table table) throws Exception {
        table.refresh();
        List<String> rows = new ArrayList<>();
        try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
            for (Record r : records) {
                rows.add(r.toString());
            }
        }
        rows.sort(null);
        return rows;
    }

    /** DuckDB's answer over the current snapshot's files: count, distinct offsets, sum of value, per-hour counts. */
    static String duckdb(EventsTable events) throws Exception {
        String list = events.current().files().stream()
                .map(f -> "'" + OrphanFiles.normalize(f.location()) + "'")
                .collect(Collectors.joining(", "));
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                Statement sql = duck.createStatement();
                ResultSet r = sql.executeQuery("SELECT count(*), count(DISTINCT (kafka_partition, kafka_offset)),"
                        + " sum(value), string_agg(h || ':' || n, ',' ORDER BY h) FROM (SELECT hour(time) AS h,"
                        + " count(*) AS n, sum(value) AS value, any_value(kafka_partition) AS kafka_partition,"
                        + " any_value(kafka_offset) AS kafka_offset FROM read_parquet([" + list + "]) GROUP BY h)")) {
            r.next();
            return r.getLong(1) + " hours, " + r.getString(4) + ", sum " + r.getDouble(3);
        }
    }

    static long filesIn(EventsTable events, String hourPartition) {
        return events.current().files().stream()
                .filter(f -> f.partition().equals(hourPartition))
                .count();
    }

    /** Builds the identity index of a data file of the partition, dated days back; returns where it is. */
    private static Path index(EventsTable events, String hourPartition) throws Exception {
        String file = events.current().files().stream()
                .filter(f -> f.partition().equals(hourPartition))
                .findFirst()
                .orElseThrow()
                .location();
        IdentityIndex.build(events.table().io(), file);
        Path index = Path.of(OrphanFiles.normalize(IdentityIndex.location(file)));
        Files.setLastModifiedTime(index, FileTime.from(Instant.now().minus(Duration.ofDays(3))));
        return index;
    }

    static Clock at(Instant instant) {
        return Clock.fixed(instant, ZoneOffset.UTC);
    }

    @Test
    void compactionExpiryAndOrphanRemovalKeepEveryAnswerAndWhereTheArchiveStands() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            EventsTable events = lake.events();
            archive(events, 5);
            List<String> before = rows(events.table());
            String answer = duckdb(events);
            ArchiveState state = events.state();
            String oldHour = "time_hour=2026-11-30-10";
            String recentHour = "time_hour=2026-11-30-14";
            long recentFiles = filesIn(events, recentHour);
            assertThat(filesIn(events, oldHour)).isGreaterThan(1);
            // A crashed writer's files: one from long ago, one being written now.
            List<DataFile> crashed = write(events, 6, "crashed", 0, 1_000, 1_010);
            Path oldOrphan = Path.of(OrphanFiles.normalize(crashed.get(0).location()));
            Files.setLastModifiedTime(oldOrphan, FileTime.from(Instant.now().minus(Duration.ofDays(3))));
            List<DataFile> inProgress = write(events, 6, "writing", 0, 2_000, 2_010);
            Path youngOrphan = Path.of(OrphanFiles.normalize(inProgress.get(0).location()));
            // Identity indexes (derived, beside their data files): one of a file compaction replaces, one of a kept
            // file.
            Path replacedIndex = index(events, oldHour);
            Path keptIndex = index(events, recentHour);

            // Now, with compact-after reaching back to 13:30: the hours before 13:00 are compacted.
            Instant now = Instant.now();
            Maintenance.Settings settings = new Maintenance.Settings(
                    Duration.between(Instant.parse("2026-11-30T13:30:00Z"), now),
                    32L << 20,
                    128L << 20,
                    1,
                    Duration.ZERO,
                    Duration.ofHours(24),
                    Optional.empty());
            Maintenance.Report report = Maintenance.run(lake, settings, at(now));

            assertThat(report.partitionsCompacted()).isEqualTo(3);
            assertThat(filesIn(events, oldHour)).isEqualTo(1);
            assertThat(filesIn(events, recentHour)).isEqualTo(recentFiles);
            assertThat(rows(events.table())).isEqualTo(before);
            assertThat(duckdb(events)).isEqualTo(answer);
            assertThat(events.state().offsets()).isEqualTo(state.offsets());
            assertThat(events.state().lastRun()).isEqualTo(5);
            assertThat(events.table().currentSnapshot().summary())
                    .containsEntry(Maintenance.OPERATION, "compaction")
                    .containsKey(EventsTable.OFFSETS);
            // Expired down to the current snapshot (the next run: this one's own are younger than its
            // clock): it alone says where the archive stands.
            Maintenance.Report again = Maintenance.run(lake, settings, at(Instant.now()));
            assertThat(again.partitionsCompacted()).isZero();
            events.table().refresh();
            assertThat(events.table().snapshots()).hasSize(1);
            assertThat(rows(events.table())).isEqualTo(before);
            assertThat(events.state().offsets()).isEqualTo(state.offsets());
            assertThat(report.orphansRemoved()).isGreaterThanOrEqualTo(1);
            assertThat(oldOrphan).doesNotExist();
            assertThat(youngOrphan).exists();
            assertThat(replacedIndex).doesNotExist();
            assertThat(keptIndex).exists();

            // The next archive run plans from the carried state and commits on top.
            ArchivePlan next = plan(events.state(), 6_000, Map.of(0, 240L));
            events.commit(next, write(events, 6, next.attempt(), 0, 200, 240), 40, 0);
            assertThat(events.state().offsets()).isEqualTo(Map.of(0, 240L, 1, 200L));
            assertThat(rows(events.table())).hasSize(before.size() + 40);
        }
    }

    @Test
    void retentionDropsWholeHoursPastItAndRecordsTheFloorThatLaterCommitsCarry() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            EventsTable events = lake.events();
            archive(events, 5);
            List<String> kept = rows(events.table()).stream()
                    .filter(r -> !r.contains("2026-11-30T10:") && !r.contains("2026-11-30T11:"))
                    .toList();
            ArchiveState state = events.state();

            // 12:20 a day later with 25 h of retention: the floor is 11:00 + 1 h = 12:00... of the day before.
            Maintenance.Settings retention = new Maintenance.Settings(
                    Duration.ofHours(2),
                    32L << 20,
                    128L << 20,
                    10,
                    Duration.ofHours(1),
                    Duration.ofHours(24),
                    Optional.of(Duration.ofHours(24)));
            Maintenance.Report report = Maintenance.run(lake, retention, at(Instant.parse("2026-12-01T12:20:00Z")));

            assertThat(report.partitionsDropped()).isEqualTo(2);
            assertThat(rows(events.table())).isEqualTo(kept);
            assertThat(events.retentionFloorMillis())
                    .isEqualTo(Instant.parse("2026-11-30T12:00:00Z").toEpochMilli());
            assertThat(events.state().offsets()).isEqualTo(state.offsets());
            ArchivePlan next = plan(events.state(), 6_000, Map.of(0, 210L));
            events.commit(next, write(events, 6, next.attempt(), 0, 200, 210), 10, 0);
            assertThat(events.retentionFloorMillis())
                    .isEqualTo(Instant.parse("2026-11-30T12:00:00Z").toEpochMilli());
        }
    }

    @Test
    void racingUpkeepAndArchiveRunsLoseNothingAndDuplicateNothing() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            EventsTable events = lake.events();
            archive(events, 5);
            List<String> before = rows(events.table());
            ExecutorService pool = Executors.newFixedThreadPool(3);
            List<Future<?>> racers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                racers.add(pool.submit(() -> {
                    try (Lake own = Lake.open(LakeConfig.local(dir))) {
                        return Maintenance.run(own, SETTINGS, Clock.systemUTC());
                    }
                }));
            }
            racers.add(pool.submit(() -> {
                try (Lake own = Lake.open(LakeConfig.local(dir))) {
                    EventsTable table = own.events();
                    for (int run = 6; run <= 8; run++) {
                        long from = (run - 1) * 40L;
                        ArchivePlan plan = plan(table.state(), run * 1_000L, Map.of(0, from + 40));
                        table.commit(plan, write(table, run, plan.attempt(), 0, from, from + 40), 40, 0);
                    }
                }
                return null;
            }));
            for (Future<?> f : racers) {
                f.get();
            }
            pool.shutdown();

            List<String> after = rows(events.table());
            assertThat(after).hasSize(before.size() + 120);
            assertThat(after).containsAll(before);
            assertThat(after.stream().distinct().count()).isEqualTo(after.size());
            assertThat(events.state().offsets()).isEqualTo(Map.of(0, 320L, 1, 200L));
            assertThat(events.state().lastRun()).isEqualTo(8);
        }
    }
}
