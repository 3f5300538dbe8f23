package dev.strata.speed.functions;

import dev.strata.schemas.views.Measure;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import dev.strata.speed.model.FoldInput;
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
    /** Per view (in the order of {@link #views}), the fields of its distinct measures. */
    private final String[][] distinctFields;

    public ViewRouter(List<ViewDefinition> views, Duration bucketSize) {
        if (views.isEmpty()) {
            throw new IllegalArgumentException("no views: the speed layer needs at least one view definition");
        }
        if (bucketSize.toMillis() <= 0) {
            throw new IllegalArgumentException("bucket size must be positive, e.g. PT1M; got " + bucketSize);
        }
        this.views = List.copyOf(views);
        this.bucketMillis = bucketSize.toMillis();
        this.distinctFields = views.stream()
                .map(v -> v.distinctMeasures().stream().map(Measure::field).toArray(String[]::new))
                .toArray(String[][]::new);
    }

    @Override
    public void flatMap(IngestedEvent in, Collector<ViewInput> out) {
        long bucket = ViewKey.bucketOf(in.appendTimeMillis, bucketMillis);
        for (int v = 0; v < views.size(); v++) {
            ViewDefinition view = views.get(v);
            if (view.matches(in.type, in.attributes)) {
                ViewKey key = new ViewKey(
                        view.name(),
                        view.group(in.source, in.type, in.attributes),
                        view.windowStartMillis(in.timeMillis),
                        bucket);
                String[] distinct = new String[distinctFields[v].length];
                for (int i = 0; i < distinct.length; i++) {
                    distinct[i] = ViewDefinition.field(in.source, in.type, in.attributes, distinctFields[v][i]);
                }
                out.collect(ViewInput.of(key, in.appendTimeMillis, new FoldInput(in.value, distinct)));
            }
        }
    }
}
