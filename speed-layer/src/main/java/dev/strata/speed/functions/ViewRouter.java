package dev.strata.speed.functions;

import dev.strata.schemas.Event;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import dev.strata.speed.model.IngestedEvent;
import dev.strata.speed.model.ViewInput;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.util.Collector;

/**
 * Sends an event to every view that takes it, keyed by (view, group, window start, ingest bucket),
 * the bucket being the broker's append time rounded down to {@code bucketSize}.
 */
public class ViewRouter implements FlatMapFunction<IngestedEvent, ViewInput> {

    private static final long serialVersionUID = 1L;

    private final List<ViewDefinition> views;
    private final long bucketMillis;

    public ViewRouter(List<ViewDefinition> views, Duration bucketSize) {
        if (views.isEmpty()) {
            throw new IllegalArgumentException("no views: the speed layer needs at least one view definition");
        }
        if (bucketSize.toMillis() <= 0) {
            throw new IllegalArgumentException("bucket size must be positive, e.g. PT1M; got " + bucketSize);
        }
        this.views = List.copyOf(views);
        this.bucketMillis = bucketSize.toMillis();
    }

    @Override
    public void flatMap(IngestedEvent in, Collector<ViewInput> out) {
        Event event = in.toEvent();
        long bucket = ViewKey.bucketOf(in.appendTimeMillis, bucketMillis);
        for (ViewDefinition view : views) {
            if (view.matches(event)) {
                ViewKey key = new ViewKey(
                        view.name(),
                        view.group(event),
                        view.windowStart(event.getTime()).toEpochMilli(),
                        bucket);
                out.collect(ViewInput.of(key, in));
            }
        }
    }
}
