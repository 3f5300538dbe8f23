package dev.strata.gateway.kafka;

import dev.strata.schemas.kafka.KafkaClients;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/** Whether Kafka answers, for {@code /ready}: one cluster description at most every second. */
public final class KafkaHealth implements AutoCloseable {

    private static final long CACHE_NANOS = Duration.ofSeconds(1).toNanos();

    private final Admin admin;
    private volatile CompletableFuture<Boolean> last;
    private volatile long lastAt;

    public KafkaHealth(String bootstrapServers) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        KafkaClients.secure(props);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "strata-gateway-health");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2_000);
        this.admin = Admin.create(props);
    }

    public synchronized CompletionStage<Boolean> reachable() {
        long now = System.nanoTime();
        if (last == null || now - lastAt > CACHE_NANOS) {
            CompletableFuture<Boolean> probe = new CompletableFuture<>();
            admin.describeCluster(new DescribeClusterOptions().timeoutMs(2_000))
                    .nodes()
                    .whenComplete((nodes, error) -> probe.complete(error == null && !nodes.isEmpty()));
            last = probe;
            lastAt = now;
        }
        return last;
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(2));
    }
}
