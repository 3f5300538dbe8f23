package dev.strata.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.schemas.net.LocalPorts;
import dev.strata.schemas.topics.StrataTopics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three KRaft nodes (each broker and controller) as one cluster: Strata's topics are made with three
 * replicas and min.insync.replicas 2, and a write acknowledged by all in-sync replicas survives the
 * loss of a node, which rejoins from its data.
 */
class KafkaClusterIT {

    @TempDir
    Path data;

    @Test
    void threeNodesReplicateStrataTopicsAndLoseNothingAcknowledgedWhenOneStops() throws Exception {
        int[] ports = {LocalPorts.free(), LocalPorts.free(), LocalPorts.free()};
        int[] controllers = {LocalPorts.free(), LocalPorts.free(), LocalPorts.free()};
        String voters =
                "1@127.0.0.1:" + controllers[0] + ",2@127.0.0.1:" + controllers[1] + ",3@127.0.0.1:" + controllers[2];
        String clusterId = Uuid.randomUuid().toString();
        List<EmbeddedKafkaBroker.Config> configs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            configs.add(new EmbeddedKafkaBroker.Config(
                    data.resolve("node-" + (i + 1)),
                    "127.0.0.1",
                    ports[i],
                    controllers[i],
                    Map.of(),
                    new EmbeddedKafkaBroker.Cluster(i + 1, voters, clusterId, 3)));
        }
        // A node's start waits for the controller quorum: the three start together.
        List<CompletableFuture<EmbeddedKafkaBroker>> starting = configs.stream()
                .map(c -> CompletableFuture.supplyAsync(() -> EmbeddedKafkaBroker.start(c)))
                .toList();
        List<EmbeddedKafkaBroker> nodes = new ArrayList<>();
        for (CompletableFuture<EmbeddedKafkaBroker> f : starting) {
            nodes.add(f.get(120, TimeUnit.SECONDS));
        }
        String bootstrap = "127.0.0.1:" + ports[0] + ",127.0.0.1:" + ports[1] + ",127.0.0.1:" + ports[2];
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            Awaitility.await()
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> admin.describeCluster().nodes().get().size() == 3);
            StrataTopics.createMissing(admin, StrataTopics.all(), (short) 3, Duration.ofSeconds(30));
            // Created on the controller; the broker that answers may learn of the topic a moment later.
            TopicDescription events = Awaitility.await()
                    .atMost(Duration.ofSeconds(60))
                    .ignoreExceptions()
                    .until(
                            () -> admin.describeTopics(List.of(StrataTopics.EVENTS))
                                    .allTopicNames()
                                    .get()
                                    .get(StrataTopics.EVENTS),
                            d -> d.partitions().stream().allMatch(p -> p.leader() != null));
            assertThat(events.partitions())
                    .hasSize(StrataTopics.DEFAULT_PARTITIONS)
                    .allSatisfy(p -> assertThat(p.replicas()).hasSize(3));
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "1");
            assertThat(admin.describeConfigs(List.of(broker))
                            .all()
                            .get()
                            .get(broker)
                            .get("min.insync.replicas")
                            .value())
                    .isEqualTo("2");

            int acknowledged = produce(bootstrap, 0, 500);
            nodes.get(1).close(); // node 2 goes away
            acknowledged += produce(bootstrap, 500, 500); // two in-sync replicas still take acks=all
            nodes.set(1, EmbeddedKafkaBroker.start(configs.get(1))); // and it comes back from its data
            Awaitility.await()
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> admin
                            .describeTopics(List.of(StrataTopics.EVENTS))
                            .allTopicNames()
                            .get()
                            .get(StrataTopics.EVENTS)
                            .partitions()
                            .stream()
                            .allMatch(p -> p.isr().size() == 3));
            nodes.get(0).close(); // now node 1: the records are on the others
            assertThat(count(bootstrap.substring(bootstrap.indexOf(',') + 1))).isEqualTo(acknowledged);
        } finally {
            // Together: a node stopping alone after the quorum is gone waits minutes for a controller.
            CompletableFuture.allOf(nodes.stream()
                            .map(n -> CompletableFuture.runAsync(n::close))
                            .toArray(CompletableFuture[]::new))
                    .get(120, TimeUnit.SECONDS);
        }
    }

    static int produce(String bootstrap, int from, int count) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            List<Future<?>> sent = new ArrayList<>();
            for (int i = from; i < from + count; i++) {
                sent.add(producer.send(new ProducerRecord<>(StrataTopics.EVENTS, "k" + i, "v" + i)));
            }
            for (Future<?> f : sent) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
        return count;
    }

    static long count(String bootstrap) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < StrataTopics.DEFAULT_PARTITIONS; p++) {
                partitions.add(new TopicPartition(StrataTopics.EVENTS, p));
            }
            return Awaitility.await()
                    .atMost(Duration.ofSeconds(60))
                    .until(
                            () -> consumer.endOffsets(partitions).values().stream()
                                    .mapToLong(Long::longValue)
                                    .sum(),
                            n -> n >= 0);
        }
    }
}
