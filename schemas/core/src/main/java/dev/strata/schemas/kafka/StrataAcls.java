package dev.strata.schemas.kafka;

import dev.strata.schemas.topics.StrataTopics;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Who may do what on Strata's Kafka cluster: one Kafka identity per component and per service that
 * produces events straight to Kafka, each allowed exactly what its code does (the broker's
 * authorizer denies everything else). The one table the Compose file's ACL commands, the
 * Kubernetes {@code KafkaUser}s and the tests are checked against. Topic creation and
 * {@code strata status} use an operator's (super user's) credentials.
 */
public final class StrataAcls {

    public static final String GATEWAY = "strata-gateway";
    public static final String REGISTRY = "strata-registry";
    public static final String SPEED = "strata-speed";
    public static final String BATCH = "strata-batch";
    public static final String SERVING = "strata-serving";
    /** The consumer groups of the speed job ({@code --group-id}'s default, and its commits reader). */
    public static final String SPEED_GROUP_PREFIX = "strata-speed-layer";
    /** Each serving instance's Kafka Streams application id, its groups and any topics it makes. */
    public static final String SERVING_PREFIX = "strata-serving-";

    /** One grant: a principal may do {@code operations} on a resource (a literal name or a prefix). */
    public record Grant(
            String principal, ResourceType type, String name, PatternType pattern, List<AclOperation> operations) {

        public List<AclBinding> bindings() {
            return operations.stream()
                    .map(op -> new AclBinding(
                            new ResourcePattern(type, name, pattern),
                            new AccessControlEntry("User:" + principal, "*", op, AclPermissionType.ALLOW)))
                    .toList();
        }

        /** The {@code kafka-acls.sh} arguments that add it (after {@code --bootstrap-server … --add}). */
        public String kafkaAclsArguments() {
            String ops =
                    operations.stream().map(op -> "--operation " + camel(op)).collect(Collectors.joining(" "));
            String resource = (type == ResourceType.GROUP ? "--group " : "--topic ")
                    + name
                    + (pattern == PatternType.PREFIXED ? " --resource-pattern-type prefixed" : "");
            return "--allow-principal User:" + principal + " " + ops + " " + resource;
        }

        private static String camel(AclOperation op) {
            String lower = op.name().toLowerCase(Locale.ROOT);
            StringBuilder out = new StringBuilder();
            for (String part : lower.split("_")) {
                out.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
            }
            return out.toString();
        }
    }

    private StrataAcls() {}

    /** Every grant of the components. */
    public static List<Grant> components() {
        List<Grant> grants = new ArrayList<>();
        // The gateway appends events and dead letters.
        grants.add(topic(GATEWAY, StrataTopics.EVENTS, AclOperation.WRITE, AclOperation.DESCRIBE));
        grants.add(topic(GATEWAY, StrataTopics.EVENTS_DLQ, AclOperation.WRITE, AclOperation.DESCRIBE));
        // The registry keeps its log (and creates it when missing).
        grants.add(topic(
                REGISTRY,
                StrataTopics.SCHEMAS,
                AclOperation.READ,
                AclOperation.WRITE,
                AclOperation.DESCRIBE,
                AclOperation.CREATE,
                AclOperation.DESCRIBE_CONFIGS));
        // The speed job reads events and the cut, writes its views and dead letters.
        grants.add(topic(SPEED, StrataTopics.EVENTS, AclOperation.READ, AclOperation.DESCRIBE));
        grants.add(topic(SPEED, StrataTopics.BATCH_COMMITS, AclOperation.READ, AclOperation.DESCRIBE));
        grants.add(topic(SPEED, StrataTopics.SPEED_VIEWS, AclOperation.WRITE, AclOperation.DESCRIBE));
        grants.add(topic(SPEED, StrataTopics.EVENTS_DLQ, AclOperation.WRITE, AclOperation.DESCRIBE));
        grants.add(new Grant(
                SPEED, ResourceType.GROUP, SPEED_GROUP_PREFIX, PatternType.PREFIXED, List.of(AclOperation.READ)));
        // The batch layer archives events and is the only writer of batch commits.
        grants.add(topic(BATCH, StrataTopics.EVENTS, AclOperation.READ, AclOperation.DESCRIBE));
        grants.add(
                topic(BATCH, StrataTopics.BATCH_COMMITS, AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE));
        // The serving layer reads the speed views and the commits; Kafka Streams keeps its group.
        grants.add(topic(SERVING, StrataTopics.SPEED_VIEWS, AclOperation.READ, AclOperation.DESCRIBE));
        grants.add(topic(SERVING, StrataTopics.BATCH_COMMITS, AclOperation.READ, AclOperation.DESCRIBE));
        grants.add(new Grant(
                SERVING,
                ResourceType.GROUP,
                SERVING_PREFIX,
                PatternType.PREFIXED,
                List.of(AclOperation.READ, AclOperation.DESCRIBE)));
        grants.add(new Grant(
                SERVING,
                ResourceType.TOPIC,
                SERVING_PREFIX,
                PatternType.PREFIXED,
                List.of(
                        AclOperation.CREATE,
                        AclOperation.READ,
                        AclOperation.WRITE,
                        AclOperation.DESCRIBE,
                        AclOperation.DESCRIBE_CONFIGS)));
        return grants;
    }

    /** A service that produces events straight to Kafka (Confluent's serializer): its own identity, events only. */
    public static Grant producer(String service) {
        if (!service.matches("[a-z][a-z0-9-]{0,62}")) {
            throw new IllegalArgumentException(
                    "a producing service's name is [a-z][a-z0-9-]{0,62}; got '" + service + "'");
        }
        return topic("producer-" + service, StrataTopics.EVENTS, AclOperation.WRITE, AclOperation.DESCRIBE);
    }

    private static Grant topic(String principal, String topic, AclOperation... operations) {
        return new Grant(principal, ResourceType.TOPIC, topic, PatternType.LITERAL, List.of(operations));
    }
}
