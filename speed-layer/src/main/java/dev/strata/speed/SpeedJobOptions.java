package dev.strata.speed;

import dev.strata.schemas.cli.CutOptions;
import dev.strata.schemas.cli.KafkaOptions;
import dev.strata.schemas.cli.RegistryOptions;
import dev.strata.schemas.topics.StrataTopics;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.speed.job.KafkaWiring;
import dev.strata.speed.job.SpeedLayerJob;
import java.time.Duration;
import java.util.List;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options that build the speed job, the same wherever it runs: on a local MiniCluster
 * ({@code strata speed}), submitted to a cluster ({@code strata speed submit}) or started by
 * {@code flink run} ({@link SpeedJobMain}).
 */
public final class SpeedJobOptions {

    /** The job's name on its cluster, and its consumer group. */
    public static final String JOB_NAME = "strata-speed-layer";

    @Mixin
    KafkaOptions kafka;

    @Mixin
    RegistryOptions registry;

    @Mixin
    CutOptions cut;

    @Option(
            names = "--emit-interval",
            defaultValue = SpeedLayerJob.DEFAULT_EMIT_INTERVAL,
            description = "Upserts of a key at most this often. Default: ${DEFAULT-VALUE}")
    Duration emitInterval;

    @Option(names = "--events-topic", defaultValue = StrataTopics.EVENTS, description = "Default: ${DEFAULT-VALUE}")
    String eventsTopic;

    @Option(
            names = "--commits-topic",
            defaultValue = StrataTopics.BATCH_COMMITS,
            description = "Default: ${DEFAULT-VALUE}")
    String commitsTopic;

    @Option(names = "--views-topic", defaultValue = StrataTopics.SPEED_VIEWS, description = "Default: ${DEFAULT-VALUE}")
    String viewsTopic;

    @Option(names = "--dlq-topic", defaultValue = StrataTopics.EVENTS_DLQ, description = "Default: ${DEFAULT-VALUE}")
    String dlqTopic;

    @Option(names = "--group-id", defaultValue = JOB_NAME, description = "Default: ${DEFAULT-VALUE}")
    String groupId;

    /** Adds the job, reading and writing the configured topics, to {@code env}. */
    void build(StreamExecutionEnvironment env, List<ViewDefinition> views) {
        KafkaWiring wiring = new KafkaWiring(
                kafka.bootstrapServers(),
                registry.registryUrl(),
                eventsTopic,
                commitsTopic,
                viewsTopic,
                dlqTopic,
                groupId);
        new SpeedLayerJob(
                        wiring.events(),
                        wiring.commits(),
                        wiring.views(),
                        wiring.deadLetters(),
                        new SpeedLayerJob.Settings(views, cut.settings(), emitInterval))
                .build(env);
    }
}
