package dev.strata.speed.functions;

import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.AggregateCodec;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import dev.strata.speed.model.FoldInput;
import dev.strata.speed.model.Upsert;
import dev.strata.speed.model.ViewInput;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Folds events into the aggregate of their (view, group, window, bucket) key, kept in keyed state
 * (RocksDB in the job), and emits the changed keys as upserts at most every {@code emitInterval}.
 * An event is appended to the key's buffer ({@link FoldInput}s in list state: with RocksDB a merge,
 * no read); at emission the buffer is folded into the stored aggregate, which is decoded and encoded
 * once per key and interval instead of once per event. Timers are aligned to the interval, so all
 * events of a key within one interval share one timer.
 * It learns the batch layer's cut from {@code batch-commits} (broadcast): the state of buckets below
 * the cut is dropped and a tombstone written for each, and an event of such a bucket is ignored,
 * being in the batch already. A commit computed with other {@link CutSettings} than the job's is
 * refused: the cut stays where it was and nothing is dropped (the error names both settings).
 */
public class ViewFolder extends KeyedBroadcastProcessFunction<String, ViewInput, BatchCommit, Upsert> {

    private static final long serialVersionUID = 1L;
    public static final String AGGREGATE_STATE = "view-aggregate";
    /** The events of the key folded since its last emission. */
    public static final String BUFFER_STATE = "view-fold-buffer";
    /** Broadcast state: the current cut under {@link #CUT_KEY}. */
    public static final MapStateDescriptor<String, Long> CUT_STATE =
            new MapStateDescriptor<>("batch-cut", Types.STRING, Types.LONG);

    public static final String CUT_KEY = "cut";
    public static final String APPEND_TO_FOLD_METRIC = "appendToFoldMillis";
    /** Metric: batch commits refused for settings that differ from the job's. */
    public static final String REFUSED_COMMITS_METRIC = "batchCommitsRefused";

    private static final Logger LOG = LoggerFactory.getLogger(ViewFolder.class);

    static final ValueStateDescriptor<byte[]> AGGREGATE = new ValueStateDescriptor<>(AGGREGATE_STATE, byte[].class);
    static final ListStateDescriptor<FoldInput> BUFFER = new ListStateDescriptor<>(BUFFER_STATE, FoldInput.class);

    private final List<ViewDefinition> views;
    private final CutSettings cutSettings;
    private final long emitIntervalMillis;
    private transient Map<String, ViewDefinition> viewsByName;
    private transient ValueState<byte[]> aggregate;
    private transient ListState<FoldInput> buffer;
    private transient Counter belowCut;
    private transient Counter refusedCommits;
    private transient Histogram appendToFold;

    public ViewFolder(List<ViewDefinition> views, CutSettings cutSettings, Duration emitInterval) {
        if (emitInterval.toMillis() <= 0) {
            throw new IllegalArgumentException("emit interval must be positive, e.g. PT0.5S; got " + emitInterval);
        }
        this.views = List.copyOf(views);
        this.cutSettings = cutSettings;
        this.emitIntervalMillis = emitInterval.toMillis();
    }

    @Override
    public void open(OpenContext context) {
        viewsByName = views.stream().collect(Collectors.toMap(ViewDefinition::name, Function.identity()));
        aggregate = getRuntimeContext().getState(AGGREGATE);
        buffer = getRuntimeContext().getListState(BUFFER);
        belowCut = getRuntimeContext().getMetricGroup().counter("eventsBelowCut");
        refusedCommits = getRuntimeContext().getMetricGroup().counter(REFUSED_COMMITS_METRIC);
        // From Kafka's append to this fold, over the last 1,000 events: the speed-update-latency
        // alert reads its quantiles (an update is visible after the next emit and checkpoint).
        appendToFold = getRuntimeContext()
                .getMetricGroup()
                .histogram(APPEND_TO_FOLD_METRIC, new DescriptiveStatisticsHistogram(1_000));
    }

    @Override
    public void processElement(ViewInput in, ReadOnlyContext ctx, Collector<Upsert> out) throws Exception {
        Long cut = ctx.getBroadcastState(CUT_STATE).get(CUT_KEY);
        if (cut != null && in.bucketMillis < cut) {
            belowCut.inc(); // appended before the cut: the batch has it
            return;
        }
        buffer.add(in.fold);
        long now = ctx.timerService().currentProcessingTime();
        appendToFold.update(Math.max(0, now - in.appendTimeMillis));
        // The same timestamp for every event of the interval: one timer per key and interval.
        ctx.timerService().registerProcessingTimeTimer((now / emitIntervalMillis + 1) * emitIntervalMillis);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Upsert> out) throws Exception {
        Iterable<FoldInput> events = buffer.get();
        if (events == null || !events.iterator().hasNext()) {
            return; // dropped by a cut since, or a timer of an earlier version of the job
        }
        ViewKey key = ViewInput.decodeKey(ctx.getCurrentKey());
        ViewDefinition view = viewsByName.get(key.view());
        byte[] stored = aggregate.value();
        Aggregate state = stored == null ? Aggregate.empty(view) : AggregateCodec.decode(view, stored);
        for (FoldInput event : events) {
            event.foldInto(state);
        }
        byte[] encoded = AggregateCodec.encode(state);
        aggregate.update(encoded);
        buffer.clear();
        out.collect(new Upsert(key.encode(), encoded));
    }

    @Override
    public void processBroadcastElement(BatchCommit commit, Context ctx, Collector<Upsert> out) throws Exception {
        Long current = ctx.getBroadcastState(CUT_STATE).get(CUT_KEY);
        if (current != null && commit.cutMillis() <= current) {
            return;
        }
        Optional<String> refusal = cutSettings.refusal(commit, "speed layer");
        if (refusal.isPresent()) {
            refusedCommits.inc();
            LOG.error("{}; the cut stays at {}", refusal.get(), current == null ? "none" : current);
            return;
        }
        ctx.getBroadcastState(CUT_STATE).put(CUT_KEY, commit.cutMillis());
        ctx.applyToKeyedState(AGGREGATE, (key, state) -> {
            ViewKey viewKey = ViewInput.decodeKey(key);
            if (viewKey.bucketMillis() < commit.cutMillis() && state.value() != null) {
                state.clear();
                out.collect(new Upsert(viewKey.encode(), null));
            }
        });
        // Events of those buckets not yet folded (a key's first interval has no aggregate yet).
        ctx.applyToKeyedState(BUFFER, (key, state) -> {
            if (ViewInput.decodeKey(key).bucketMillis() < commit.cutMillis()) {
                state.clear();
            }
        });
    }
}
