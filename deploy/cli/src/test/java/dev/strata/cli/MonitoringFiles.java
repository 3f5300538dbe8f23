package dev.strata.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The metric names the alert rules and the Grafana dashboard query. */
final class MonitoringFiles {

    static final Pattern METRIC = Pattern.compile("\\b((?:strata|flink)_[A-Za-z0-9_]+)\\b");
    static final Set<String> FILES = Set.of("deploy/prometheus/alerts.yml", "deploy/grafana/strata-pipeline.json");

    private MonitoringFiles() {}

    static Set<String> metricsUsed() {
        Set<String> names = new TreeSet<>();
        for (String file : FILES) {
            Path path = StrataCli.home().resolve(file);
            try {
                Matcher m = METRIC.matcher(Files.readString(path));
                while (m.find()) {
                    names.add(m.group(1));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        // names that occur in the files but are not metrics
        names.remove("strata_speed_layer"); // the speed job's name in Flink's labels
        return names;
    }
}
