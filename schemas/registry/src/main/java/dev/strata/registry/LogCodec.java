package dev.strata.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.strata.registry.LogRecord.ConfigDeleted;
import dev.strata.registry.LogRecord.ConfigEntry;
import dev.strata.registry.LogRecord.SchemaEntry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Encodes the registry's log records as Confluent Schema Registry does in {@code _schemas}: JSON
 * keys with a {@code keytype}, JSON values, tombstones for deletions. Record kinds Strata does not
 * use (NOOP, MODE, …) decode to nothing and are skipped.
 */
final class LogCodec {

    private static final ObjectMapper JSON = new ObjectMapper();

    private LogCodec() {}

    /** A decoded tombstone of a schema version: the version is removed from the state. */
    record SchemaTombstone(String subject, int version) {}

    static byte[] key(LogRecord record) {
        ObjectNode key = JSON.createObjectNode();
        if (record instanceof SchemaEntry e) {
            key.put("keytype", "SCHEMA")
                    .put("subject", e.subject())
                    .put("version", e.version())
                    .put("magic", 1);
        } else if (record instanceof ConfigEntry c) {
            key.put("keytype", "CONFIG").put("subject", c.subject()).put("magic", 0);
        } else if (record instanceof ConfigDeleted d) {
            key.put("keytype", "CONFIG").put("subject", d.subject()).put("magic", 0);
        }
        return bytes(key);
    }

    /** The value of a record; null (a tombstone) for a deletion. */
    static byte[] value(LogRecord record) {
        if (record instanceof SchemaEntry e) {
            ObjectNode value = JSON.createObjectNode();
            value.put("subject", e.subject())
                    .put("version", e.version())
                    .put("id", e.id())
                    .put("schema", e.schema())
                    .put("deleted", e.deleted());
            return bytes(value);
        }
        if (record instanceof ConfigEntry c) {
            return bytes(
                    JSON.createObjectNode().put("compatibilityLevel", c.level().name()));
        }
        return null;
    }

    /**
     * Decodes a record of the log: a {@link LogRecord}, a {@link SchemaTombstone}, or empty for a
     * kind Strata does not use.
     *
     * @throws IllegalArgumentException if the key or value is not the expected JSON
     */
    static Optional<Object> decode(byte[] keyBytes, byte[] valueBytes) {
        JsonNode key = parse(keyBytes, "key");
        String keytype = key.path("keytype").asText("");
        String subject = key.hasNonNull("subject") ? key.get("subject").asText() : null;
        switch (keytype) {
            case "SCHEMA" -> {
                if (valueBytes == null) {
                    return Optional.of(
                            new SchemaTombstone(subject, key.path("version").asInt()));
                }
                JsonNode value = parse(valueBytes, "value");
                String type = value.path("schemaType").asText("AVRO");
                if (!"AVRO".equals(type)) {
                    return Optional.empty();
                }
                return Optional.of(new SchemaEntry(
                        value.path("subject").asText(),
                        value.path("version").asInt(),
                        value.path("id").asInt(),
                        value.path("schema").asText(),
                        value.path("deleted").asBoolean(false)));
            }
            case "CONFIG" -> {
                if (valueBytes == null) {
                    return Optional.of(new ConfigDeleted(subject));
                }
                JsonNode value = parse(valueBytes, "value");
                return Optional.of(new ConfigEntry(
                        subject,
                        CompatibilityLevel.parse(
                                value.path("compatibilityLevel").asText())));
            }
            default -> {
                return Optional.empty();
            }
        }
    }

    private static JsonNode parse(byte[] bytes, String what) {
        if (bytes == null) {
            throw new IllegalArgumentException("record " + what + " is null");
        }
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "record " + what + " is not JSON: " + new String(bytes, StandardCharsets.UTF_8), e);
        }
    }

    private static byte[] bytes(JsonNode node) {
        return node.toString().getBytes(StandardCharsets.UTF_8);
    }
}
