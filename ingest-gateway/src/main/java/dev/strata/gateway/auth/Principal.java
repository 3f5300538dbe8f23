package dev.strata.gateway.auth;

import java.util.List;

/**
 * Who a token belongs to and which sources it may publish as. A pattern is a source id, {@code *}
 * (any source), or a prefix ending in {@code *} ({@code plant-3/*}).
 */
public record Principal(String name, List<String> sourcePatterns) {

    /** The principal of a gateway running with {@code --allow-anonymous}. */
    public static final Principal ANONYMOUS = new Principal("anonymous", List.of("*"));

    public Principal {
        sourcePatterns = List.copyOf(sourcePatterns);
    }

    public boolean mayPublishAs(String source) {
        for (String pattern : sourcePatterns) {
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
