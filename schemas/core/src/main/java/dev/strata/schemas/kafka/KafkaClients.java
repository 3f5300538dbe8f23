package dev.strata.schemas.kafka;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * How this process's Kafka clients authenticate: the security settings of {@code --kafka-config}
 * (a properties file, e.g. SASL/SCRAM credentials or mTLS key stores), added to every producer,
 * consumer, admin client, Kafka Streams instance and Flink Kafka source and sink a component
 * makes. Only security settings are taken ({@code security.protocol}, {@code sasl.*},
 * {@code ssl.*}): a file cannot weaken what a client needs for its guarantees (acks, idempotence,
 * isolation). One set per process, as one process is one component with one Kafka identity; none
 * (plaintext, no identity) is the local stack on loopback.
 */
public final class KafkaClients {

    private static final List<String> ALLOWED_PREFIXES = List.of("security.protocol", "sasl.", "ssl.");

    private static volatile Map<String, String> settings = Map.of();

    private KafkaClients() {}

    /** Loads the settings of {@code file} (none for null) for every client made from now on. */
    public static void load(Path file) {
        if (file == null) {
            return;
        }
        Properties read = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            read.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("--kafka-config " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> loaded = new TreeMap<>();
        List<String> refused = new ArrayList<>();
        for (String key : read.stringPropertyNames()) {
            if (ALLOWED_PREFIXES.stream().anyMatch(key::startsWith)) {
                loaded.put(key, read.getProperty(key).strip());
            } else {
                refused.add(key);
            }
        }
        if (!refused.isEmpty()) {
            throw new IllegalArgumentException("--kafka-config " + file + " may only hold security settings"
                    + " (security.protocol, sasl.*, ssl.*); it also has " + refused);
        }
        Map<String, String> merged = new TreeMap<>(settings);
        merged.putAll(loaded);
        use(merged);
    }

    /**
     * SASL/SCRAM-SHA-512 as {@code user} (over SASL_PLAINTEXT unless {@code --kafka-config} already set
     * a protocol, e.g. SASL_SSL); settings a {@code --kafka-config} file gave are kept.
     */
    public static void useScram(String user, String password) {
        if (password == null || password.isEmpty()) {
            throw new IllegalArgumentException(
                    "--kafka-user " + user + " needs its password in the environment variable STRATA_KAFKA_PASSWORD");
        }
        Map<String, String> scram = new TreeMap<>(settings);
        scram.putIfAbsent("security.protocol", "SASL_PLAINTEXT");
        scram.putIfAbsent("sasl.mechanism", "SCRAM-SHA-512");
        scram.putIfAbsent(
                "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + jaas(user)
                        + "\" password=\"" + jaas(password) + "\";");
        use(scram);
    }

    private static String jaas(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    /** Uses {@code security} for every client made from now on (tests; {@link #load} reads a file). */
    public static void use(Map<String, String> security) {
        settings = Map.copyOf(security);
    }

    /** The settings in use (empty: plaintext). */
    public static Map<String, String> settings() {
        return settings;
    }

    /** {@code props} with this process's security settings added; returns it. */
    public static Properties secure(Properties props) {
        props.putAll(settings);
        return props;
    }

    /** The security settings as new properties (for builders that take a Properties). */
    public static Properties properties() {
        return secure(new Properties());
    }

    /** What the settings say, secrets left out (for the effective-config log line). */
    public static String describe() {
        if (settings.isEmpty()) {
            return "plaintext";
        }
        return settings.getOrDefault("security.protocol", "PLAINTEXT") + " "
                + settings.getOrDefault("sasl.mechanism", "");
    }
}
