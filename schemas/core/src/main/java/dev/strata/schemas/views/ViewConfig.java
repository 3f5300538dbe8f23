package dev.strata.schemas.views;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The views of a stack, from YAML:
 *
 * <pre>
 * views:
 *   - name: events_per_source_1m
 *     filter: {types: [temperature], attributes: {site: north}}   # optional
 *     groupBy: [source]                                            # source, type, attributes.&lt;key&gt;
 *     window: 1m                                                   # Ns, Nm, Nh or Nd, dividing a day
 *     measures: [count, sum, min, max, avg, p95, "distinct(attributes.site)"]
 * </pre>
 *
 * Loading validates everything and fails with a message naming the view and the problem.
 */
public final class ViewConfig {

    /** The views the local stack ships. */
    public static final String DEFAULT_RESOURCE = "/dev/strata/schemas/views/default-views.yaml";

    static final Pattern WINDOW = Pattern.compile("(\\d+)([smhd])");
    static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,63}");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @JsonIgnoreProperties(ignoreUnknown = false)
    record FilterYaml(List<String> types, Map<String, String> attributes) {}

    @JsonIgnoreProperties(ignoreUnknown = false)
    record ViewYaml(String name, FilterYaml filter, List<String> groupBy, String window, List<String> measures) {}

    record FileYaml(List<ViewYaml> views) {}

    private ViewConfig() {}

    public static List<ViewDefinition> defaults() {
        try (InputStream in = ViewConfig.class.getResourceAsStream(DEFAULT_RESOURCE)) {
            return parse(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static List<ViewDefinition> load(Path file) throws IOException {
        try {
            return parse(Files.readAllBytes(file));
        } catch (ViewConfigException e) {
            throw new ViewConfigException(file + ": " + e.getMessage());
        }
    }

    public static List<ViewDefinition> parse(byte[] yaml) {
        FileYaml file;
        try {
            file = YAML.readValue(yaml, FileYaml.class);
        } catch (IOException e) {
            throw new ViewConfigException("not a view config: " + e.getMessage().split("\n")[0]);
        }
        if (file == null || file.views() == null || file.views().isEmpty()) {
            throw new ViewConfigException("no views: the file needs a non-empty 'views:' list");
        }
        List<ViewDefinition> views = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < file.views().size(); i++) {
            ViewYaml v = file.views().get(i);
            String label = v.name() == null ? "view #" + (i + 1) : "view '" + v.name() + "'";
            try {
                ViewDefinition view = toDefinition(v);
                if (!names.add(view.name())) {
                    throw new IllegalArgumentException(
                            "duplicate name: another view is already called '" + view.name() + "'");
                }
                views.add(view);
            } catch (IllegalArgumentException e) {
                throw new ViewConfigException(label + ": " + e.getMessage());
            }
        }
        return List.copyOf(views);
    }

    private static ViewDefinition toDefinition(ViewYaml v) {
        if (v.name() == null || !NAME.matcher(v.name()).matches()) {
            throw new IllegalArgumentException("name must be lowercase letters, digits and _ (starting with a letter)");
        }
        List<String> groupBy = v.groupBy() == null ? List.of() : v.groupBy();
        for (String field : groupBy) {
            ViewDefinition.checkField(field);
        }
        if (new HashSet<>(groupBy).size() != groupBy.size()) {
            throw new IllegalArgumentException("groupBy names a field twice: " + groupBy);
        }
        Duration window = window(v.window());
        if (v.measures() == null || v.measures().isEmpty()) {
            throw new IllegalArgumentException(
                    "no measures (measures: count, sum, min, max, avg, p50, p90, p95, p99, distinct(<field>))");
        }
        Map<String, Measure> measures = new LinkedHashMap<>();
        for (String text : v.measures()) {
            Measure m = Measure.parse(text);
            if (measures.put(m.name(), m) != null) {
                throw new IllegalArgumentException("measure '" + text + "' is listed twice");
            }
        }
        FilterYaml filter = v.filter() == null ? new FilterYaml(List.of(), Map.of()) : v.filter();
        return new ViewDefinition(
                v.name(),
                filter.types() == null ? Set.of() : Set.copyOf(filter.types()),
                filter.attributes() == null ? Map.of() : filter.attributes(),
                groupBy,
                window,
                List.copyOf(measures.values()));
    }

    /** A size in the config's short form: {@code 30s}, {@code 5m}, {@code 1h}, {@code 1d}. */
    public static Duration size(String text) {
        Matcher m = WINDOW.matcher(text == null ? "" : text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("bad size '" + text + "': write a size like 30s, 1m, 5m, 1h or 1d");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    static Duration window(String text) {
        Duration window;
        try {
            window = size(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad window '" + text + "': write a size like 30s, 1m, 5m, 1h or 1d");
        }
        long day = Duration.ofDays(1).toMillis();
        if (window.toMillis() <= 0
                || (window.toMillis() < day ? day % window.toMillis() != 0 : !window.equals(Duration.ofDays(1)))) {
            throw new IllegalArgumentException("bad window '" + text
                    + "': it must divide a day evenly (e.g. 1m, 5m, 15m, 1h, 6h, 1d) so windows align across days");
        }
        return window;
    }
}
