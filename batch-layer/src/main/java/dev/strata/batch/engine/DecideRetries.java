package dev.strata.batch.engine;

import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides the candidate rows on the cluster: keyed by identity hash, so in BATCH mode the rows of one
 * hash arrive together (sorted, spilling to disk if they must); each such group, a few rows of one
 * identity (or of the few identities sharing the hash), is decided exactly by {@link Retries} and its
 * counted rows of the folded runs are folded into this subtask's cells, emitted at the end as
 * {@link PartialCell}s. No candidate row goes to the client, however many rows are retries.
 */
final class DecideRetries extends AbstractStreamOperator<PartialCell>
        implements OneInputStreamOperator<CandidateRow, PartialCell>, BoundedOneInput {

    private static final Logger LOG = LoggerFactory.getLogger(DecideRetries.class);
    static final String CANDIDATES_METRIC = "candidateRows";
    static final String RETRIES_METRIC = "retriesSkipped";

    private final List<ViewDefinition> views;
    private final long horizonMillis;
    private final long firstRun;
    private transient FoldCells.Cells cells;
    private transient List<CandidateRow> group;
    private transient long groupHash;
    private transient Counter candidates;
    private transient Counter retries;

    DecideRetries(List<ViewDefinition> views, long horizonMillis, long firstRun) {
        this.views = List.copyOf(views);
        this.horizonMillis = horizonMillis;
        this.firstRun = firstRun;
    }

    @Override
    public void open() throws Exception {
        super.open();
        cells = new FoldCells.Cells(views);
        group = new ArrayList<>();
        candidates = getMetricGroup().counter(CANDIDATES_METRIC);
        retries = getMetricGroup().counter(RETRIES_METRIC);
    }

    @Override
    public void processElement(StreamRecord<CandidateRow> element) {
        CandidateRow row = element.getValue();
        long hash = (Long) getCurrentKey(); // the key the rows are sorted by: not computed again
        if (!group.isEmpty() && hash != groupHash) {
            decide();
        }
        groupHash = hash;
        group.add(row);
    }

    private void decide() {
        long folded = group.stream().filter(c -> c.run() >= firstRun).count();
        long counted = 0;
        for (CandidateRow row : Retries.counted(group, horizonMillis)) {
            if (row.run() >= firstRun) {
                cells.fold(row.event());
                counted++;
            }
        }
        candidates.inc(group.size());
        retries.inc(folded - counted);
        group.clear();
    }

    @Override
    public void endInput() {
        if (!group.isEmpty()) {
            decide();
        }
        LOG.info("Decided {} candidate rows: {} retries skipped", candidates.getCount(), retries.getCount());
        Map<ViewKey, Aggregate> partial = new HashMap<>();
        cells.addTo(partial);
        partial.forEach((cell, aggregate) -> output.collect(new StreamRecord<>(PartialCell.of(cell, aggregate))));
    }

    /** A hash of the row's identity: rows of one identity share it (identities that collide are told apart by {@link Retries}). */
    static long hash(CandidateRow row) {
        long h = 0x9E3779B97F4A7C15L * row.source().hashCode() + row.id().hashCode();
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return h;
    }

    /** The key the candidate rows are partitioned and sorted by: their identity hash. */
    static final class ByIdentity implements KeySelector<CandidateRow, Long> {
        @Override
        public Long getKey(CandidateRow row) {
            return hash(row);
        }
    }
}
