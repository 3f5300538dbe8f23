package dev.strata.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.gateway.config.GatewayConfig;
import dev.strata.kafka.EmbeddedKafkaBroker;
import dev.strata.registry.RegistryServer;
import dev.strata.schemas.kafka.KafkaClients;
import dev.strata.schemas.kafka.StrataAcls;
import dev.strata.schemas.topics.StrataTopics;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka not open: a broker with SASL/SCRAM-SHA-512 and the standard authorizer (nothing allowed
 * without an ACL), its users and ACLs made from {@link StrataAcls}, as the Compose file and the
 * Kubernetes {@code KafkaUser}s make them. The gateway runs with its own identity
 * ({@code STRATA_KAFKA_USER}'s path, {@link KafkaClients#useScram}) and appends an event; then a
 * table of who tries what, each with its exact answer. The super user (topics, users, ACLs) is the
 * broker's plaintext listener, as an operator's would be.
 */
class KafkaAclsIT {

    @TempDir
    static Path dir;

    static EmbeddedKafkaBroker broker;
    static String plaintext;
    static String sasl;
    static final Map<String, String> PASSWORDS = new HashMap<>();

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        int port = freePort();
        int saslPort = freePort();
        int controller = freePort();
        Map<String, String> overrides = new HashMap<>();
        overrides.put(
                "listeners",
                "PLAINTEXT://127.0.0.1:" + port + ",SASL_PLAINTEXT://127.0.0.1:" + saslPort + ",CONTROLLER://127.0.0.1:"
                        + controller);
        overrides.put(
                "advertised.listeners", "PLAINTEXT://127.0.0.1:" + port + ",SASL_PLAINTEXT://127.0.0.1:" + saslPort);
        overrides.put(
                "listener.security.protocol.map",
                "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT");
        overrides.put("sasl.enabled.mechanisms", "SCRAM-SHA-512");
        overrides.put(
                "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        overrides.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        overrides.put("super.users", "User:ANONYMOUS"); // the plaintext listener: the operator's, and the brokers'
        overrides.put("allow.everyone.if.no.acl.found", "false");
        broker = EmbeddedKafkaBroker.start(
                new EmbeddedKafkaBroker.Config(dir.resolve("kafka"), "127.0.0.1", port, controller, overrides));
        plaintext = "127.0.0.1:" + port;
        sasl = "127.0.0.1:" + saslPort;

        List<AclBinding> acls = new ArrayList<>();
        List<String> users = new ArrayList<>(List.of(
                StrataAcls.GATEWAY, StrataAcls.REGISTRY, StrataAcls.SPEED, StrataAcls.BATCH, StrataAcls.SERVING));
        StrataAcls.components().forEach(g -> acls.addAll(g.bindings()));
        StrataAcls.Grant acme = StrataAcls.producer("acme");
        acls.addAll(acme.bindings());
        users.add(acme.principal());
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, plaintext))) {
            admin.createTopics(StrataTopics.all(1, StrataTopics.DEFAULT_EVENTS_RETENTION).stream()
                            .map(t -> t.toNewTopic((short) 1))
                            .toList())
                    .all()
                    .get(60, TimeUnit.SECONDS);
            List<UserScramCredentialUpsertion> credentials = new ArrayList<>();
            for (String user : users) {
                String password = "pw-" + user + "-" + System.nanoTime();
                PASSWORDS.put(user, password);
                credentials.add(new UserScramCredentialUpsertion(
                        user, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), password));
            }
            admin.alterUserScramCredentials(List.copyOf(credentials)).all().get(60, TimeUnit.SECONDS);
            admin.createAcls(acls).all().get(60, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() {
        KafkaClients.use(Map.of());
        if (broker != null) {
            broker.close();
        }
    }

    static Properties as(String user, String password) {
        KafkaClients.use(Map.of());
        KafkaClients.useScram(user, password);
        Properties props = KafkaClients.secure(new Properties());
        KafkaClients.use(Map.of());
        props.put("bootstrap.servers", sasl);
        return props;
    }

    /** "allowed", or the simple name of the exception that refused it. */
    static String produce(String user, String password, String topic) {
        Properties props = as(user, password);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "15000");
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        try (KafkaProducer<byte[], byte[]> p =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            p.send(new ProducerRecord<>(topic, "k".getBytes(), "v".getBytes())).get(30, TimeUnit.SECONDS);
            return "allowed";
        } catch (ExecutionException e) {
            return e.getCause().getClass().getSimpleName();
        } catch (Exception e) {
            return e.getClass().getSimpleName();
        }
    }

    static String consume(String user, String topic) {
        Properties props = as(user, PASSWORDS.get(user));
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
        try (KafkaConsumer<byte[], byte[]> c =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition p = new TopicPartition(topic, 0);
            c.assign(List.of(p));
            c.seekToBeginning(List.of(p));
            c.poll(Duration.ofSeconds(5));
            c.position(p);
            return "allowed";
        } catch (TopicAuthorizationException e) {
            return e.getClass().getSimpleName();
        }
    }

    @Test
    void theGatewayAppendsWithItsOwnIdentityAndEachIdentityMayDoExactlyWhatItsComponentDoes() throws Exception {
        // The registry first, on the operator's listener: KafkaClients is per process, and this JVM is several.
        try (RegistryServer registry =
                RegistryServer.start(RegistryServer.Config.of(plaintext).withPort(0))) {
            KafkaClients.useScram(StrataAcls.GATEWAY, PASSWORDS.get(StrataAcls.GATEWAY));
            Gateway gateway;
            try {
                gateway = Gateway.start(GatewayConfig.builder(sasl, registry.url())
                        .listen("127.0.0.1", 0, -1)
                        .tokens(null)
                        .build());
            } finally {
                KafkaClients.use(Map.of());
            }
            try {
                HttpResponse<String> answer = HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(URI.create(gateway.httpUrl() + "/v1/events"))
                                        .header("Content-Type", "application/json")
                                        .POST(HttpRequest.BodyPublishers.ofString(
                                                "{\"id\":\"acl-1\",\"source\":\"s\",\"type\":\"t\"}"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            } finally {
                gateway.close();
            }
        }

        String gw = PASSWORDS.get(StrataAcls.GATEWAY);
        Map<String, String> table = new LinkedHashMap<>();
        table.put("gateway writes events", produce(StrataAcls.GATEWAY, gw, StrataTopics.EVENTS));
        table.put("gateway writes events.dlq", produce(StrataAcls.GATEWAY, gw, StrataTopics.EVENTS_DLQ));
        table.put("gateway writes batch-commits", produce(StrataAcls.GATEWAY, gw, StrataTopics.BATCH_COMMITS));
        table.put("gateway writes speed-views", produce(StrataAcls.GATEWAY, gw, StrataTopics.SPEED_VIEWS));
        table.put("gateway reads events", consume(StrataAcls.GATEWAY, StrataTopics.EVENTS));
        table.put(
                "producer-acme writes events",
                produce("producer-acme", PASSWORDS.get("producer-acme"), StrataTopics.EVENTS));
        table.put(
                "producer-acme writes batch-commits",
                produce("producer-acme", PASSWORDS.get("producer-acme"), StrataTopics.BATCH_COMMITS));
        table.put(
                "batch writes batch-commits",
                produce(StrataAcls.BATCH, PASSWORDS.get(StrataAcls.BATCH), StrataTopics.BATCH_COMMITS));
        table.put("batch reads events", consume(StrataAcls.BATCH, StrataTopics.EVENTS));
        table.put(
                "speed writes speed-views",
                produce(StrataAcls.SPEED, PASSWORDS.get(StrataAcls.SPEED), StrataTopics.SPEED_VIEWS));
        table.put(
                "speed writes batch-commits",
                produce(StrataAcls.SPEED, PASSWORDS.get(StrataAcls.SPEED), StrataTopics.BATCH_COMMITS));
        table.put("serving reads speed-views", consume(StrataAcls.SERVING, StrataTopics.SPEED_VIEWS));
        table.put("serving reads events", consume(StrataAcls.SERVING, StrataTopics.EVENTS));
        table.put(
                "serving writes batch-commits",
                produce(StrataAcls.SERVING, PASSWORDS.get(StrataAcls.SERVING), StrataTopics.BATCH_COMMITS));
        table.put("a wrong password writes events", produce(StrataAcls.GATEWAY, gw + "x", StrataTopics.EVENTS));

        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("gateway writes events", "allowed");
        expected.put("gateway writes events.dlq", "allowed");
        expected.put("gateway writes batch-commits", "TopicAuthorizationException");
        expected.put("gateway writes speed-views", "TopicAuthorizationException");
        expected.put("gateway reads events", "TopicAuthorizationException");
        expected.put("producer-acme writes events", "allowed");
        expected.put("producer-acme writes batch-commits", "TopicAuthorizationException");
        expected.put("batch writes batch-commits", "allowed");
        expected.put("batch reads events", "allowed");
        expected.put("speed writes speed-views", "allowed");
        expected.put("speed writes batch-commits", "TopicAuthorizationException");
        expected.put("serving reads speed-views", "allowed");
        expected.put("serving reads events", "TopicAuthorizationException");
        expected.put("serving writes batch-commits", "TopicAuthorizationException");
        expected.put("a wrong password writes events", SaslAuthenticationException.class.getSimpleName());
        assertThat(table).containsExactlyEntriesOf(expected);
    }
}
