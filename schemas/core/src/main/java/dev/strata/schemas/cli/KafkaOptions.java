package dev.strata.schemas.cli;

import picocli.CommandLine.Option;

/** {@code --bootstrap-servers}: the Kafka cluster, as every Strata command takes it. */
public final class KafkaOptions {

    public static final String DEFAULT_BOOTSTRAP_SERVERS = "127.0.0.1:9092";

    @Option(
            names = "--bootstrap-servers",
            defaultValue = "${env:STRATA_KAFKA_BOOTSTRAP:-" + DEFAULT_BOOTSTRAP_SERVERS + "}",
            description = "Kafka bootstrap servers (env STRATA_KAFKA_BOOTSTRAP). Default: ${DEFAULT-VALUE}")
    String bootstrapServers;

    public String bootstrapServers() {
        return bootstrapServers;
    }
}
