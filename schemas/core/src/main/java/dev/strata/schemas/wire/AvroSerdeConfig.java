package dev.strata.schemas.wire;

import dev.strata.schemas.registry.SchemaRegistryClient;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.config.ConfigException;

/**
 * Configuration keys of Strata's Avro serializer and deserializer. The names are Confluent's, so
 * one producer or consumer configuration works with either implementation.
 */
public final class AvroSerdeConfig {

    /** Comma-separated URLs of a Schema-Registry-compatible service. Required. */
    public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";
    /** Register the record's schema when it is not registered yet. Default true. */
    public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";
    /** Deserialize into generated (specific) classes rather than GenericRecord. Default false. */
    public static final String SPECIFIC_AVRO_READER = "specific.avro.reader";

    /**
     * A token sent as {@code Authorization: Bearer} to the registry (with
     * {@code bearer.auth.credentials.source=STATIC_TOKEN} in Confluent's clients): a registry whose
     * writes need a token lets a serializer that registers new schemas do so. Optional.
     */
    public static final String BEARER_AUTH_TOKEN = "bearer.auth.token";

    private AvroSerdeConfig() {}

    /** The registry client the configuration names: its URLs and, if set, its bearer token. */
    static SchemaRegistryClient registry(Map<String, ?> configs) {
        Object token = configs.get(BEARER_AUTH_TOKEN);
        return new SchemaRegistryClient(
                registryUrl(configs),
                Duration.ofSeconds(10),
                Optional.ofNullable(token).map(Object::toString));
    }

    static String registryUrl(Map<String, ?> configs) {
        Object url = configs.get(SCHEMA_REGISTRY_URL);
        if (url == null || url.toString().isBlank()) {
            throw new ConfigException(
                    SCHEMA_REGISTRY_URL + " is not set: give the Schema Registry URL, e.g. http://localhost:8081");
        }
        return url.toString();
    }

    static boolean flag(Map<String, ?> configs, String key, boolean defaultValue) {
        Object value = configs.get(key);
        if (value == null) {
            return defaultValue;
        }
        if (value instanceof Boolean b) {
            return b;
        }
        String text = value.toString().trim();
        if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(text);
        }
        throw new ConfigException(key, value, "must be true or false");
    }

    /** The subject of a topic's keys or values (Confluent's TopicNameStrategy). */
    public static String subject(String topic, boolean isKey) {
        return topic + (isKey ? "-key" : "-value");
    }
}
