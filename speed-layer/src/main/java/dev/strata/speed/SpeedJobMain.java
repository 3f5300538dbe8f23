package dev.strata.speed;

import dev.strata.schemas.topics.StrataTopics;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.speed.job.KafkaWiring;
import dev.strata.speed.job.SpeedLayerJob;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.ParameterTool;

/**
 * The job jar's entry point on a Flink cluster ({@code flink run strata-speed-layer-*-job.jar
 * --bootstrap-servers kafka:9092 --registry-url http://registry:8081}). State backend, checkpoints
 * and parallelism come from the cluster's configuration, as with any Flink job.
 */
public final class SpeedJobMain {

    private SpeedJobMain() {}

    public static void main(String[] args) throws Exception {
        ParameterTool params = ParameterTool.fromArgs(args);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        build(env, params);
        env.execute("strata-speed-layer");
    }

    /** Builds the job from {@code --key value} parameters; shared with {@code strata speed submit}. */
    static void build(StreamExecutionEnvironment env, ParameterTool params) throws Exception {
        List<ViewDefinition> views = params.has("views-yaml")
                ? ViewConfig.parse(params.get("views-yaml").getBytes(StandardCharsets.UTF_8))
                : ViewConfig.defaults();
        KafkaWiring kafka = new KafkaWiring(
                params.get("bootstrap-servers", "127.0.0.1:9092"),
                params.get("registry-url", "http://127.0.0.1:8081"),
                params.get("events-topic", StrataTopics.EVENTS),
                params.get("commits-topic", StrataTopics.BATCH_COMMITS),
                params.get("views-topic", StrataTopics.SPEED_VIEWS),
                params.get("dlq-topic", StrataTopics.EVENTS_DLQ),
                params.get("group-id", "strata-speed-layer"));
        SpeedLayerJob.Settings settings = new SpeedLayerJob.Settings(
                views,
                Duration.parse(params.get("bucket", "PT1M")),
                Duration.parse(params.get("emit-interval", "PT0.5S")),
                Duration.parse(params.get("dedup-horizon", "PT24H")));
        new SpeedLayerJob(kafka.events(), kafka.commits(), kafka.views(), kafka.deadLetters(), settings).build(env);
    }
}
