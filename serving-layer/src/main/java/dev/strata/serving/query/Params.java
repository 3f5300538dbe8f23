package dev.strata.serving.query;

import java.util.List;
import java.util.Map;

/** A request's query parameters. */
public interface Params {

    /** The first value of {@code name}, or null. */
    String get(String name);

    /** Every value of {@code name}, in order. */
    List<String> all(String name);

    /** Parameters from a map, for tests. */
    static Params of(Map<String, List<String>> values) {
        return new Params() {
            @Override
            public String get(String name) {
                List<String> v = values.get(name);
                return v == null || v.isEmpty() ? null : v.get(0);
            }

            @Override
            public List<String> all(String name) {
                return values.getOrDefault(name, List.of());
            }
        };
    }
}
