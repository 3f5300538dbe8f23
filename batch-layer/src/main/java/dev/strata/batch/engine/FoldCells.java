package dev.strata.batch.engine;

import dev.strata.schemas.Event;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.table.data.RowData;
import org.apache.flink.util.OutputTag;

/**
 * The second batch job's operator, chained to the lake's reader (no shuffle): folds every row of
 * the folded runs ({@code run >= firstRun}) whose identity hash is not a retry candidate into its cells
 * with the shared monoid, and passes candidate rows (of any run; every row if the candidates are
 * null) on as they come, to the side output
 * {@link #CANDIDATES} ({@link DecideRetries} decides them); at the end of its input it emits its
 * partial cells.
 */
final class FoldCells extends AbstractStreamOperator<PartialCell>
        implements OneInputStreamOperator<RowData, PartialCell>, BoundedOneInput {

    static final OutputTag<CandidateRow> CANDIDATES = new OutputTag<>("retry-candidates", CandidateRow.TYPE);

    private final List<ViewDefinition> views;
    private final LongHashSet candidates;
    private final long firstRun;
    private final LakeColumns.Events events;
    private final int source;
    private final int id;
    private final int appendTime;
    private final int partition;
    private final int offset;
    private final int run;
    private transient Cells cells;

    FoldCells(
            List<ViewDefinition> views,
            LongHashSet candidates,
            long firstRun,
            LakeColumns columns,
            boolean withAttributes) {
        this.views = List.copyOf(views);
        this.candidates = candidates;
        this.firstRun = firstRun;
        this.events = new LakeColumns.Events(columns, withAttributes);
        this.source = columns.index("source");
        this.id = columns.index("id");
        this.appendTime = columns.index("append_time");
        this.partition = columns.index("kafka_partition");
        this.offset = columns.index("kafka_offset");
        this.run = columns.index("run");
    }

    @Override
    public void processElement(StreamRecord<RowData> element) {
        RowData row = element.getValue();
        if (cells == null) {
            cells = new Cells(views);
        }
        if (candidates == null
                || (!candidates.isEmpty()
                        && candidates.contains(
                                RetryCandidates.identityHash(row.getString(source), row.getString(id))))) {
            Event event = events.of(row);
            event.setId(row.getString(id).toString());
            CandidateRow candidate = CandidateRow.of(
                    event,
                    LakeColumns.millis(row.getLong(appendTime)),
                    LakeColumns.position(row.getInt(partition), row.getLong(offset)),
                    row.getLong(run));
            output.collect(CANDIDATES, new StreamRecord<>(candidate));
            return;
        }
        if (row.getLong(run) >= firstRun) {
            cells.fold(events.of(row));
        }
    }

    @Override
    public void endInput() {
        if (cells != null) {
            Map<ViewKey, Aggregate> partial = new HashMap<>();
            cells.addTo(partial);
            partial.forEach((cell, aggregate) -> output.collect(new StreamRecord<>(PartialCell.of(cell, aggregate))));
        }
    }

    /**
     * Cells being folded: each event into the cell of each view that takes it, the view deciding
     * the event's group and window; per view, a cell is found by group and window start (no
     * {@link ViewKey} per event), and {@link #addTo} gives the cells their keys.
     */
    static final class Cells {
        private final List<ViewDefinition> views;
        private final List<Map<Cell, Aggregate>> perView = new ArrayList<>();

        /** A view's group values and window start. */
        private record Cell(List<String> group, long windowStart) {}

        Cells(List<ViewDefinition> views) {
            this.views = views;
            views.forEach(v -> perView.add(new HashMap<>()));
        }

        void fold(Event event) {
            long time = event.getTime().toEpochMilli();
            for (int v = 0; v < views.size(); v++) {
                ViewDefinition view = views.get(v);
                if (view.matches(event)) {
                    perView.get(v)
                            .computeIfAbsent(
                                    new Cell(view.group(event), view.windowStartMillis(time)),
                                    c -> Aggregate.empty(view))
                            .fold(event);
                }
            }
        }

        /** Merges these cells into {@code cells}, keyed as snapshots key them (bucket 0). */
        void addTo(Map<ViewKey, Aggregate> cells) {
            for (int v = 0; v < views.size(); v++) {
                String view = views.get(v).name();
                perView.get(v)
                        .forEach((cell, aggregate) -> cells.merge(
                                new ViewKey(view, cell.group(), cell.windowStart(), 0), aggregate, Aggregate::merge));
            }
        }
    }
}
