package dev.strata.speed.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.registry.RegistryServer;
import dev.strata.schemas.Event;
import dev.strata.schemas.topics.StrataTopics;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventSerializer;
import dev.strata.speed.SpeedMain;
import dev.strata.testing.KafkaBrokerExtension;
import dev.strata.testing.Waits;
import java.io.File;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.flink.client.program.ClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.client.JobStatusMessage;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.apache.flink.test.junit5.InjectClusterRESTAddress;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code strata speed submit --jobmanager HOST:PORT} sends the shaded job jar, unchanged, to a
 * Flink cluster's REST endpoint (here a MiniCluster's), where it runs and publishes views.
 */
class SubmitIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();
    /**
     * Parent-first class loading: this test JVM has the Kafka connector and clients on its own
     * classpath, which a Flink distribution does not, so child-first loading would meet two copies.
     */
    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .setConfiguration(Configuration.fromMap(Map.of("classloader.resolve-order", "parent-first")))
            .build());

    @Test
    void theJobJarRunsOnAClusterAndPublishesViews(
            @InjectClusterRESTAddress URI rest, @InjectClusterClient ClusterClient<?> cluster) throws Exception {
        KAFKA.createStrataTopics();
        Path jobJar;
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            jobJar = files.filter(p -> p.getFileName().toString().endsWith("-job.jar"))
                    .findFirst()
                    .orElseThrow();
        }
        try (RegistryServer registry = RegistryServer.start(
                RegistryServer.Config.of(KAFKA.bootstrapServers()).withPort(0))) {
            // As a user runs it: its own JVM (a test JVM forbids remote environments), this module's classpath.
            String classpath = "target/classes" + File.pathSeparator
                    + Files.readString(Path.of("target/runtime-classpath.txt")).trim() + File.pathSeparator
                    + Files.readString(Path.of("target/provided-classpath.txt")).trim();
            Process submit = new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString(),
                            "-cp",
                            classpath,
                            SpeedMain.class.getName(),
                            "--bootstrap-servers",
                            KAFKA.bootstrapServers(),
                            "--registry-url",
                            registry.url(),
                            "submit",
                            "--jobmanager",
                            rest.getHost() + ":" + rest.getPort(),
                            "--jar",
                            jobJar.toString())
                    .redirectErrorStream(true)
                    .start();
            String output = new String(submit.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(submit.waitFor()).as(output).isZero();
            assertThat(output).contains("Submitted the speed job");

            EventSerializer serializer = new EventSerializer();
            serializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registry.url()), false);
            Properties props = new Properties();
            props.put("bootstrap.servers", KAFKA.bootstrapServers());
            try (KafkaProducer<String, Event> producer =
                    new KafkaProducer<>(props, new StringSerializer(), serializer)) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>(
                            StrataTopics.EVENTS,
                            "submitted-" + i,
                            Event.newBuilder()
                                    .setId("submit-" + i)
                                    .setSource("submitted-" + i)
                                    .setType("t")
                                    .setTime(Instant.now())
                                    .setIngestTime(Instant.now())
                                    .setValue(1.0)
                                    .setAttributes(Map.of())
                                    .build()));
                }
            }

            int views = Waits.await("upserts published by the submitted job", Duration.ofSeconds(90))
                    .until(
                            () -> SpeedLayerIT.readAll(KAFKA.bootstrapServers(), StrataTopics.SPEED_VIEWS)
                                    .size(),
                            n -> n > 0);
            Collection<JobStatusMessage> jobs = cluster.listJobs().get();
            assertThat(jobs)
                    .singleElement()
                    .satisfies(j -> assertThat(j.getJobName()).isEqualTo("strata-speed-layer"));
            assertThat(views).as("upserts published by the submitted job").isPositive();
            cluster.cancel(jobs.iterator().next().getJobId()).get();
        }
    }
}
