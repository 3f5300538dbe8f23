package dev.strata.batch.engine;

import dev.strata.batch.views.BatchCycle;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.util.CloseableIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The batch views of some runs, as two Flink batch jobs over a few columns of the lake each
 * ({@link LakeColumns}): {@link RetryCandidates} finds the id hashes seen more than once, then
 * {@link FoldCells} folds every other row into cells on its subtask, without a shuffle, and passes
 * the candidate rows on, by identity hash, to {@link DecideRetries}, which decides exactly, by the
 * identities themselves, which are retries ({@link Retries}) and folds the others. The client merges
 * the subtasks' partial cells. The same code folds one new
 * run into the previous snapshot and recomputes everything for a replay.
 */
public final class FoldJob {

    private static final Logger LOG = LoggerFactory.getLogger(FoldJob.class);

    private FoldJob() {}

    /**
     * Folds the rows of runs numbered {@code >= firstRun} in the data files {@code runFiles};
     * {@code contextFiles} hold earlier runs' rows, read only to recognise retries; {@code rows} is
     * how many rows all of them hold. Returns the cells of the folded rows.
     */
    public static Map<ViewKey, Aggregate> run(
            Engine engine,
            BatchCycle.Settings settings,
            List<String> contextFiles,
            List<String> runFiles,
            long rows,
            long firstRun)
            throws Exception {
        Map<ViewKey, Aggregate> cells = new HashMap<>();
        if (runFiles.isEmpty()) {
            return cells;
        }
        List<ViewDefinition> views = settings.views();
        long started = System.nanoTime();
        List<String> all = new ArrayList<>(contextFiles);
        all.addAll(runFiles);
        long rowsPerSubtask = rows / Math.max(1, engine.parallelism());
        boolean inMemory = rowsPerSubtask <= settings.inMemoryRowsPerSubtask();
        LongHashSet candidates = RetryCandidates.find(engine, all, rowsPerSubtask, inMemory, firstRun);
        long candidatesFound = System.nanoTime();

        Map<String, ViewDefinition> byName =
                views.stream().collect(Collectors.toMap(ViewDefinition::name, Function.identity()));
        boolean withAttributes = views.stream().anyMatch(ViewDefinition::readsAttributes);
        List<String> foldColumns = new ArrayList<>(LakeColumns.Events.columns(withAttributes));
        foldColumns.addAll(List.of("id", "append_time", "kafka_partition", "kafka_offset", "run"));
        LakeColumns columns = LakeColumns.of(foldColumns);
        SingleOutputStreamOperator<PartialCell> folded = engine.environment()
                .fromSource(
                        columns.source(candidates.isEmpty() ? runFiles : all),
                        WatermarkStrategy.noWatermarks(),
                        "lake rows")
                .name("lake rows")
                .transform(
                        "fold views",
                        PartialCell.TYPE,
                        new FoldCells(views, candidates, firstRun, columns, withAttributes));
        DataStream<PartialCell> decided = folded.getSideOutput(FoldCells.CANDIDATES)
                .keyBy(new DecideRetries.ByIdentity())
                .transform(
                        "decide retries",
                        PartialCell.TYPE,
                        new DecideRetries(views, settings.cut().dedupHorizon().toMillis(), firstRun));
        try (CloseableIterator<PartialCell> out =
                folded.union(decided).executeAndCollect("strata batch fold, runs " + firstRun + "+")) {
            while (out.hasNext()) {
                PartialCell partial = out.next();
                cells.merge(partial.key(), partial.aggregate(byName.get(partial.view())), Aggregate::merge);
            }
        }
        LOG.info(
                "Fold of {} file(s) (+{} for retries): {} identity hashes seen more than once ({}), their rows decided"
                        + " on the cluster; {} cells; {} ms for the candidates, {} ms for the fold",
                runFiles.size(),
                contextFiles.size(),
                candidates.size(),
                inMemory ? "hashed in memory" : "sorted",
                cells.size(),
                (candidatesFound - started) / 1_000_000,
                (System.nanoTime() - candidatesFound) / 1_000_000);
        return cells;
    }
}
