package dev.strata.speed.functions;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.schemas.views.AggregateCodec;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import dev.strata.speed.model.IngestedEvent;
import dev.strata.speed.model.Upsert;
import dev.strata.speed.model.ViewInput;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

class ViewFolderTest {

    static final List<ViewDefinition> VIEWS = ViewConfig.defaults();
    static final ViewDefinition PER_SOURCE = VIEWS.get(0);
    static final Duration BUCKET = CutSettings.DEFAULTS.bucket();
    static final Duration EMIT = Duration.ofMillis(500);
    static final long T0 = Instant.parse("2026-03-01T12:00:00Z").toEpochMilli();

    static IngestedEvent event(String id, String source, double value, long eventTime, long appendTime) {
        IngestedEvent e = new IngestedEvent();
        e.id = id;
        e.source = source;
        e.type = "temperature";
        e.timeMillis = eventTime;
        e.value = value;
        e.attributes = new HashMap<>();
        e.ingestTimeMillis = appendTime;
        e.appendTimeMillis = appendTime;
        return e;
    }

    /** Routes through the real ViewRouter, keeping only the per-source view. */
    static List<ViewInput> route(IngestedEvent e) {
        List<ViewInput> inputs = new ArrayList<>();
        new ViewRouter(VIEWS, CutSettings.DEFAULTS.bucket()).flatMap(e, new Collector<>() {
            @Override
            public void collect(ViewInput record) {
                if (ViewInput.decodeKey(record.key).view().equals(PER_SOURCE.name())) {
                    inputs.add(record);
                }
            }

            @Override
            public void close() {}
        });
        return inputs;
    }

    /** The operator on a test harness, set up and opened ({@code restored}: from that snapshot). */
    static KeyedTwoInputStreamOperatorTestHarness<String, ViewInput, BatchCommit, Upsert> harness(
            OperatorSubtaskState restored) throws Exception {
        var harness = new KeyedTwoInputStreamOperatorTestHarness<String, ViewInput, BatchCommit, Upsert>(
                new ViewFolder(VIEWS, CutSettings.DEFAULTS, EMIT), ViewInput::key, commit -> "", Types.STRING);
        harness.setProcessingTime(0);
        if (restored != null) {
            harness.initializeState(restored);
        }
        harness.open();
        return harness;
    }

    static KeyedTwoInputStreamOperatorTestHarness<String, ViewInput, BatchCommit, Upsert> harness() throws Exception {
        return harness(null);
    }

    static ViewFolder folder(KeyedTwoInputStreamOperatorTestHarness<String, ViewInput, BatchCommit, Upsert> harness) {
        return (ViewFolder) harness.getOperator();
    }

    /** Keys holding an aggregate in the operator's keyed state. */
    static long aggregateKeys(KeyedTwoInputStreamOperatorTestHarness<String, ViewInput, BatchCommit, Upsert> harness)
            throws Exception {
        KeyedStateBackend<String> backend = ((AbstractStreamOperator<?>) harness.getOperator()).getKeyedStateBackend();
        try (var keys = backend.getKeys(ViewFolder.AGGREGATE_STATE, VoidNamespace.INSTANCE)) {
            return keys.count();
        }
    }

    static Map<String, Double> measures(Upsert upsert) {
        return AggregateCodec.decode(PER_SOURCE, upsert.value).measures();
    }

