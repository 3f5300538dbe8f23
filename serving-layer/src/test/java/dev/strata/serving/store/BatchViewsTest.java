package dev.strata.serving.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.schemas.Event;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchViewsTest {

    static final List<ViewDefinition> VIEWS = ViewConfig.defaults();
    static final Map<String, ViewDefinition> BY_NAME =
            VIEWS.stream().collect(Collectors.toMap(ViewDefinition::name, Function.identity()));
    static final ViewDefinition PER_SOURCE = BY_NAME.get("events_per_source_1m");

    /** Snapshot {@code run}: 40 sources × 30 minutes, every cell holding {@code run} events. */
    static Map<ViewKey, Aggregate> snapshot(long run) {
        Map<ViewKey, Aggregate> cells = new HashMap<>();
        for (int s = 0; s < 40; s++) {
            for (int m = 0; m < 30; m++) {
                Aggregate a = Aggregate.empty(PER_SOURCE);
                for (int i = 0; i < run; i++) {
                    a.fold(new Event(
                            "e",
                            "dev-" + s,
                            "t",
                            Instant.ofEpochMilli(m * 60_000L),
                            (double) i,
                            Map.of(),
                            Instant.EPOCH));
                }
                cells.put(new ViewKey(PER_SOURCE.name(), List.of("dev-" + s), m * 60_000L, 0), a);
            }
        }
        return cells;
    }

    @Test
    void queriesDuringSwapsSeeOneWholeSnapshotWithItsOwnCut(@TempDir Path dir) throws Exception {
        List<Map<ViewKey, Aggregate>> snapshots = new ArrayList<>();
        for (long run = 1; run <= 6; run++) {
            snapshots.add(snapshot(run));
        }
        byte[] prefix = ViewKey.prefix(PER_SOURCE.name(), Optional.empty());
        try (BatchViews batch = new BatchViews(dir.resolve("db"))) {
            AtomicBoolean swapping = new AtomicBoolean(true);
            ConcurrentLinkedQueue<String> mixed = new ConcurrentLinkedQueue<>();
            AtomicInteger queries = new AtomicInteger();
            List<Thread> readers = new ArrayList<>();
            for (int r = 0; r < 3; r++) {
                Thread reader = new Thread(() -> {
                    while (swapping.get()) {
                        try (BatchViews.Lease lease = batch.lease()) {
                            List<Long> counts = new ArrayList<>();
                            lease.scan(
                                    prefix,
                                    PER_SOURCE,
                                    k -> true,
                                    cell -> counts.add(cell.getValue().count()));
                            long run = lease.commit().map(BatchCommit::run).orElse(0L);
                            if (run > 0
                                    && (counts.size() != 1200
                                            || counts.stream().anyMatch(c -> c != run)
                                            || lease.cutMillis() != run * 1_000)) {
                                mixed.add("run " + run + " cut " + lease.cutMillis() + " counts "
                                        + counts.stream().distinct().toList());
                            }
                            queries.incrementAndGet();
                        }
                    }
                });
                reader.start();
                readers.add(reader);
            }
            for (int round = 0; round < 5; round++) {
                for (int i = 0; i < snapshots.size(); i++) {
                    long run = i + 1;
                    batch.load(
                            BatchCommit.of(run, run * 1_000, "strata.batch_views@" + run, CutSettings.DEFAULTS),
                            snapshots.get(i));
                }
            }
            swapping.set(false);
            for (Thread reader : readers) {
                reader.join();
            }

            assertThat(mixed).isEmpty();
            assertThat(queries.get()).isGreaterThan(30);
            assertThat(batch.commit()).map(BatchCommit::run).contains(6L);
        }
        // Every replaced snapshot's database was closed and deleted once its last reader let go.
        try (var left = Files.list(dir.resolve("db"))) {
            assertThat(left.toList()).isEmpty();
        }
    }
}
