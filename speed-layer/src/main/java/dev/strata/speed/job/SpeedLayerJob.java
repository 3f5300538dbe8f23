package dev.strata.speed.job;

import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.speed.functions.Deduplicator;
import dev.strata.speed.functions.ViewFolder;
import dev.strata.speed.functions.ViewRouter;
import dev.strata.speed.model.DeadLetter;
import dev.strata.speed.model.Decoded;
import dev.strata.speed.model.IngestedEvent;
import dev.strata.speed.model.Upsert;
import dev.strata.speed.model.ViewInput;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The speed layer: events → decode (dead letters to the DLQ) → dedup by (source, id) → per view: key by
 * (view, group, window, ingest bucket) → fold in keyed state → upserts at most every emit interval.
 * Batch commits arrive broadcast and move the cut. Sources and sinks come from outside
 * ({@link KafkaWiring} in production, anything in tests).
 */
public final class SpeedLayerJob {

    public static final String UID_EVENTS = "events-source";
    public static final String UID_DECODE = "decode";
    public static final String UID_DLQ = "dead-letter-sink";
    public static final String UID_DEDUP = "dedup";
    public static final String UID_ROUTE = "view-router";
    public static final String UID_COMMITS = "batch-commits-source";
    public static final String UID_FOLD = "view-folder";
    public static final String UID_VIEWS = "speed-views-sink";

    static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {
        private static final long serialVersionUID = 1L;
    };

    /** Upserts of a key at most this often, by default. */
    public static final String DEFAULT_EMIT_INTERVAL = "PT0.5S";

    /** The job's settings: its views, the cut settings it shares with the batch layer, how often it emits. */
    public record Settings(List<ViewDefinition> views, CutSettings cut, Duration emitInterval) {
        public static Settings of(List<ViewDefinition> views) {
            return new Settings(views, CutSettings.DEFAULTS, Duration.parse(DEFAULT_EMIT_INTERVAL));
        }
    }

    private final Source<Decoded, ?, ?> events;
    private final Source<BatchCommit, ?, ?> commits;
    private final Sink<Upsert> views;
    private final Sink<DeadLetter> deadLetters;
    private final Settings settings;

    public SpeedLayerJob(
            Source<Decoded, ?, ?> events,
            Source<BatchCommit, ?, ?> commits,
            Sink<Upsert> views,
            Sink<DeadLetter> deadLetters,
            Settings settings) {
        this.events = events;
        this.commits = commits;
        this.views = views;
        this.deadLetters = deadLetters;
        this.settings = settings;
    }

    public void build(StreamExecutionEnvironment env) {
        SingleOutputStreamOperator<IngestedEvent> decoded = env.fromSource(
                        events, WatermarkStrategy.noWatermarks(), "events")
                .uid(UID_EVENTS)
                .process(new Splitter())
                .uid(UID_DECODE)
                .name("decode");
        decoded.getSideOutput(DEAD_LETTERS).sinkTo(deadLetters).uid(UID_DLQ).name("events.dlq");

        DataStream<BatchCommit> cuts = env.fromSource(commits, WatermarkStrategy.noWatermarks(), "batch-commits")
                .uid(UID_COMMITS)
                .broadcast();

        decoded.keyBy(IngestedEvent::identity)
                .process(new Deduplicator(settings.cut().dedupHorizon()))
                .uid(UID_DEDUP)
                .name("dedup")
                .flatMap(new ViewRouter(settings.views(), settings.cut().bucket()))
                .uid(UID_ROUTE)
                .name("route to views")
                .keyBy(ViewInput::key)
                .connect(cuts)
                .transform(
                        "fold views",
                        TypeInformation.of(Upsert.class),
                        new ViewFolder(settings.views(), settings.cut(), settings.emitInterval()))
                .uid(UID_FOLD)
                .name("fold views")
                .sinkTo(views)
                .uid(UID_VIEWS)
                .name("speed-views");
    }

    /** Events go on; dead letters go to the side output. */
    static final class Splitter extends ProcessFunction<Decoded, IngestedEvent> {
        private static final long serialVersionUID = 1L;
        /** Metric name of the records sent to {@code events.dlq} (the DLQ-rate alert reads it). */
        static final String DEAD_LETTERS_METRIC = "deadLetters";

        private transient Counter deadLetters;

        @Override
        public void open(OpenContext context) {
            deadLetters = getRuntimeContext().getMetricGroup().counter(DEAD_LETTERS_METRIC);
        }

        @Override
        public void processElement(Decoded in, Context ctx, Collector<IngestedEvent> out) {
            if (in.event != null) {
                out.collect(in.event);
            } else {
                deadLetters.inc();
                ctx.output(DEAD_LETTERS, in.deadLetter);
            }
        }
    }
}
