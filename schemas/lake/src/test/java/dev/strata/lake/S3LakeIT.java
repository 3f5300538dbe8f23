package dev.strata.lake;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.schemas.lake.ColumnType;
import dev.strata.schemas.lake.DatasetColumn;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.testing.S3Server;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lake on a real S3 implementation (S3Proxy with its filesystem store, its own process): every
 * table's files and metadata and the raw zone are objects in the bucket, read back through the
 * lake; racing writers commit one run there too.
 */
class S3LakeIT {

    @TempDir
    static Path dir;

    static S3Server s3;

    @BeforeAll
    static void start() throws Exception {
        s3 = S3Server.start(dir.resolve("s3"));
    }

    @AfterAll
    static void stop() {
        s3.close();
    }

    static LakeConfig config(String prefix) {
        return LakeConfig.objectStore(
                s3.warehouse(prefix),
                "jdbc:sqlite:" + dir.resolve(prefix + "-catalog.db"),
                ObjectStore.pathStyle(s3.endpoint(), S3Server.ACCESS_KEY, S3Server.SECRET_KEY));
    }

    @Test
    void everyTableAndTheRawZoneAreObjectsOfTheBucket() throws Exception {
        Path objects = s3.bucketDirectory().resolve("tables");
        try (Lake lake = Lake.open(config("tables"))) {
            EventsTable events = lake.events();
            ArchivePlan plan = EventsTableTest.plan(events.state(), 1_000, Map.of(0, 120L));
            events.commit(plan, EventsTableTest.write(events, 1, plan.attempt(), 0, 0, 120), 120, 0);
            assertThat(events.state().offsets()).isEqualTo(Map.of(0, 120L));
            try (CloseableIterable<Record> rows =
                    IcebergGenerics.read(events.table()).build()) {
                assertThat(rows).hasSize(120);
            }
            assertThat(events.current().files())
                    .isNotEmpty()
                    .allSatisfy(f -> assertThat(f.location()).startsWith("s3://strata/tables/strata/events/data/"));

            ViewsTable views = lake.views();
            List<ViewDefinition> defaults = ViewConfig.defaults();
            Map<String, ViewDefinition> byName =
                    defaults.stream().collect(Collectors.toMap(ViewDefinition::name, Function.identity()));
            long id = views.commit(
                    OptionalLong.empty(),
                    ViewsTableTest.contents(1, 60_000, defaults, ViewsTableTest.cells(defaults, 200)));
            assertThat(ViewsTableTest.measures(views.cells(id, byName)))
                    .isEqualTo(ViewsTableTest.measures(ViewsTableTest.cells(defaults, 200)));

            DatasetTable sensors = lake.createDataset(
                    "sensors",
                    List.of(
                            new DatasetColumn("id", ColumnType.LONG, true),
                            new DatasetColumn("t", ColumnType.DOUBLE, true)));
            DataFile file;
            try (DatasetWriter writer = sensors.writer("u1", 1_000)) {
                for (long i = 0; i < 5; i++) {
                    writer.write(new Object[] {i, i * 0.5});
                }
                file = writer.finish();
            }
            sensors.commit(
                    file, sensors.schemaId(), new DatasetTable.Adding("u1", "ab", "raw/sensors/u1.csv", 5, 0, null));
            assertThat(lake.datasets()).containsExactly("sensors");
            try (CloseableIterable<Record> rows =
                    IcebergGenerics.read(sensors.table()).build()) {
                assertThat(rows).hasSize(5);
            }

            LakeFiles files = lake.files();
            Path local = dir.resolve("original.csv");
            Files.writeString(local, "id,t\n1,0.5\n");
            files.put(local, "raw/sensors/u1.csv");
            files.write("raw/sensors/u1.json", "{}".getBytes(StandardCharsets.UTF_8));
            assertThat(local).doesNotExist();
            try (InputStream in = files.open("raw/sensors/u1.csv")) {
                assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
                        .isEqualTo("id,t\n1,0.5\n");
            }
            assertThat(files.list("raw/sensors"))
                    .extracting(LakeFiles.Entry::name)
                    .containsExactly("u1.csv", "u1.json");
            assertThat(files.directories("raw")).containsExactly("sensors");
            assertThat(files.localRoot()).isEmpty();
        }
        // Everything is in the bucket: the tables' metadata and data files, the raw zone.
        assertThat(objects.resolve("strata/events/metadata")).isDirectory();
        assertThat(objects.resolve("strata/batch_views/data")).isDirectory();
        assertThat(objects.resolve("raw/sensors/u1.csv")).hasContent("id,t\n1,0.5\n");
    }

    @Test
    void ofRacingArchiveCommitsOnTheObjectStoreOneHolds() throws Exception {
        try (Lake first = Lake.open(config("race"))) {
            ArchiveState basis = first.events().state();
            int racers = 4;
            ExecutorService pool = Executors.newFixedThreadPool(racers);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Boolean>> outcomes = new ArrayList<>();
            for (int i = 0; i < racers; i++) {
                outcomes.add(pool.submit(() -> {
                    try (Lake lake = Lake.open(config("race"))) {
                        EventsTable events = lake.events();
                        ArchivePlan plan = EventsTableTest.plan(basis, 1_000, Map.of(0, 40L));
                        List<DataFile> files = EventsTableTest.write(events, 1, plan.attempt(), 0, 0, 40);
                        go.await();
                        try {
                            events.commit(plan, files, 40, 0);
                            return true;
                        } catch (ArchiveConflict e) {
                            return false;
                        }
                    }
                }));
            }
            go.countDown();
            int committed = 0;
            for (Future<Boolean> f : outcomes) {
                committed += f.get() ? 1 : 0;
            }
            pool.shutdown();
            assertThat(committed).isEqualTo(1);
            try (CloseableIterable<Record> rows =
                    IcebergGenerics.read(first.events().table()).build()) {
                assertThat(rows).as("each offset once").hasSize(40);
            }
        }
    }
}
