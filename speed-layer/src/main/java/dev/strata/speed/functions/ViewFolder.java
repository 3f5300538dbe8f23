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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Folds events into the aggregate of their (view, group, window, bucket) key, kept in keyed state
 * (RocksDB in the job), and emits the changed keys as upserts at every {@code emitInterval}
 * boundary of processing time.
 *
 * <p>Between two boundaries a key's events wait on the heap, in arrival order (a mini-batch, as
 * Flink SQL's bundle operators do): an event costs an append to a list, no state access and no
 * timer. At the boundary each waiting key's stored aggregate is read, folded with its events,
 * written and emitted, once per key and interval. The waiting events are folded and emitted the
 * same way before each checkpoint's barrier ({@link #prepareSnapshotPreBarrier}) and at the end of
 * a bounded input, so a checkpoint never holds an event that is neither in an aggregate nor in the
 * input after the barrier: nothing is lost in a restore. (Until 2026-12 the waiting events were a
 * list in keyed state with a timer per key; such a list restored from an older checkpoint is
 * folded at the first boundary.)
 *
 * <p>Input 2 is {@code batch-commits}, broadcast: the state of buckets below a new cut is dropped
 * and a tombstone written for each, and an event of such a bucket is ignored, being in the batch
 * already. A commit computed with other {@link CutSettings} than the job's is refused: the cut
 * stays where it was and nothing is dropped (the error names both settings).
 */
