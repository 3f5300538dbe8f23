package dev.strata.registry;

import dev.strata.registry.LogRecord.ConfigDeleted;
import dev.strata.registry.LogRecord.ConfigEntry;
import dev.strata.registry.LogRecord.SchemaEntry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityResult;
import org.apache.avro.SchemaParseException;

/**
 * The registry's state, rebuilt from its log: subjects and their versions, schemas by global id,
 * compatibility levels. Pure domain logic: it decides what a write must append to the log
 * ({@link #planRegistration}) and changes only when a log record is applied ({@link #apply}),
 * so every replica that reads the same log holds the same state.
 */
public final class SchemaStore {

    /** A schema registered under a subject. */
    public record Version(String subject, int version, int id, String schema) {}

    /** The outcome of planning a registration: either an existing id, or a record to append. */
    public record Registration(int id, Optional<SchemaEntry> toAppend) {}

    private final CompatibilityLevel defaultLevel;
    private final TreeMap<String, TreeMap<Integer, SchemaEntry>> subjects = new TreeMap<>();
    private final Map<Integer, String> schemasById = new HashMap<>();
    private final Map<String, Integer> idsBySchema = new HashMap<>();
    private final Map<String, CompatibilityLevel> subjectLevels = new HashMap<>();
    private CompatibilityLevel globalLevel;
    private int maxId;

    public SchemaStore(CompatibilityLevel defaultLevel) {
        this.defaultLevel = defaultLevel;
        this.globalLevel = defaultLevel;
    }

    // ---- applying the log ----

    /** Applies one record of the log. Records are applied in log order. */
    public synchronized void apply(LogRecord record) {
        if (record instanceof SchemaEntry e) {
            subjects.computeIfAbsent(e.subject(), s -> new TreeMap<>()).put(e.version(), e);
            schemasById.putIfAbsent(e.id(), e.schema());
            idsBySchema.putIfAbsent(e.schema(), e.id());
            maxId = Math.max(maxId, e.id());
        } else if (record instanceof ConfigEntry c) {
            if (c.subject() == null) {
                globalLevel = c.level();
            } else {
                subjectLevels.put(c.subject(), c.level());
            }
        } else if (record instanceof ConfigDeleted d) {
            if (d.subject() == null) {
                globalLevel = defaultLevel;
            } else {
                subjectLevels.remove(d.subject());
            }
        }
    }

    /** Removes a schema version (a tombstone in the compacted log). */
    public synchronized void applySchemaTombstone(String subject, int version) {
        TreeMap<Integer, SchemaEntry> versions = subjects.get(subject);
        if (versions != null) {
            versions.remove(version);
            if (versions.isEmpty()) {
                subjects.remove(subject);
            }
        }
    }

    // ---- queries ----

    public synchronized List<String> subjects() {
        List<String> live = new ArrayList<>();
        subjects.forEach((subject, versions) -> {
            if (versions.values().stream().anyMatch(v -> !v.deleted())) {
                live.add(subject);
            }
        });
        return live;
    }

    public synchronized List<Integer> versions(String subject) {
        return liveVersions(subject).stream().map(SchemaEntry::version).toList();
    }

    /** A subject's version; {@code -1} means the latest. */
    public synchronized Version version(String subject, int version) {
        List<SchemaEntry> live = liveVersions(subject);
        SchemaEntry entry;
        if (version == -1) {
            entry = live.get(live.size() - 1);
        } else {
            entry = live.stream()
                    .filter(v -> v.version() == version)
                    .findFirst()
                    .orElseThrow(() -> RegistryError.versionNotFound(version));
        }
        return toVersion(entry);
    }

    public synchronized String schemaById(int id) {
        String schema = schemasById.get(id);
        if (schema == null) {
            throw RegistryError.schemaNotFound(id);
        }
        return schema;
    }

    /** The subject/version pairs that use schema {@code id}. */
    public synchronized List<Version> versionsOfId(int id) {
        schemaById(id);
        List<Version> uses = new ArrayList<>();
        subjects.values()
                .forEach(versions -> versions.values().stream()
                        .filter(v -> v.id() == id && !v.deleted())
                        .forEach(v -> uses.add(toVersion(v))));
        return uses;
    }

    /** The version of {@code subject} whose schema is {@code schemaText} (POST /subjects/{s}). */
    public synchronized Version lookup(String subject, String schemaText) {
        List<SchemaEntry> live = liveVersions(subject);
        String canonical = canonical(schemaText);
        return live.stream()
                .filter(v -> v.schema().equals(canonical))
                .findFirst()
                .map(SchemaStore::toVersion)
                .orElseThrow(RegistryError::schemaNotFound);
    }

    public synchronized CompatibilityLevel globalLevel() {
        return globalLevel;
    }

    public synchronized Optional<CompatibilityLevel> subjectLevel(String subject) {
        return Optional.ofNullable(subjectLevels.get(subject));
    }

    public synchronized CompatibilityLevel effectiveLevel(String subject) {
        return subjectLevels.getOrDefault(subject, globalLevel);
    }

    // ---- planning writes ----

