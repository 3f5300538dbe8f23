package dev.strata.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.schemas.topics.StrataTopics;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * Strata's topics on a Kafka broker in a container. Runs where a Docker engine does; skipped
 * (never failed) where none runs. {@code -Dstrata.test.kafka=testcontainers} runs every other
 * broker test on a container too.
 */
@Testcontainers(disabledWithoutDocker = true)
class KafkaContainerIT {

    @Container
    static final KafkaContainer KAFKA = new KafkaContainer(ContainerBroker.IMAGE);

    @Test
    void strataTopicsCanBeCreatedOnAContainerBroker() throws Exception {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.getBootstrapServers());
        try (Admin admin = Admin.create(props)) {
            List<String> created =
                    StrataTopics.createMissing(admin, StrataTopics.all(), (short) 1, Duration.ofSeconds(60));
            assertThat(created).contains(StrataTopics.EVENTS, StrataTopics.SPEED_VIEWS);
        }
    }
}
