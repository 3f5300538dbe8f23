package dev.strata.speed.functions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.speed.model.IngestedEvent;
import java.time.Duration;
import java.util.HashMap;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

class DeduplicatorTest {

    static final Duration HORIZON = Duration.ofHours(24);

    static IngestedEvent event(String id) {
        return event("s", id);
    }

    static IngestedEvent event(String source, String id) {
        IngestedEvent e = new IngestedEvent();
        e.id = id;
        e.source = source;
        e.type = "t";
        e.attributes = new HashMap<>();
        return e;
    }

    static KeyedOneInputStreamOperatorTestHarness<String, IngestedEvent, IngestedEvent> harness() throws Exception {
        return ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                new Deduplicator(HORIZON), IngestedEvent::identity, Types.STRING);
    }

    @Test
    void passesTheFirstOfEachIdAndDropsRepeatsWithinTheHorizon() throws Exception {
        try (var harness = harness()) {
            harness.setStateTtlProcessingTime(0);
            for (String id : new String[] {"a", "b", "a", "c", "b", "a"}) {
                harness.processElement(new StreamRecord<>(event(id)));
            }
            assertThat(harness.extractOutputValues()).extracting(e -> e.id).containsExactly("a", "b", "c");
            assertThat(harness.numKeyedStateEntries()).isEqualTo(3);
        }
    }

    @Test
    void twoSourcesThatUseTheSameIdBothCount() throws Exception {
        try (var harness = harness()) {
            harness.setStateTtlProcessingTime(0);
            harness.processElement(new StreamRecord<>(event("dev-1", "42")));
            harness.processElement(new StreamRecord<>(event("dev-2", "42")));
            harness.processElement(new StreamRecord<>(event("dev-1", "42"))); // a retry of dev-1's
            // The source's length leads the key: ("ab", "c") and ("a", "bc") stay two events.
            harness.processElement(new StreamRecord<>(event("ab", "c")));
            harness.processElement(new StreamRecord<>(event("a", "bc")));
            assertThat(harness.extractOutputValues())
                    .extracting(e -> e.source + "/" + e.id)
                    .containsExactly("dev-1/42", "dev-2/42", "ab/c", "a/bc");
        }
    }

    @Test
    void anIdIsForgottenAfterTheHorizonSoStateStaysBounded() throws Exception {
        try (var harness = harness()) {
            harness.setStateTtlProcessingTime(0);
            harness.processElement(new StreamRecord<>(event("old")));

            harness.setStateTtlProcessingTime(HORIZON.toMillis() + 1);
            harness.processElement(new StreamRecord<>(event("old")));

            // Past the horizon the id counts again (the dedup horizon is a documented trade-off).
            assertThat(harness.extractOutputValues()).extracting(e -> e.id).containsExactly("old", "old");
            assertThat(harness.numProcessingTimeTimers()).isZero();
        }
    }

    @Test
    void aNonPositiveHorizonIsRefused() {
        assertThatThrownBy(() -> new Deduplicator(Duration.ZERO))
                .hasMessageContaining("dedup horizon must be positive");
    }
}
