package dev.strata.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The samples of a Prometheus text exposition (version 0.0.4), enough for {@code strata status}:
 * name, labels and value per line; comments skipped. Written by hand: the Prometheus Java client
 * writes this format but has no reader.
 */
public final class PrometheusText {

    public record Sample(String name, Map<String, String> labels, double value) {}

    private final List<Sample> samples;

    private PrometheusText(List<Sample> samples) {
        this.samples = samples;
    }

    public static PrometheusText parse(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.indexOf(' ');
            String name;
            Map<String, String> labels = new HashMap<>();
            String rest;
            if (brace >= 0 && (space < 0 || brace < space)) {
                name = line.substring(0, brace);
                int end = parseLabels(line, brace + 1, labels);
                rest = line.substring(end + 1).strip();
            } else {
                name = line.substring(0, space);
                rest = line.substring(space + 1).strip();
            }
            String value = rest.split(" ")[0];
            samples.add(new Sample(name, labels, parseValue(value)));
        }
        return new PrometheusText(samples);
    }

    /** Reads {@code a="x",b="y"} from {@code start}; returns the index of the closing brace. */
    private static int parseLabels(String line, int start, Map<String, String> labels) {
        int i = start;
        while (i < line.length() && line.charAt(i) != '}') {
            int eq = line.indexOf('=', i);
            String key = line.substring(i, eq).strip();
            StringBuilder value = new StringBuilder();
            int j = eq + 2; // past ="
            while (line.charAt(j) != '"') {
                char c = line.charAt(j);
                if (c == '\\') {
                    char next = line.charAt(++j);
                    value.append(next == 'n' ? '\n' : next);
                } else {
                    value.append(c);
                }
                j++;
            }
            labels.put(key, value.toString());
            i = j + 1;
            if (i < line.length() && line.charAt(i) == ',') {
                i++;
            }
        }
        return i;
    }

    private static double parseValue(String v) {
        return switch (v) {
            case "NaN" -> Double.NaN;
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(v);
        };
    }

    public List<Sample> samples(String name, String... labelPairs) {
        List<Sample> matched = new ArrayList<>();
        for (Sample s : samples) {
            if (!s.name().equals(name)) {
                continue;
            }
            boolean ok = true;
            for (int i = 0; i + 1 < labelPairs.length; i += 2) {
                ok &= labelPairs[i + 1].equals(s.labels().get(labelPairs[i]));
            }
            if (ok) {
                matched.add(s);
            }
        }
        return matched;
    }

    /** The sum over matching samples (0 if none). */
    public double sum(String name, String... labelPairs) {
        return samples(name, labelPairs).stream()
                .mapToDouble(Sample::value)
                .filter(v -> !Double.isNaN(v))
                .sum();
    }

    /** The largest matching value, NaN if none (or all NaN). */
    public double max(String name, String... labelPairs) {
        return samples(name, labelPairs).stream()
                .mapToDouble(Sample::value)
                .filter(v -> !Double.isNaN(v))
                .max()
                .orElse(Double.NaN);
    }

    /** Names of every sample, for checks that dashboards and alerts use metrics that exist. */
    Set<String> names() {
        Set<String> names = new TreeSet<>();
        samples.forEach(s -> names.add(s.name()));
        return names;
    }
}
