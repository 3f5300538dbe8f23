package dev.strata.schemas.transforms;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The transforms of a stack, from YAML:
 *
 * <pre>
 * transforms:
 *   - name: clicks_clean
 *     sql: SELECT id, source, `time`, attributes['page'] AS page FROM events WHERE type = 'click'
 *     output: {table: clicks, partitionBy: ["day(time)"]}
 *     mode: incremental            # or replace
 *     incremental: events          # the input read as its new snapshots only (default: events)
 *     trigger: {every: PT1H, onNewInput: true}
 * </pre>
 *
 * Loading checks what it can without the lake (names, modes, partitioning, triggers, that the SQL is
 * a query) and fails naming the transform and the problem; a run checks the rest (tables, columns,
 * the output's schema) and fails naming the transform, the error and the input snapshots.
 */
public final class TransformConfig {

    /** The transforms the local stack ships (its demo's). */
    public static final String DEFAULT_RESOURCE = "/dev/strata/schemas/transforms/default-transforms.yaml";

    static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,63}");
    static final Pattern PARTITION =
            Pattern.compile("(?:(year|month|day|hour)\\(\\s*([a-z_][a-z0-9_]*)\\s*\\)|([a-z_][a-z0-9_]*))");
    /** Tables of the lake a transform may read but never write. */
    public static final Set<String> RESERVED = Set.of("events", "batch_views");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @JsonIgnoreProperties(ignoreUnknown = false)
    record OutputYaml(String table, List<String> partitionBy) {}

    @JsonIgnoreProperties(ignoreUnknown = false)
    record TriggerYaml(String every, Boolean onNewInput) {}

    @JsonIgnoreProperties(ignoreUnknown = false)
    record TransformYaml(
            String name, String sql, OutputYaml output, String mode, String incremental, TriggerYaml trigger) {}

    @JsonIgnoreProperties(ignoreUnknown = false)
    record FileYaml(List<TransformYaml> transforms) {}

    private TransformConfig() {}

    public static List<TransformDefinition> defaults() {
        try (InputStream in = TransformConfig.class.getResourceAsStream(DEFAULT_RESOURCE)) {
            return parse(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static List<TransformDefinition> load(Path file) throws IOException {
        try {
            return parse(Files.readAllBytes(file));
        } catch (TransformConfigException e) {
            throw new TransformConfigException(file + ": " + e.getMessage());
        }
    }

    /** The transforms of a YAML document; an empty list for one without {@code transforms:}. */
    public static List<TransformDefinition> parse(byte[] yaml) {
        FileYaml file;
        try {
            file = YAML.readValue(yaml, FileYaml.class);
        } catch (IOException e) {
            throw new TransformConfigException(
                    "not a transform config: " + e.getMessage().split("\n")[0]);
        }
        if (file == null || file.transforms() == null) {
            return List.of();
        }
        List<TransformDefinition> transforms = new ArrayList<>();
        Map<String, String> names = new HashMap<>();
        Map<String, String> outputs = new HashMap<>();
        for (int i = 0; i < file.transforms().size(); i++) {
            TransformYaml t = file.transforms().get(i);
            String label = t == null || t.name() == null ? "transform #" + (i + 1) : "transform '" + t.name() + "'";
            try {
                if (t == null) {
                    throw new IllegalArgumentException("empty");
                }
                TransformDefinition definition = toDefinition(t);
                if (names.put(definition.name(), definition.name()) != null) {
                    throw new IllegalArgumentException(
                            "duplicate name: another transform is already called '" + definition.name() + "'");
                }
                String other = outputs.put(definition.output(), definition.name());
                if (other != null) {
                    throw new IllegalArgumentException("output table '" + definition.output()
                            + "' is already transform '" + other + "''s: a table has one writer");
                }
                transforms.add(definition);
            } catch (IllegalArgumentException e) {
                throw new TransformConfigException(label + ": " + e.getMessage());
            }
        }
        return List.copyOf(transforms);
    }

    private static TransformDefinition toDefinition(TransformYaml t) {
        if (t.name() == null || !NAME.matcher(t.name()).matches()) {
            throw new IllegalArgumentException(
                    "name must be lowercase letters, digits and _ (starting with a letter), at most 64");
        }
        String sql = t.sql() == null ? "" : t.sql().strip();
        String first = sql.split("\\s+", 2)[0].toUpperCase(Locale.ROOT);
        if (!first.equals("SELECT") && !first.equals("WITH") && !first.startsWith("(")) {
            throw new IllegalArgumentException("sql must be a query (SELECT … or WITH …), got "
                    + (sql.isEmpty() ? "nothing" : "'" + first + " …'"));
        }
        if (sql.endsWith(";")) {
            sql = sql.substring(0, sql.length() - 1).strip();
        }
        if (t.output() == null || t.output().table() == null) {
            throw new IllegalArgumentException("no output table (output: {table: NAME, partitionBy: [...]})");
        }
        String output = t.output().table();
        if (!NAME.matcher(output).matches()) {
            throw new IllegalArgumentException(
                    "output table '" + output + "': lowercase letters, digits and _ (starting with a letter)");
        }
        if (RESERVED.contains(output)) {
            throw new IllegalArgumentException("output table '" + output + "' is the lake's own; choose another name");
        }
        List<String> partitionBy =
                t.output().partitionBy() == null ? List.of() : t.output().partitionBy();
        for (String p : partitionBy) {
            if (p == null || !PARTITION.matcher(p.strip()).matches()) {
                throw new IllegalArgumentException("partitionBy '" + p
                        + "': a column, or year(c), month(c), day(c) or hour(c) of a timestamp column");
            }
        }
        TransformDefinition.Mode mode;
        String modeText = t.mode() == null ? "incremental" : t.mode();
        try {
            mode = TransformDefinition.Mode.valueOf(modeText.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("mode '" + modeText + "': incremental or replace");
        }
        Optional<String> incremental = Optional.empty();
        if (mode == TransformDefinition.Mode.INCREMENTAL) {
            incremental = Optional.of(t.incremental() == null ? "events" : t.incremental());
            if (!NAME.matcher(incremental.get()).matches()) {
                throw new IllegalArgumentException("incremental '" + incremental.get() + "' is not a table name");
            }
            if (incremental.get().equals("batch_views")) {
                throw new IllegalArgumentException(
                        "batch_views is replaced by every recompute, never appended to: read it with mode: replace");
            }
        } else if (t.incremental() != null) {
            throw new IllegalArgumentException(
                    "incremental names an input; only mode: incremental reads one incrementally");
        }
        Optional<Duration> every = Optional.empty();
        boolean onNewInput = true;
        if (t.trigger() != null) {
            if (t.trigger().every() != null) {
                try {
                    every = Optional.of(Duration.parse(t.trigger().every()));
                } catch (DateTimeParseException e) {
                    throw new IllegalArgumentException(
                            "trigger.every '" + t.trigger().every() + "' is not an ISO-8601 duration such as PT15M");
                }
                if (every.get().compareTo(Duration.ofSeconds(1)) < 0) {
                    throw new IllegalArgumentException("trigger.every must be at least PT1S");
                }
                onNewInput = false;
            }
            if (t.trigger().onNewInput() != null) {
                onNewInput = t.trigger().onNewInput();
            }
            if (every.isEmpty() && !onNewInput) {
                throw new IllegalArgumentException(
                        "trigger: neither every nor onNewInput: the transform would never run");
            }
        }
        return new TransformDefinition(
                t.name(),
                sql,
                output,
                partitionBy.stream().map(String::strip).toList(),
                mode,
                incremental,
                every,
                onNewInput);
    }

    /** A partition field: its transform ({@code identity}, {@code year}, …) and its column. */
    public record PartitionField(String transform, String column) {
        public static PartitionField parse(String text) {
            Matcher m = PARTITION.matcher(text.strip());
            if (!m.matches()) {
                throw new IllegalArgumentException("partitionBy '" + text + "'");
            }
            return m.group(3) != null
                    ? new PartitionField("identity", m.group(3))
                    : new PartitionField(m.group(1), m.group(2));
        }
    }

    /** A transform config that cannot be used, with what is wrong and where. */
    public static final class TransformConfigException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        public TransformConfigException(String message) {
            super(message);
        }
    }
}
