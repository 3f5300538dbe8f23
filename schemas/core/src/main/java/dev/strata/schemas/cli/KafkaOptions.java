package dev.strata.schemas.cli;

import dev.strata.schemas.kafka.KafkaClients;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --bootstrap-servers}: the Kafka cluster, as every Strata command takes it. */
public final class KafkaOptions {

    public static final String DEFAULT_BOOTSTRAP_SERVERS = "127.0.0.1:9092";

    @Option(
            names = "--bootstrap-servers",
            defaultValue = "${env:STRATA_KAFKA_BOOTSTRAP:-" + DEFAULT_BOOTSTRAP_SERVERS + "}",
            description = "Kafka bootstrap servers (env STRATA_KAFKA_BOOTSTRAP). Default: ${DEFAULT-VALUE}")
    String bootstrapServers;

    /** Loads the file's security settings for every Kafka client of this process ({@link KafkaClients}). */
    @Option(
            names = "--kafka-config",
            defaultValue = "${env:STRATA_KAFKA_CONFIG}",
            description = "A properties file of Kafka client security settings (security.protocol, sasl.*, ssl.*:"
                    + " e.g. SASL/SCRAM credentials) for every client of this component (env STRATA_KAFKA_CONFIG)."
                    + " Default: none (plaintext, as the local stack on loopback)")
    void kafkaConfig(Path file) {
        KafkaClients.load(file);
    }

    /**
     * The SASL/SCRAM identity of this component ({@code STRATA_KAFKA_USER} and {@code STRATA_KAFKA_PASSWORD},
     * as Strimzi's {@code KafkaUser} Secrets and Compose pass them); with {@code --kafka-config}, the
     * file's settings come first.
     */
    @Option(
            names = "--kafka-user",
            defaultValue = "${env:STRATA_KAFKA_USER}",
            description = "Kafka SASL/SCRAM-SHA-512 user of this component; its password in env STRATA_KAFKA_PASSWORD"
                    + " (env STRATA_KAFKA_USER). Default: none")
    void kafkaUser(String user) {
        if (user != null && !user.isBlank()) {
            KafkaClients.useScram(user.strip(), System.getenv("STRATA_KAFKA_PASSWORD"));
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }
}
