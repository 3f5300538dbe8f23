package dev.strata.batch.views;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.batch.engine.Engine;
import dev.strata.batch.lake.Archiver;
import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import dev.strata.lake.ViewsTable;
import dev.strata.registry.RegistryServer;
import dev.strata.schemas.Event;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.testing.KafkaBrokerExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two batch cycles over late, out-of-order and retried events: the snapshot equals an independent
 * computation over the distinct events, is announced on batch-commits, and a full replay gives the
 * same snapshot as the incremental cycles.
 */
class BatchCycleIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final List<ViewDefinition> VIEWS = ViewConfig.defaults();

    @TempDir
    Path lake;

    @Test
    void incrementalSnapshotsEqualAnIndependentComputationAndAFullReplay() throws Exception {
        String events = KAFKA.createTopic("batch-events", 3, Map.of("message.timestamp.type", "LogAppendTime"));
        String commits = KAFKA.createTopic("batch-commits", 1, Map.of("cleanup.policy", "compact"));
        try (RegistryServer registry = RegistryServer.start(RegistryServer.Config.of(KAFKA.bootstrapServers())
                        .withPort(0)
                        .withTopic("batch-schemas-" + ProcessHandle.current().pid()));
                Engine engine = Engine.local(2);
                Lake opened = Lake.open(LakeConfig.local(lake))) {
            EventsTable table = opened.events();
            ViewsTable viewsTable = opened.views();
            Archiver archiver = new Archiver(table, engine, KAFKA.bootstrapServers(), registry.url(), events);
            // A one-millisecond bucket and no margin: the test's cuts fall right after what it produced.
            BatchCycle cycle = new BatchCycle(
                    table,
                    viewsTable,
                    archiver,
                    engine,
                    BatchCycle.Settings.of(VIEWS)
                            .withCut(new CutSettings(Duration.ofMillis(1), Duration.ofHours(24)), Duration.ZERO),
                    KAFKA.bootstrapServers(),
                    commits);
            Random random = new Random(11);
            List<Event> first = BatchCycleTestKit.workload(random, 0, 800, List.of());
            BatchCycleTestKit.produce(KAFKA.bootstrapServers(), registry.url(), events, first);
            long now1 = BatchCycleTestKit.pastNow();
            BatchCommit c1 = cycle.run(now1).orElseThrow();
            // The second batch resends ids of the first (client retries across cycles): so many that
            // every row of it is sent to be decided (FoldJob.EVERY_ROW_SHARE); the replay below decides
            // only the candidates.
            List<Event> second = BatchCycleTestKit.workload(random, 800, 400, first.subList(0, 200));
            BatchCycleTestKit.produce(KAFKA.bootstrapServers(), registry.url(), events, second);
            BatchCommit c2 = cycle.run(BatchCycleTestKit.pastNow()).orElseThrow();

            assertThat(c2.run()).isGreaterThan(c1.run());
            Snapshot snapshot = cycle.currentSnapshot();
            List<Event> all = new ArrayList<>(first);
            all.addAll(second);
            assertThat(BatchCycleTestKit.measures(snapshot)).isEqualTo(BatchCycleTestKit.oracle(all));
            assertThat(BatchCycleTestKit.measures(cycle.replay())).isEqualTo(BatchCycleTestKit.measures(snapshot));

            BatchCommit announced = BatchCycleTestKit.latestCommit(KAFKA.bootstrapServers(), commits);
            assertThat(announced).isEqualTo(c2);
            assertThat(ViewsTable.snapshotOf(announced.snapshot()))
                    .isEqualTo(viewsTable.head().snapshotId());
            assertThat(cycle.run(BatchCycleTestKit.pastNow())).isEmpty();

            // Replay with unchanged logic: nothing would change.
            assertThat(cycle.replay(ReplayScope.ALL, true).changes()).isEmpty();
            // A changed definition (humidity left out of the per-type view), replayed for that view only.
            List<ViewDefinition> changed = List.of(
                    VIEWS.get(0),
                    new ViewDefinition(
                            VIEWS.get(1).name(),
                            Set.of("temperature"),
                            Map.of(),
                            VIEWS.get(1).groupBy(),
                            VIEWS.get(1).window(),
                            VIEWS.get(1).measures()));
            BatchCycle newLogic = new BatchCycle(
                    table,
                    viewsTable,
                    archiver,
                    engine,
                    BatchCycle.Settings.of(changed)
                            .withCut(new CutSettings(Duration.ofMillis(1), Duration.ofHours(24)), Duration.ZERO),
                    KAFKA.bootstrapServers(),
                    commits);
            assertThat(cycle.changedViews()).isEmpty();
            assertThat(newLogic.changedViews())
                    .singleElement()
                    .asString()
                    .startsWith(
                            "view events_per_type_1h changed since the current snapshot was computed: run ./strata batch replay --view events_per_type_1h");
            ReplayScope perType =
                    new ReplayScope(Optional.of("events_per_type_1h"), Optional.empty(), Optional.empty());
            List<Change> changes = newLogic.replay(perType, true).changes();
            assertThat(changes).isNotEmpty().allSatisfy(c -> {
                assertThat(c.cell().view()).isEqualTo("events_per_type_1h");
                assertThat(c.cell().group()).containsExactly("humidity");
                assertThat(c.after()).isNull();
            });
            assertThat(newLogic.replay(perType, true).changes()).isEqualTo(changes); // a dry run wrote nothing
            BatchCommit replayCommit = newLogic.replay(perType, false).commit().orElseThrow();
            assertThat(replayCommit.cutMillis()).isEqualTo(c2.cutMillis());
            assertThat(newLogic.changedViews()).isEmpty();
            assertThat(BatchCycleTestKit.latestCommit(KAFKA.bootstrapServers(), commits))
                    .isEqualTo(replayCommit);

            // Rollback: the snapshot before the replay is current again (Iceberg's rollback), with the same cut.
            BatchCommit rolledBack = newLogic.rollback();
            assertThat(rolledBack.cutMillis()).isEqualTo(c2.cutMillis());
            assertThat(rolledBack.snapshot()).isEqualTo(c2.snapshot());
            assertThat(BatchCycleTestKit.measures(cycle.currentSnapshot())).isEqualTo(BatchCycleTestKit.oracle(all));
            assertThat(BatchCycleTestKit.latestCommit(KAFKA.bootstrapServers(), commits))
                    .isEqualTo(rolledBack);
        }
    }
}