public class ViewFolder extends AbstractStreamOperator<Upsert>
        implements TwoInputStreamOperator<ViewInput, BatchCommit, Upsert> {

    private static final long serialVersionUID = 2L;
    public static final String AGGREGATE_STATE = "view-aggregate";
    /** Keyed list state of the versions before 2026-12: events waiting for their key's emission. */
    static final String LEGACY_BUFFER_STATE = "view-fold-buffer";
    /** Broadcast (operator) state: the current cut under {@link #CUT_KEY}. */
    public static final MapStateDescriptor<String, Long> CUT_STATE =
            new MapStateDescriptor<>("batch-cut", Types.STRING, Types.LONG);

    public static final String CUT_KEY = "cut";
    public static final String APPEND_TO_FOLD_METRIC = "appendToFoldMillis";
    /** Metric: batch commits refused for settings that differ from the job's. */
    public static final String REFUSED_COMMITS_METRIC = "batchCommitsRefused";

    private static final Logger LOG = LoggerFactory.getLogger(ViewFolder.class);

    static final ValueStateDescriptor<byte[]> AGGREGATE = new ValueStateDescriptor<>(AGGREGATE_STATE, byte[].class);
    static final ListStateDescriptor<FoldInput> LEGACY_BUFFER =
            new ListStateDescriptor<>(LEGACY_BUFFER_STATE, FoldInput.class);

    private final List<ViewDefinition> views;
    private final CutSettings cutSettings;
    private final long emitIntervalMillis;
    private transient Map<String, ViewDefinition> viewsByName;
    private transient ValueState<byte[]> aggregate;
    private transient BroadcastState<String, Long> cutState;
    /** The cut, as in {@link #cutState} (read for every event). */
    private transient Long cut;
    /** Each key's events since its last emission, in arrival order. */
    private transient Map<String, List<FoldInput>> waiting;

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
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        cutState = context.getOperatorStateStore().getBroadcastState(CUT_STATE);
        cut = cutState.get(CUT_KEY);
    }

    @Override
    public void open() throws Exception {
        super.open();
        viewsByName = views.stream().collect(Collectors.toMap(ViewDefinition::name, Function.identity()));
        aggregate = getPartitionedState(AGGREGATE);
        waiting = new HashMap<>();
        belowCut = getMetricGroup().counter("eventsBelowCut");
        refusedCommits = getMetricGroup().counter(REFUSED_COMMITS_METRIC);
        // From Kafka's append to this fold, over the last 1,000 events: the speed-update-latency
        // alert reads its quantiles (an update is visible after the next emit and checkpoint).
        appendToFold = getMetricGroup().histogram(APPEND_TO_FOLD_METRIC, new DescriptiveStatisticsHistogram(1_000));
        takeLegacyBuffers();
        scheduleEmission();
    }

    /** Events an older version of the job left waiting in keyed state: they wait on the heap now. */
    private void takeLegacyBuffers() throws Exception {
        this.<String>getKeyedStateBackend()
                .applyToAllKeys(
                        VoidNamespace.INSTANCE,
                        VoidNamespaceSerializer.INSTANCE,
                        LEGACY_BUFFER,
                        (String key, ListState<FoldInput> list) -> {
                            Iterable<FoldInput> events = list.get();
                            if (events != null) {
                                events.forEach(e -> waiting.computeIfAbsent(key, k -> new ArrayList<>())
                                        .add(e));
                            }
                            list.clear();
                        });
    }

    private void scheduleEmission() {
        long now = getProcessingTimeService().getCurrentProcessingTime();
        getProcessingTimeService().registerTimer((now / emitIntervalMillis + 1) * emitIntervalMillis, time -> {
            emitWaiting();
            scheduleEmission();
        });
    }

    @Override
    public void processElement1(StreamRecord<ViewInput> element) {
        ViewInput in = element.getValue();
        if (cut != null && in.bucketMillis < cut) {
            belowCut.inc(); // appended before the cut: the batch has it
            return;
        }
        waiting.computeIfAbsent(in.key, k -> new ArrayList<>()).add(in.fold);
        long now = getProcessingTimeService().getCurrentProcessingTime();
        appendToFold.update(Math.max(0, now - in.appendTimeMillis));
    }

    /** Folds each waiting key's events into its stored aggregate and emits it. */
    void emitWaiting() throws Exception {
        for (Map.Entry<String, List<FoldInput>> entry : waiting.entrySet()) {
            setCurrentKey(entry.getKey());
            ViewKey key = ViewInput.decodeKey(entry.getKey());
            ViewDefinition view = viewsByName.get(key.view());
            byte[] stored = aggregate.value();
            Aggregate state = stored == null ? Aggregate.empty(view) : AggregateCodec.decode(view, stored);
            for (FoldInput event : entry.getValue()) {
                event.foldInto(state);
            }
            byte[] encoded = AggregateCodec.encode(state);
            aggregate.update(encoded);
            output.collect(new StreamRecord<>(new Upsert(key.encode(), encoded)));
        }
        waiting.clear();
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        emitWaiting(); // into the aggregates (and downstream) before the barrier: none left behind it
    }

    @Override
    public void finish() throws Exception {
        emitWaiting(); // a bounded input's last events
        super.finish();
    }

    @Override
    public void processElement2(StreamRecord<BatchCommit> element) throws Exception {
        BatchCommit commit = element.getValue();
        if (cut != null && commit.cutMillis() <= cut) {
            return;
        }
        Optional<String> refusal = cutSettings.refusal(commit, "speed layer");
        if (refusal.isPresent()) {
            refusedCommits.inc();
            LOG.error("{}; the cut stays at {}", refusal.get(), cut == null ? "none" : cut);
            return;
        }
        cut = commit.cutMillis();
        cutState.put(CUT_KEY, cut);
        this.<String>getKeyedStateBackend()
                .applyToAllKeys(
                        VoidNamespace.INSTANCE,
                        VoidNamespaceSerializer.INSTANCE,
                        AGGREGATE,
                        (String key, ValueState<byte[]> state) -> {
                            ViewKey viewKey = ViewInput.decodeKey(key);
                            if (viewKey.bucketMillis() < commit.cutMillis() && state.value() != null) {
                                state.clear();
                                output.collect(new StreamRecord<>(new Upsert(viewKey.encode(), null)));
                            }
                        });
        // Events of those buckets not yet folded (a key's first interval has no aggregate yet).
        waiting.keySet().removeIf(key -> ViewInput.decodeKey(key).bucketMillis() < commit.cutMillis());
    }

    /** The cut this operator holds, if any (for tests). */
    Long cut() {
        return cut;
    }

    /** Keys with events waiting for the next emission (for tests). */
    int waitingKeys() {
        return waiting.size();
    }
}
