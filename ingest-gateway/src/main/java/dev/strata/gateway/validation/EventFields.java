package dev.strata.gateway.validation;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * The rules of an event's fields as a client sends them: each check adds its refusal, naming the
 * field, to an {@link ErrorSink} and returns null, so one record's every problem is answered at once.
 */
final class EventFields {

    private EventFields() {}

    interface ErrorSink {
        void add(String field, String reason);
    }

    static String optionalText(JsonNode node, String field, int maxLength, ErrorSink errors) {
        JsonNode value = node.get(field);
        if (value == null) {
            return null;
        }
        if (!value.isTextual()) {
            errors.add(field, "must be a string, not " + kind(value));
            return null;
        }
        String text = value.asText();
        String problem = problem(text, maxLength);
        if (problem != null) {
            errors.add(field, problem);
            return null;
        }
        return text;
    }

    /**
     * What is wrong with a text field (the id, source or type), or null: empty, too long, a control
     * character, or an unpaired UTF-16 surrogate (it has no UTF-8 encoding: two different ids would
     * be written as the same bytes).
     */
    static String problem(String text, int maxLength) {
        if (text.isEmpty()) {
            return "must not be empty";
        }
        if (text.length() > maxLength) {
            return "is longer than " + maxLength + " characters";
        }
        if (hasControlCharacter(text)) {
            return "contains a control character";
        }
        if (hasUnpairedSurrogate(text)) {
            return UNPAIRED_SURROGATE;
        }
        return null;
    }

    static final String UNPAIRED_SURROGATE =
            "contains an unpaired UTF-16 surrogate (U+D800 to U+DFFF without its pair), which has no UTF-8 encoding";

    private static boolean hasUnpairedSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                } else {
                    return true;
                }
            } else if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    static Instant time(JsonNode node, Instant now, Duration maxFutureSkew, Duration maxEventAge, ErrorSink errors) {
        if (node == null || node.isNull()) {
            return null;
        }
        Instant time;
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            long millis = node.asLong();
            if (millis < 0) {
                errors.add("time", "must not be before 1970-01-01T00:00:00Z");
                return null;
            }
            time = Instant.ofEpochMilli(millis);
        } else if (node.isTextual()) {
            try {
                time = OffsetDateTime.parse(node.asText()).toInstant();
            } catch (DateTimeException e) {
                errors.add(
                        "time",
                        "is not an ISO-8601 date-time with offset (e.g. 2026-01-02T03:04:05Z): '" + node.asText()
                                + "'");
                return null;
            }
            if (time.isBefore(Instant.EPOCH)) {
                errors.add("time", "must not be before 1970-01-01T00:00:00Z");
                return null;
            }
        } else {
            errors.add("time", "must be epoch milliseconds (an integer) or an ISO-8601 string, not " + kind(node));
            return null;
        }
        if (time.isAfter(now.plus(maxFutureSkew))) {
            errors.add("time", "is more than " + maxFutureSkew + " in the future (gateway time " + now + ")");
            return null;
        }
        if (time.isBefore(now.minus(maxEventAge))) {
            errors.add(
                    "time",
                    "is more than " + iso(maxEventAge) + " in the past (" + time + ", gateway time " + now
                            + "; the limit is --max-event-age)"
                            + (time.isBefore(Instant.parse("2000-01-01T00:00:00Z"))
                                    ? ": epoch milliseconds are expected, were seconds sent?"
                                    : ""));
            return null;
        }
        return time;
    }

    /** A duration as its setting reads: {@code P30D} rather than {@code PT720H}. */
    static String iso(Duration d) {
        return !d.isZero() && d.toSeconds() % 86_400 == 0 && d.toNanosPart() == 0
                ? "P" + d.toDays() + "D"
                : d.toString();
    }

    static Double value(JsonNode node, ErrorSink errors) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isNumber()) {
            errors.add("value", "must be a number or null, not " + kind(node));
            return null;
        }
        double value = node.asDouble();
        if (!Double.isFinite(value)) {
            errors.add("value", "is out of the range of a double");
            return null;
        }
        return value;
    }

    static Map<String, String> attributes(JsonNode node, ErrorSink errors) {
        Map<String, String> attributes = new HashMap<>();
        if (node == null || node.isNull()) {
            return attributes;
        }
        if (!node.isObject()) {
            errors.add("attributes", "must be an object of strings, not " + kind(node));
            return attributes;
        }
        if (node.size() > EventParser.MAX_ATTRIBUTES) {
            errors.add("attributes", "has more than " + EventParser.MAX_ATTRIBUTES + " entries");
            return attributes;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String key = entry.getKey();
            String field = "attributes." + key;
            if (key.isEmpty() || key.length() > EventParser.MAX_ATTRIBUTE_KEY_LENGTH || hasControlCharacter(key)) {
                errors.add(
                        field,
                        "key must be 1.." + EventParser.MAX_ATTRIBUTE_KEY_LENGTH
                                + " characters without control characters");
            } else if (hasUnpairedSurrogate(key)) {
                errors.add(field, "key " + UNPAIRED_SURROGATE);
            } else if (!entry.getValue().isTextual()) {
                errors.add(field, "must be a string, not " + kind(entry.getValue()));
            } else if (entry.getValue().asText().length() > EventParser.MAX_ATTRIBUTE_VALUE_LENGTH) {
                errors.add(field, "is longer than " + EventParser.MAX_ATTRIBUTE_VALUE_LENGTH + " characters");
            } else if (hasUnpairedSurrogate(entry.getValue().asText())) {
                errors.add(field, UNPAIRED_SURROGATE);
            } else {
                attributes.put(key, entry.getValue().asText());
            }
        }
        return attributes;
    }

    private static boolean hasControlCharacter(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (Character.isISOControl(text.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    static String kind(JsonNode node) {
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> node.getNodeType().name().toLowerCase(Locale.ROOT);
        };
    }
}
