package dev.strata.batch.transform;

import dev.strata.batch.engine.Engine;
import dev.strata.lake.CuratedTable;
import dev.strata.lake.Lake;
import dev.strata.schemas.transforms.TransformDefinition;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transforms' triggers, checked by the batch scheduler after each cycle: a transform runs when
 * its {@code every} has passed since its last run in this process, or ({@code onNewInput}) when one of
 * the inputs its output has applied has another snapshot now, or when it has never run. A transform
 * that fails is logged with its error and tried again after {@link #AFTER_FAILURE} (or its
 * {@code every}, if longer); the others run regardless. Runs by an operator beside it are safe: each
 * input snapshot is applied once ({@link Transforms}).
 */
public final class TransformScheduler {

    private static final Logger LOG = LoggerFactory.getLogger(TransformScheduler.class);
    static final Duration AFTER_FAILURE = Duration.ofMinutes(1);

    private final Engine engine;
    private final Lake lake;
    private final List<TransformDefinition> transforms;
    private final LongSupplier nanos;
    private final Map<String, Long> lastRun = new HashMap<>();
    private final Map<String, Long> failedAt = new HashMap<>();

    public TransformScheduler(Engine engine, Lake lake, List<TransformDefinition> transforms, LongSupplier nanos) {
        this.engine = engine;
        this.lake = lake;
        this.transforms = List.copyOf(transforms);
        this.nanos = nanos;
    }

    /** Runs every transform that is due; returns what the runs did (failures logged, not thrown). */
    public List<Transforms.Outcome> runDue() {
        List<Transforms.Outcome> outcomes = new java.util.ArrayList<>();
        for (TransformDefinition t : transforms) {
            long now = nanos.getAsLong();
            if (!due(t, now)) {
                continue;
            }
            lastRun.put(t.name(), now);
            try {
                outcomes.add(Transforms.run(engine, lake, t));
                failedAt.remove(t.name());
            } catch (Exception e) {
                failedAt.put(t.name(), now);
                LOG.error(
                        "Transform {} failed (tried again in {} at the latest): {}",
                        t.name(),
                        AFTER_FAILURE,
                        e.getMessage());
            }
        }
        return outcomes;
    }

    boolean due(TransformDefinition t, long now) {
        Long failed = failedAt.get(t.name());
        if (failed != null) {
            Duration wait =
                    t.every().filter(e -> e.compareTo(AFTER_FAILURE) > 0).orElse(AFTER_FAILURE);
            return now - failed >= wait.toNanos();
        }
        Long last = lastRun.get(t.name());
        if (last == null) {
            return true;
        }
        if (t.every().isPresent() && now - last >= t.every().get().toNanos()) {
            return true;
        }
        return t.onNewInput() && newInput(t);
    }

    private boolean newInput(TransformDefinition t) {
        Optional<CuratedTable> output = lake.curated(t.output());
        if (output.isEmpty()) {
            return true;
        }
        CuratedTable.Applied applied = output.get().applied();
        if (applied.snapshot().isEmpty()) {
            return true;
        }
        for (Map.Entry<String, Long> input : applied.inputs().entrySet()) {
            if (!Objects.equals(current(input.getKey()), input.getValue())) {
                return true;
            }
        }
        return false;
    }

    private Long current(String table) {
        Optional<Table> found = Transforms.table(lake, table);
        if (found.isEmpty()) {
            return null;
        }
        found.get().refresh();
        Snapshot s = found.get().currentSnapshot();
        return s == null ? 0L : s.snapshotId(); // as a run records an empty table
    }
}
