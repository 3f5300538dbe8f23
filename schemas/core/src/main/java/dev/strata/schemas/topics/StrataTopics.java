package dev.strata.schemas.topics;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The Kafka topics of DESIGN.md ("Topics") with the configuration each one needs. Every layer
 * refers to topics through these names; the local stack and the tests create them from here.
 */
public final class StrataTopics {

    /** Every accepted event, append-only, stamped by the broker (LogAppendTime). */
    public static final String EVENTS = "events";
    /** Records that could not be decoded or validated: raw bytes plus reason headers. */
    public static final String EVENTS_DLQ = "events.dlq";
    /** Bytes of dead letters kept per partition of {@code events.dlq} (1 GiB; 4 GiB for 4 partitions). */
    public static final long DLQ_RETENTION_BYTES = 1L << 30;
    /** Latest aggregate state per (view, group, window, ingest bucket); compacted. */
    public static final String SPEED_VIEWS = "speed-views";
    /** The schema registry's storage; compacted, one partition (a total order of writes). */
    public static final String SCHEMAS = "_schemas";
    /** One record per committed batch snapshot: run number, cut, location; compacted. */
    public static final String BATCH_COMMITS = "batch-commits";

    /** Default partition count of the partitioned topics (events, DLQ, speed views). */
    public static final int DEFAULT_PARTITIONS = 4;
    /**
     * Retention of {@code events}: it must cover two batch cycles plus a replay margin. Seven days
     * is generous for the hourly production cycle; the lake is the permanent copy.
     */
    public static final Duration DEFAULT_EVENTS_RETENTION = Duration.ofDays(7);

    private StrataTopics() {}

    /** A topic's name, partition count and topic-level configuration. */
    public record TopicSpec(String name, int partitions, Map<String, String> configs) {
        public TopicSpec {
            if (partitions < 1) {
                throw new IllegalArgumentException("topic " + name + ": partitions must be >= 1, got " + partitions);
            }
            configs = Map.copyOf(configs);
        }

        public NewTopic toNewTopic(short replicationFactor) {
            return new NewTopic(name, partitions, replicationFactor).configs(configs);
        }
    }

    /** The topic specs of DESIGN.md, with {@code partitions} for the partitioned topics. */
    public static List<TopicSpec> all(int partitions, Duration eventsRetention) {
        return List.of(
                new TopicSpec(
                        EVENTS,
                        partitions,
                        Map.of(
                                TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG,
                                "LogAppendTime",
                                TopicConfig.CLEANUP_POLICY_CONFIG,
                                TopicConfig.CLEANUP_POLICY_DELETE,
                                TopicConfig.RETENTION_MS_CONFIG,
                                Long.toString(eventsRetention.toMillis()))),
                // Dead letters are never dropped by age, only once a partition holds more than
                // DLQ_RETENTION_BYTES (the oldest first): a burst of junk cannot fill the disk Kafka shares.
                new TopicSpec(
                        EVENTS_DLQ,
                        partitions,
                        Map.of(
                                TopicConfig.CLEANUP_POLICY_CONFIG,
                                TopicConfig.CLEANUP_POLICY_DELETE,
                                TopicConfig.RETENTION_MS_CONFIG,
                                "-1",
                                TopicConfig.RETENTION_BYTES_CONFIG,
                                Long.toString(DLQ_RETENTION_BYTES))),
                new TopicSpec(
                        SPEED_VIEWS,
                        partitions,
                        Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)),
                new TopicSpec(
                        SCHEMAS, 1, Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)),
                new TopicSpec(
                        BATCH_COMMITS,
                        1,
                        Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));
    }

    public static List<TopicSpec> all() {
        return all(DEFAULT_PARTITIONS, DEFAULT_EVENTS_RETENTION);
    }

    /**
     * Creates those of {@code specs} that do not exist yet, and returns once every partition of
     * those it created has a leader in the metadata the brokers serve (a creation is acknowledged by
     * the controller first; a client that uses the topic at once could meet
     * UnknownTopicOrPartition or NOT_LEADER). Existing topics are left as they are (their
     * configuration is the operator's). Returns the names of the topics created.
     */
    public static List<String> createMissing(
            Admin admin, List<TopicSpec> specs, short replicationFactor, Duration timeout)
            throws InterruptedException, TimeoutException {
        Set<String> existing;
        try {
            existing = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(
                    "cannot list topics: " + e.getCause().getMessage(), e.getCause());
        }
        List<NewTopic> toCreate = new ArrayList<>();
        for (TopicSpec spec : specs) {
            if (!existing.contains(spec.name())) {
                toCreate.add(spec.toNewTopic(replicationFactor));
            }
        }
        List<String> created = new ArrayList<>();
        if (toCreate.isEmpty()) {
            return created;
        }
        var result = admin.createTopics(toCreate);
        for (var entry : result.values().entrySet()) {
            try {
                entry.getValue().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                created.add(entry.getKey());
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw new IllegalStateException(
                            "cannot create topic " + entry.getKey() + ": "
                                    + e.getCause().getMessage(),
                            e.getCause());
                }
            }
        }
        awaitLeaders(admin, created, timeout);
        return created;
    }

    /** Returns once every partition of {@code topics} has a leader in the metadata the brokers serve. */
    public static void awaitLeaders(Admin admin, List<String> topics, Duration timeout)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!topics.isEmpty()) {
            try {
                var described =
                        admin.describeTopics(topics).allTopicNames().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (described.values().stream()
                        .allMatch(d -> d.partitions().stream()
                                .allMatch(p -> p.leader() != null && !p.leader().isEmpty()))) {
                    return;
                }
            } catch (ExecutionException e) {
                // not known to the broker that answered yet
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(
                        "topics " + topics + " created, but not all their partitions have a leader after " + timeout);
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }
}