    /**
     * Decides what registering {@code schemaText} under {@code subject} takes: the id of the same
     * schema already registered there, or a new version to append after a compatibility check.
     * The caller appends the record and waits until it is applied before planning the next write.
     */
    public synchronized Registration planRegistration(String subject, String schemaText) {
        String canonical = canonical(schemaText);
        TreeMap<Integer, SchemaEntry> versions = subjects.getOrDefault(subject, new TreeMap<>());
        List<SchemaEntry> live =
                versions.values().stream().filter(v -> !v.deleted()).toList();
        for (SchemaEntry existing : live) {
            if (existing.schema().equals(canonical)) {
                return new Registration(existing.id(), Optional.empty());
            }
        }
        CompatibilityLevel level = effectiveLevel(subject);
        List<SchemaEntry> against =
                level.transitive ? live : live.isEmpty() ? List.of() : List.of(live.get(live.size() - 1));
        for (SchemaEntry old : against) {
            List<String> problems = incompatibilities(canonical, old.schema(), level);
            if (!problems.isEmpty()) {
                throw RegistryError.incompatible(
                        "Schema being registered is incompatible with an earlier schema for subject \""
                                + subject + "\", details: [" + String.join(", ", problems)
                                + ", {oldSchemaVersion: " + old.version() + "}, {oldSchema: '"
                                + old.schema() + "'}, {compatibility: '" + level + "'}]");
            }
        }
        int id = idsBySchema.getOrDefault(canonical, maxId + 1);
        int version = versions.isEmpty() ? 1 : versions.lastKey() + 1;
        return new Registration(id, Optional.of(new SchemaEntry(subject, version, id, canonical, false)));
    }

    /**
     * Checks {@code schemaText} against one version of {@code subject} ({@code -1}: the latest), or
     * against every version when {@code version} is null, with the subject's level. Returns the
     * incompatibilities found, empty when compatible.
     */
    public synchronized List<String> checkCompatibility(String subject, Integer version, String schemaText) {
        String canonical = canonical(schemaText);
        List<SchemaEntry> against;
        if (version == null) {
            against = subjects.containsKey(subject) ? liveVersions(subject) : List.of();
        } else {
            Version v = version(subject, version);
            against = List.of(new SchemaEntry(v.subject(), v.version(), v.id(), v.schema(), false));
        }
        CompatibilityLevel level = effectiveLevel(subject);
        List<String> problems = new ArrayList<>();
        for (SchemaEntry old : against) {
            problems.addAll(incompatibilities(canonical, old.schema(), level));
        }
        return problems;
    }

    // ---- helpers ----

    /** Avro's canonical JSON of a schema: textually different but equal schemas share one id. */
    public static String canonical(String schemaText) {
        if (schemaText == null || schemaText.isBlank()) {
            throw RegistryError.invalidSchema("Invalid schema: empty schema");
        }
        try {
            return new Schema.Parser().parse(schemaText).toString();
        } catch (SchemaParseException | NullPointerException e) {
            throw RegistryError.invalidSchema("Invalid schema " + schemaText + ", details: " + e.getMessage());
        }
    }

    private static List<String> incompatibilities(String newText, String oldText, CompatibilityLevel level) {
        Schema newSchema = new Schema.Parser().parse(newText);
        Schema oldSchema = new Schema.Parser().parse(oldText);
        List<String> problems = new ArrayList<>();
        if (level.backward) {
            describe(
                    SchemaCompatibility.checkReaderWriterCompatibility(newSchema, oldSchema)
                            .getResult(),
                    "new",
                    "old",
                    problems);
        }
        if (level.forward) {
            describe(
                    SchemaCompatibility.checkReaderWriterCompatibility(oldSchema, newSchema)
                            .getResult(),
                    "old",
                    "new",
                    problems);
        }
        return problems;
    }

    /** Confluent's wording of Avro's incompatibilities, naming the reading and the writing schema. */
    private static void describe(
            SchemaCompatibilityResult result, String reader, String writer, List<String> problems) {
        for (Incompatibility i : result.getIncompatibilities()) {
            String path = i.getLocation();
            String description = switch (i.getType()) {
                case READER_FIELD_MISSING_DEFAULT_VALUE ->
                    "The field '" + i.getMessage() + "' at path '" + path
                            + "' in the " + reader + " schema has no default value and is missing in the "
                            + writer + " schema";
                case TYPE_MISMATCH ->
                    "The type (path '" + path + "') of a field in the " + reader + " schema does not match with the "
                            + writer + " schema";
                case NAME_MISMATCH -> "The name of the schema has changed (path '" + path + "')";
                case MISSING_ENUM_SYMBOLS ->
                    "The " + reader + " schema is missing enum symbols '" + i.getMessage() + "' at path '" + path
                            + "' in the " + writer + " schema";
                case MISSING_UNION_BRANCH ->
                    "The " + reader + " schema is missing a type inside a union" + " field at path '" + path
                            + "' in the " + writer + " schema";
                default -> i.getMessage() + " (path '" + path + "')";
            };
            problems.add("{errorType:'" + i.getType() + "', description:'" + description + "', additionalInfo:'"
                    + i.getMessage() + "'}");
        }
    }

    private List<SchemaEntry> liveVersions(String subject) {
        TreeMap<Integer, SchemaEntry> versions = subjects.get(subject);
        List<SchemaEntry> live = versions == null
                ? List.of()
                : versions.values().stream().filter(v -> !v.deleted()).toList();
        if (live.isEmpty()) {
            throw RegistryError.subjectNotFound(subject);
        }
        return live;
    }

    private static Version toVersion(SchemaEntry e) {
        return new Version(e.subject(), e.version(), e.id(), e.schema());
    }
}
