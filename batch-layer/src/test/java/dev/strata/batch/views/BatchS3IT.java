package dev.strata.batch.views;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.batch.engine.Engine;
import dev.strata.batch.lake.Archiver;
import dev.strata.lake.ArchiveRun;
import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import dev.strata.lake.ObjectStore;
import dev.strata.registry.RegistryServer;
import dev.strata.schemas.Event;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.testing.KafkaBrokerExtension;
import dev.strata.testing.S3Server;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.apache.iceberg.expressions.Expressions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batch layer on a lake on a real S3 implementation (S3Proxy, its own process): the archive
 * job writes the events' files through Iceberg's S3FileIO, the fold jobs read them through Flink's
 * S3 file system, the views are a table in the bucket; two cycles equal an independent computation,
 * and DuckDB reading the bucket's files (S3Proxy keeps each object as a file) finds every offset once.
 */
class BatchS3IT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @TempDir
    Path dir;

    @Test
    void twoCyclesOnAnObjectStoreEqualAnIndependentComputation() throws Exception {
        String events = KAFKA.createTopic("s3-events", 3, Map.of("message.timestamp.type", "LogAppendTime"));
        String commits = KAFKA.createTopic("s3-commits", 1, Map.of("cleanup.policy", "compact"));
        try (S3Server s3 = S3Server.start(dir.resolve("s3"));
                RegistryServer registry = RegistryServer.start(RegistryServer.Config.of(KAFKA.bootstrapServers())
                        .withPort(0)
                        .withTopic("s3-schemas-" + ProcessHandle.current().pid()))) {
            LakeConfig config = LakeConfig.objectStore(
                    s3.warehouse("lake"),
                    "jdbc:sqlite:" + dir.resolve("catalog.db"),
                    ObjectStore.pathStyle(s3.endpoint(), S3Server.ACCESS_KEY, S3Server.SECRET_KEY));
            Engine.initFileSystems(config.flinkProperties());
            try (Engine engine = Engine.local(2);
                    Lake lake = Lake.open(config)) {
                EventsTable table = lake.events();
                Archiver archiver = new Archiver(table, engine, KAFKA.bootstrapServers(), registry.url(), events);
                BatchCycle cycle = new BatchCycle(
                        table,
                        lake.views(),
                        archiver,
                        engine,
                        BatchCycle.Settings.of(ViewConfig.defaults())
                                .withCut(new CutSettings(Duration.ofMillis(1), Duration.ofHours(24)), Duration.ZERO),
                        KAFKA.bootstrapServers(),
                        commits);
                Random random = new Random(23);
                List<Event> sent = new ArrayList<>();
                for (int round = 0; round < 2; round++) {
                    List<Event> batch = BatchCycleTestKit.workload(
                            random, sent.size(), 600, sent.isEmpty() ? List.of() : sent.subList(0, 30));
                    BatchCycleTestKit.produce(KAFKA.bootstrapServers(), registry.url(), events, batch);
                    sent.addAll(batch);
                    cycle.run(BatchCycleTestKit.pastNow()).orElseThrow();
                }

                assertThat(table.runs()).extracting(ArchiveRun::run).containsExactly(1L, 2L);
                assertThat(table.files(Expressions.alwaysTrue()))
                        .allSatisfy(f -> assertThat(f.location()).startsWith("s3://strata/lake/strata/events/data/"));
                BatchCommit announced = BatchCycleTestKit.latestCommit(KAFKA.bootstrapServers(), commits);
                assertThat(BatchCycleTestKit.measures(cycle.currentSnapshot()))
                        .isEqualTo(BatchCycleTestKit.oracle(sent));
                assertThat(announced.snapshot()).startsWith("strata.batch_views@");
                assertThat(BatchCycleTestKit.measures(cycle.replay())).isEqualTo(BatchCycleTestKit.oracle(sent));

                String files = table.files(Expressions.alwaysTrue()).stream()
                        .map(f -> "'"
                                + s3.bucketDirectory().resolve(f.location().substring("s3://strata/".length())) + "'")
                        .collect(Collectors.joining(",", "[", "]"));
                try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                        Statement sql = duck.createStatement();
                        ResultSet r = sql.executeQuery(
                                "SELECT count(*), count(DISTINCT (kafka_partition, kafka_offset)) FROM read_parquet("
                                        + files + ")")) {
                    r.next();
                    assertThat(r.getLong(1)).isEqualTo(sent.size());
                    assertThat(r.getLong(2)).isEqualTo(sent.size());
                }
            }
        }
    }
}
