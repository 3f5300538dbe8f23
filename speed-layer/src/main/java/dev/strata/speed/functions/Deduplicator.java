package dev.strata.speed.functions;

import dev.strata.speed.model.IngestedEvent;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Passes the first event of each (source, id) and drops repeats within the dedup horizon (clients
 * retry: HTTP retries, MQTT QoS 1 redelivery). Keyed by {@link IngestedEvent#identity()}, so two
 * sources that use the same id never hide each other's events; the "seen" flag expires after the
 * horizon (state TTL, processing time), so state stays bounded by the events of one horizon.
 */
public class Deduplicator extends KeyedProcessFunction<String, IngestedEvent, IngestedEvent> {

    private static final long serialVersionUID = 1L;
    public static final String SEEN_STATE = "dedup-seen";

    private final Duration horizon;
    private transient ValueState<Boolean> seen;
    private transient Counter duplicates;

    public Deduplicator(Duration horizon) {
        if (horizon == null || horizon.isNegative() || horizon.isZero()) {
            throw new IllegalArgumentException("dedup horizon must be positive, e.g. PT24H; got " + horizon);
        }
        this.horizon = horizon;
    }

    @Override
    public void open(OpenContext context) {
        ValueStateDescriptor<Boolean> descriptor = new ValueStateDescriptor<>(SEEN_STATE, Boolean.class);
        descriptor.enableTimeToLive(StateTtlConfig.newBuilder(horizon)
                .updateTtlOnCreateAndWrite()
                .neverReturnExpired()
                .cleanupFullSnapshot()
                .cleanupIncrementally(10, false)
                .build());
        seen = getRuntimeContext().getState(descriptor);
        duplicates = getRuntimeContext().getMetricGroup().counter("duplicatesDropped");
    }

    @Override
    public void processElement(IngestedEvent event, Context ctx, Collector<IngestedEvent> out) throws Exception {
        if (seen.value() != null) {
            duplicates.inc();
            return;
        }
        seen.update(Boolean.TRUE);
        out.collect(event);
    }
}
