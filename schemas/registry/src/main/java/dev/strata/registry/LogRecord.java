package dev.strata.registry;

/**
 * A record of the registry's log (the compacted {@code _schemas} topic). Keys and values follow
 * Confluent Schema Registry's layout ({@code {"keytype":"SCHEMA","subject":…,"version":…}}), so
 * the topic reads the same to either registry.
 */
sealed interface LogRecord {

    /** A schema registered as a subject's version. */
    record SchemaEntry(String subject, int version, int id, String schema, boolean deleted) implements LogRecord {}

    /** A compatibility level, for one subject or (subject null) the global default. */
    record ConfigEntry(String subject, CompatibilityLevel level) implements LogRecord {}

    /** A subject-level compatibility removed (a tombstone of its config key). */
    record ConfigDeleted(String subject) implements LogRecord {}
}