    @Test
    void foldsEventsAndEmitsEachChangedKeyAtMostOncePerInterval() throws Exception {
        try (var harness = harness()) {
            harness.setProcessingTime(0);
            for (int i = 0; i < 5; i++) {
                for (ViewInput in : route(event("e" + i, "boiler-1", 10 + i, T0 + i, T0 + 1_000))) {
                    harness.processElement1(new StreamRecord<>(in));
                }
            }
            for (ViewInput in :
                    route(event("late", "boiler-2", 99, T0 - Duration.ofHours(3).toMillis(), T0 + 1_000))) {
                harness.processElement1(new StreamRecord<>(in));
            }
            assertThat(harness.extractOutputValues()).isEmpty();
            assertThat(folder(harness).waitingKeys()).isEqualTo(2);
            assertThat(aggregateKeys(harness)).isZero(); // waiting on the heap, no state written per event

            harness.setProcessingTime(EMIT.toMillis());

            List<Upsert> upserts = harness.extractOutputValues();
            assertThat(upserts).hasSize(2);
            Upsert boiler1 = upserts.stream()
                    .filter(u -> ViewKey.decode(u.key).group().equals(List.of("boiler-1")))
                    .findFirst()
                    .orElseThrow();
            assertThat(measures(boiler1))
                    .containsEntry("count", 5.0)
                    .containsEntry("sum", 60.0)
                    .containsEntry("min", 10.0)
                    .containsEntry("max", 14.0)
                    .containsEntry("avg", 12.0);
            ViewKey lateKey = ViewKey.decode(upserts.stream()
                    .filter(u -> ViewKey.decode(u.key).group().equals(List.of("boiler-2")))
                    .findFirst()
                    .orElseThrow()
                    .key);
            // The hours-late event lands in its own event-time window, in the current ingest bucket.
            assertThat(lateKey.windowStartMillis())
                    .isEqualTo(T0 - Duration.ofHours(3).toMillis());
            assertThat(lateKey.bucketMillis()).isEqualTo(T0);
            assertThat(folder(harness).waitingKeys()).isZero();

            // Nothing new: the next boundary emits nothing.
            harness.setProcessingTime(2 * EMIT.toMillis());
            assertThat(harness.extractOutputValues()).hasSize(2);
        }
    }

    @Test
    void aNewCutDropsTheBucketsBelowItWithTombstonesAndIgnoresTheirLateEvents() throws Exception {
        try (var harness = harness()) {
            harness.setProcessingTime(0);
            long oldBucket = T0;
            long newBucket = T0 + BUCKET.toMillis();
            for (ViewInput in : route(event("a", "s", 1, T0, oldBucket + 5))) {
                harness.processElement1(new StreamRecord<>(in));
            }
            for (ViewInput in : route(event("b", "s", 2, T0, newBucket + 5))) {
                harness.processElement1(new StreamRecord<>(in));
            }
            harness.setProcessingTime(EMIT.toMillis());
            assertThat(harness.extractOutputValues()).hasSize(2);
            assertThat(aggregateKeys(harness)).isEqualTo(2);

            harness.processElement2(
                    new StreamRecord<>(BatchCommit.of(1, newBucket, "snapshot-1", CutSettings.DEFAULTS)));

            List<Upsert> all = harness.extractOutputValues();
            Upsert tombstone = all.get(all.size() - 1);
            assertThat(tombstone.isTombstone()).isTrue();
            assertThat(ViewKey.decode(tombstone.key).bucketMillis()).isEqualTo(oldBucket);
            assertThat(aggregateKeys(harness)).isEqualTo(1);

            // An event of a bucket the batch already covers is ignored; one above the cut is folded.
            for (ViewInput in : route(event("c", "s", 3, T0, oldBucket + 10))) {
                harness.processElement1(new StreamRecord<>(in));
            }
            for (ViewInput in : route(event("d", "s", 4, T0, newBucket + 10))) {
                harness.processElement1(new StreamRecord<>(in));
            }
            harness.setProcessingTime(2 * EMIT.toMillis());
            Upsert latest = harness.extractOutputValues()
                    .get(harness.extractOutputValues().size() - 1);
            assertThat(ViewKey.decode(latest.key).bucketMillis()).isEqualTo(newBucket);
            assertThat(measures(latest)).containsEntry("count", 2.0).containsEntry("sum", 6.0);
            assertThat(aggregateKeys(harness)).isEqualTo(1);
            assertThat(folder(harness).waitingKeys()).isZero();
        }
    }

