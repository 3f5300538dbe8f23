package dev.strata.cli.stack;

import dev.strata.schemas.net.LocalPorts;
import java.util.ArrayList;
import java.util.List;

/**
 * The ports of a stack: one Kafka and controller port per broker, and one port per service.
 * {@code strata up} takes them from its options; benchmarks and the guarantee suite take free ones.
 */
public record StackPorts(
        List<Integer> kafka,
        List<Integer> kafkaControllers,
        int registry,
        int gatewayHttp,
        int mqtt,
        int serving,
        int flinkWeb,
        int speedMetrics,
        int batchMetrics,
        int flinkRpc,
        int jobManagerMetrics,
        int s3) {

    public StackPorts {
        kafka = List.copyOf(kafka);
        kafkaControllers = List.copyOf(kafkaControllers);
        if (kafka.isEmpty() || kafka.size() != kafkaControllers.size()) {
            throw new IllegalArgumentException(
                    "one Kafka port and one controller port per broker, got " + kafka + " and " + kafkaControllers);
        }
    }

    /**
     * Fixed ports: {@code brokers} brokers on {@code kafka}, +2, +4… and their controllers on
     * {@code controller}, +2, +4….
     */
    public static StackPorts fixed(
            int brokers,
            int kafka,
            int controller,
            int registry,
            int gatewayHttp,
            int mqtt,
            int serving,
            int flinkWeb,
            int speedMetrics,
            int batchMetrics,
            int flinkRpc,
            int jobManagerMetrics,
            int s3) {
        List<Integer> brokerPorts = new ArrayList<>();
        List<Integer> controllers = new ArrayList<>();
        for (int node = 0; node < brokers; node++) {
            brokerPorts.add(kafka + 2 * node);
            controllers.add(controller + 2 * node);
        }
        return new StackPorts(
                brokerPorts,
                controllers,
                registry,
                gatewayHttp,
                mqtt,
                serving,
                flinkWeb,
                speedMetrics,
                batchMetrics,
                flinkRpc,
                jobManagerMetrics,
                s3);
    }

    /** Ports free on {@code host} a moment ago, for a stack of {@code brokers} brokers. */
    public static StackPorts free(String host, int brokers) {
        List<Integer> brokerPorts = new ArrayList<>();
        List<Integer> controllers = new ArrayList<>();
        for (int node = 0; node < brokers; node++) {
            brokerPorts.add(LocalPorts.free(host));
            controllers.add(LocalPorts.free(host));
        }
        return new StackPorts(
                brokerPorts,
                controllers,
                LocalPorts.free(host),
                LocalPorts.free(host),
                LocalPorts.free(host),
                LocalPorts.free(host),
                LocalPorts.free(host),
                LocalPorts.free(host),
                LocalPorts.free(host),
                LocalPorts.free(host),
                LocalPorts.free(host),
                LocalPorts.free(host));
    }
}
