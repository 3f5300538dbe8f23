package dev.strata.gateway.auth;

import java.util.List;

/**
 * Who a token belongs to, which sources it may publish as and to which datasets it may upload
 * files. A pattern is a name, {@code *} (any), or a prefix ending in {@code *} ({@code plant-3/*}).
 */
public record Principal(String name, List<String> sourcePatterns, List<String> datasetPatterns) {

    /** The principal of a gateway running with {@code --allow-anonymous}. */
    public static final Principal ANONYMOUS = new Principal("anonymous", List.of("*"), List.of("*"));

    public Principal {
        sourcePatterns = List.copyOf(sourcePatterns);
        datasetPatterns = List.copyOf(datasetPatterns);
    }

    /** A principal that may upload to no dataset. */
    public Principal(String name, List<String> sourcePatterns) {
        this(name, sourcePatterns, List.of());
    }

    public boolean mayPublishAs(String source) {
        return matches(sourcePatterns, source);
    }

    public boolean mayUploadTo(String dataset) {
        return matches(datasetPatterns, dataset);
    }

    private static boolean matches(List<String> patterns, String source) {
        for (String pattern : patterns) {
            if (pattern.equals("*") || pattern.equals(source)) {
                return true;
            }
            if (pattern.endsWith("*") && source.startsWith(pattern.substring(0, pattern.length() - 1))) {
                return true;
            }
        }
        return false;
    }
}