    @Test
    void refusesACommitComputedWithOtherSettingsAndDropsNothing() throws Exception {
        try (var harness = harness()) {
            harness.setProcessingTime(0);
            long bucket = T0;
            for (ViewInput in : route(event("a", "s", 1, T0, bucket + 5))) {
                harness.processElement1(new StreamRecord<>(in));
            }
            harness.setProcessingTime(EMIT.toMillis());
            int emitted = harness.extractOutputValues().size();

            // The batch ran with 30-second buckets: its cut (bucket + 30 s) would split this job's bucket.
            CutSettings halfMinute = new CutSettings(Duration.ofSeconds(30), CutSettings.DEFAULTS.dedupHorizon());
            harness.processElement2(new StreamRecord<>(BatchCommit.of(1, bucket + 30_000, "v-1", halfMinute)));
            // A commit whose cut is not on this job's bucket boundary is refused too.
            harness.processElement2(new StreamRecord<>(new BatchCommit(1, 2, bucket + 30_000, "v-2", null, null)));
            // So is one computed with another dedup horizon, even with an aligned cut.
            harness.processElement2(new StreamRecord<>(BatchCommit.of(
                    3, bucket + BUCKET.toMillis(), "v-3", new CutSettings(BUCKET, Duration.ofHours(1)))));

            assertThat(harness.extractOutputValues()).hasSize(emitted); // no tombstone
            assertThat(aggregateKeys(harness)).isEqualTo(1);
            assertThat(folder(harness).cut()).isNull();

            // The same cut, computed with the job's own settings, is taken.
            harness.processElement2(
                    new StreamRecord<>(BatchCommit.of(4, bucket + BUCKET.toMillis(), "v-4", CutSettings.DEFAULTS)));
            assertThat(aggregateKeys(harness)).isZero();
            assertThat(folder(harness).cut()).isEqualTo(bucket + BUCKET.toMillis());
        }
    }

    @Test
    void aCheckpointFoldsAndEmitsTheWaitingEventsBeforeItsBarrierSoARestoreLosesNone() throws Exception {
        OperatorSubtaskState snapshot;
        try (var harness = harness()) {
            for (int i = 0; i < 3; i++) {
                for (ViewInput in : route(event("e" + i, "boiler-1", 10, T0 + i, T0 + 1_000))) {
                    harness.processElement1(new StreamRecord<>(in));
                }
            }
            assertThat(harness.extractOutputValues()).isEmpty();

            harness.prepareSnapshotPreBarrier(1);
            assertThat(harness.extractOutputValues()).hasSize(1);
            assertThat(measures(harness.extractOutputValues().get(0))).containsEntry("count", 3.0);
            snapshot = harness.snapshot(1, 1);
            // Events after the barrier: not in this checkpoint (the source replays them after a restore).
            for (ViewInput in : route(event("after", "boiler-1", 10, T0 + 9, T0 + 1_000))) {
                harness.processElement1(new StreamRecord<>(in));
            }
        }
        try (var restored = harness(snapshot)) {
            for (ViewInput in : route(event("e3", "boiler-1", 10, T0 + 3, T0 + 1_000))) {
                restored.processElement1(new StreamRecord<>(in));
            }
            restored.setProcessingTime(EMIT.toMillis());
            assertThat(restored.extractOutputValues()).hasSize(1);
            assertThat(measures(restored.extractOutputValues().get(0))).containsEntry("count", 4.0);
        }
    }

    @Test
    void eventsAnOlderVersionLeftWaitingInKeyedStateAreFoldedAtTheFirstEmissionAfterARestore() throws Exception {
        OperatorSubtaskState snapshot;
        List<ViewInput> routed = route(event("old", "boiler-1", 7, T0, T0 + 1_000));
        try (var harness = harness()) {
            // As the versions before 2026-12 kept them: a list per key in keyed state.
            ViewFolder older = folder(harness);
            for (ViewInput in : routed) {
                older.setCurrentKey(in.key);
                older.<String>getKeyedStateBackend()
                        .getPartitionedState(
                                VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, ViewFolder.LEGACY_BUFFER)
                        .add(in.fold);
            }
            snapshot = harness.snapshot(1, 1);
        }
        try (var restored = harness(snapshot)) {
            assertThat(folder(restored).waitingKeys()).isEqualTo(1);
            restored.setProcessingTime(EMIT.toMillis());
            assertThat(restored.extractOutputValues()).hasSize(1);
            assertThat(measures(restored.extractOutputValues().get(0)))
                    .containsEntry("count", 1.0)
                    .containsEntry("sum", 7.0);
        }
    }
}
