package dev.strata.schemas.views;

import dev.strata.schemas.Event;
import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A view: which events it takes (filter), how it groups them, its tumbling event-time window and
 * its measures. Written once here and run unchanged by the speed and the batch layer, so the two can
 * never disagree on what a view means.
 *
 * @param types event types taken; empty takes every type
 * @param attributes attribute values an event must have, all of them
 * @param groupBy fields whose values make the group: {@code source}, {@code type},
 *     {@code attributes.<key>}; empty puts every event in one group
 */
public record ViewDefinition(
        String name,
        Set<String> types,
        Map<String, String> attributes,
        List<String> groupBy,
        Duration window,
        List<Measure> measures)
        implements Serializable {

    public ViewDefinition {
        types = Set.copyOf(types);
        attributes = Map.copyOf(attributes);
        groupBy = List.copyOf(groupBy);
        measures = List.copyOf(measures);
    }

    /** Whether the view takes this event. */
    public boolean matches(Event event) {
        return matches(event.getType(), event.getAttributes());
    }

    /** Whether the view takes an event of this type with these attributes. */
    public boolean matches(String type, Map<String, String> eventAttributes) {
        if (!types.isEmpty() && !types.contains(type)) {
            return false;
        }
        for (Map.Entry<String, String> required : attributes.entrySet()) {
            if (!required.getValue().equals(eventAttributes.get(required.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** The event's group: the values of the group-by fields, in order ("" for a missing attribute). */
    public List<String> group(Event event) {
        return group(event.getSource(), event.getType(), event.getAttributes());
    }

    /** {@link #group(Event)} of an event given by its fields. */
    public List<String> group(String source, String type, Map<String, String> eventAttributes) {
        List<String> group = new ArrayList<>(groupBy.size());
        for (String field : groupBy) {
            group.add(field(source, type, eventAttributes, field));
        }
        return group;
    }

    /** The start of the window holding {@code time}: windows are aligned to the epoch. */
    public Instant windowStart(Instant time) {
        return Instant.ofEpochMilli(windowStartMillis(time.toEpochMilli()));
    }

    /** The start of the window holding {@code timeMillis}, in epoch milliseconds. */
    public long windowStartMillis(long timeMillis) {
        long size = window.toMillis();
        return Math.floorDiv(timeMillis, size) * size;
    }

    /** Whether the view reads the events' attributes (in its filter, groups or measures). */
    public boolean readsAttributes() {
        return !attributes.isEmpty()
                || groupBy.stream().anyMatch(f -> f.startsWith("attributes."))
                || distinctMeasures().stream().anyMatch(m -> m.field().startsWith("attributes."));
    }

    public boolean hasQuantiles() {
        return measures.stream().anyMatch(m -> m.kind() == Measure.Kind.QUANTILE);
    }

    public List<Measure> distinctMeasures() {
        return measures.stream().filter(m -> m.kind() == Measure.Kind.DISTINCT).toList();
    }

    /** The value of a field of an event: {@code source}, {@code type} or {@code attributes.<key>}. */
    public static String field(Event event, String field) {
        return field(event.getSource(), event.getType(), event.getAttributes(), field);
    }

    /** {@link #field(Event, String)} of an event given by its fields. */
    public static String field(String source, String type, Map<String, String> eventAttributes, String field) {
        if (field.equals("source")) {
            return source;
        }
        if (field.equals("type")) {
            return type;
        }
        String value = eventAttributes.get(field.substring("attributes.".length()));
        return value == null ? "" : value;
    }

    /** Checks a field name, or throws naming the fields allowed. */
    static void checkField(String field) {
        if (field.equals("source")
                || field.equals("type")
                || (field.startsWith("attributes.") && field.length() > "attributes.".length())) {
            return;
        }
        throw new IllegalArgumentException("unknown field '" + field + "' (fields: source, type, attributes.<key>)");
    }
}
