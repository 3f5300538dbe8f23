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
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.apache.iceberg.io.FileIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The batch views of some runs, as two Flink batch jobs over a few columns of the lake each
 * ({@link LakeColumns}): {@link RetryCandidates} finds the id hashes seen more than once, or
 * perhaps in an earlier run within the dedup horizon ({@link History}), then
 * {@link FoldCells} folds every other row into cells on its subtask, without a shuffle, and passes
 * the candidate rows on, by identity hash, with the earlier runs' rows of the same hashes (from their
 * identity indexes), to {@link DecideRetries}, which decides exactly, by the identities themselves,
 * which are retries ({@link Retries}) and folds the others. The client merges
 * the subtasks' partial cells. The same code folds one new
 * run into the previous snapshot and recomputes everything for a replay.
 */
public final class FoldJob {

    private static final Logger LOG = LoggerFactory.getLogger(FoldJob.class);

    /** Every row is a candidate once the candidate hashes are at least 1 / this of the rows. */
    static final int EVERY_ROW_SHARE = 4;

    private FoldJob() {}

    /** Data files of the lake and how many rows they hold. */
    public record Files(List<String> locations, long rows) {
        public static final Files NONE = new Files(List.of(), 0);
    }

    /** Builds the identity indexes of data files that have none ({@link History}). */
    public static void index(Engine engine, FileIO io, Files files) throws Exception {
        History.index(io, files.locations(), engine.parallelism());
    }

    /**
     * Folds the rows of runs numbered {@code >= firstRun} in the data files {@code runFiles};
     * {@code contextFiles} hold earlier runs' rows, read (through their identity indexes,
     * {@link History}) only to recognise retries. Returns the cells of the folded rows.
     */
    public static Map<ViewKey, Aggregate> run(
            Engine engine, BatchCycle.Settings settings, FileIO io, Files contextFiles, Files runFiles, long firstRun)
            throws Exception {
        Map<ViewKey, Aggregate> cells = new HashMap<>();
        if (runFiles.locations().isEmpty()) {
            return cells;
        }
        List<ViewDefinition> views = settings.views();
        long started = System.nanoTime();
        boolean withHistory = !contextFiles.locations().isEmpty();
        byte[] earlier = withHistory
                ? History.filter(io, contextFiles.locations(), contextFiles.rows(), engine.parallelism())
                : null;
        long filtered = System.nanoTime();
        long rowsPerSubtask = runFiles.rows() / Math.max(1, engine.parallelism());
        boolean inMemory = rowsPerSubtask <= settings.inMemoryRowsPerSubtask();
        LongHashSet candidates =
                RetryCandidates.find(engine, runFiles.locations(), rowsPerSubtask, inMemory, firstRun, earlier);
        long candidatesFound = System.nanoTime();
        // When most rows are candidates (a lake whose rows were all resent), every row is sent to be
        // decided: cheaper than shipping the set of millions of hashes and probing it per row.
        boolean everyRow = candidates.size() >= runFiles.rows() / EVERY_ROW_SHARE;

        Map<String, ViewDefinition> byName =
                views.stream().collect(Collectors.toMap(ViewDefinition::name, Function.identity()));
        boolean withAttributes = views.stream().anyMatch(ViewDefinition::readsAttributes);
        List<String> foldColumns = new ArrayList<>(LakeColumns.Events.columns(withAttributes));
        foldColumns.addAll(List.of("id", "append_time", "kafka_partition", "kafka_offset", "run"));
        LakeColumns columns = LakeColumns.of(foldColumns);
        StreamExecutionEnvironment environment = engine.environment();
        SingleOutputStreamOperator<PartialCell> folded = environment
                .fromSource(columns.source(runFiles.locations()), WatermarkStrategy.noWatermarks(), "lake rows")
                .name("lake rows")
                .transform(
                        "fold views",
                        PartialCell.TYPE,
                        new FoldCells(views, everyRow ? null : candidates, firstRun, columns, withAttributes));
        DataStream<CandidateRow> candidateRows = folded.getSideOutput(FoldCells.CANDIDATES);
        if (withHistory && !candidates.isEmpty()) {
            candidateRows = candidateRows.union(environment
                    .fromData(contextFiles.locations(), Types.STRING)
                    .name("earlier data files")
                    .rebalance()
                    .flatMap(new History.Rows(io, candidates))
                    .returns(CandidateRow.TYPE)
                    .name("earlier rows of the candidates"));
        }
        DataStream<PartialCell> decided = candidateRows
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
                "Fold of {} file(s) ({} earlier for retries): {} identity hashes seen more than once or maybe"
                        + " earlier ({}), their rows decided on the cluster; {} cells; {} ms for the earlier rows'"
                        + " filter, {} ms for the candidates, {} ms for the fold",
                runFiles.locations().size(),
                contextFiles.locations().size(),
                candidates.size(),
                (inMemory ? "hashed in memory" : "sorted") + (everyRow ? ", every row sent to be decided" : ""),
                cells.size(),
                (filtered - started) / 1_000_000,
                (candidatesFound - filtered) / 1_000_000,
                (System.nanoTime() - candidatesFound) / 1_000_000);
        return cells;
    }
}
