package dev.strata.gateway.validation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.strata.schemas.Event;
import dev.strata.schemas.http.ValidationError;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.IntFunction;

/**
 * Turns request bodies into {@link Event}s, or says exactly why not. Pure logic: no I/O, a clock
 * for "now". A body is one JSON object, a JSON array of objects, or NDJSON (one object a line).
 */
public final class EventParser {

    public static final int MAX_ID_LENGTH = 128;
    public static final int MAX_SOURCE_LENGTH = 256;
    public static final int MAX_TYPE_LENGTH = 128;
    public static final int MAX_ATTRIBUTES = 64;
    public static final int MAX_ATTRIBUTE_KEY_LENGTH = 128;
    public static final int MAX_ATTRIBUTE_VALUE_LENGTH = 1024;

    static final Set<String> FIELDS = Set.of("id", "source", "type", "time", "value", "attributes");

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** The records of a request: all valid ({@code errors} empty) or the reasons they are not. */
    public record Parsed(List<Event> events, List<ValidationError> errors) {
        public boolean valid() {
            return errors.isEmpty();
        }
    }

    private final Clock clock;
    private final Duration maxFutureSkew;
    private final Duration maxEventAge;
    private final int maxRecords;

    public EventParser(Clock clock, Duration maxFutureSkew, Duration maxEventAge, int maxRecords) {
        this.clock = clock;
        this.maxFutureSkew = maxFutureSkew;
        this.maxEventAge = maxEventAge;
        this.maxRecords = maxRecords;
    }

    /** An id for each record that has none: a random UUID (so a resent record counts again). */
    public static final IntFunction<String> RANDOM_IDS =
            index -> UUID.randomUUID().toString();

    /**
     * Ids for records without one, derived from the client's name and an idempotency key: the same
     * request resent with the same key gets the same ids, so it is counted once.
     */
    public static IntFunction<String> idempotentIds(String client, String key) {
        return index -> UUID.nameUUIDFromBytes(
                        (client + "\n" + key + "\n" + index).getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .toString();
    }

    /** A body of {@code application/json}: one object or an array of objects. */
    public Parsed parseJson(byte[] body) throws MalformedBodyException {
        return parseJson(body, RANDOM_IDS);
    }

    /** As {@link #parseJson(byte[])}, records without an id getting {@code missingIds}' id for their index. */
    public Parsed parseJson(byte[] body, IntFunction<String> missingIds) throws MalformedBodyException {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new MalformedBodyException("Body is not valid JSON: " + e.getOriginalMessage() + location(e), false);
        } catch (IOException e) {
            throw new MalformedBodyException("Body is not valid JSON: " + e.getMessage(), false);
        }
        if (root == null || root.isMissingNode()) {
            throw new MalformedBodyException("Body is empty: send a JSON object, an array of them, or NDJSON", false);
        }
        List<JsonNode> records = new ArrayList<>();
        if (root.isArray()) {
            root.forEach(records::add);
        } else {
            records.add(root);
        }
        return parseRecords(records, missingIds);
    }

    /** A body of {@code application/x-ndjson}: one object a line; blank lines are skipped. */
    public Parsed parseNdjson(byte[] body) throws MalformedBodyException {
        return parseNdjson(body, RANDOM_IDS);
    }

    /** As {@link #parseNdjson(byte[])}, records without an id getting {@code missingIds}' id for their index. */
    public Parsed parseNdjson(byte[] body, IntFunction<String> missingIds) throws MalformedBodyException {
        List<JsonNode> records = new ArrayList<>();
        int lineStart = 0;
        int lineNumber = 0;
        for (int i = 0; i <= body.length; i++) {
            if (i == body.length || body[i] == '\n') {
                lineNumber++;
                int end = i > lineStart && body[i - 1] == '\r' ? i - 1 : i;
                if (!isBlank(body, lineStart, end)) {
                    if (records.size() == maxRecords) {
                        throw tooMany();
                    }
                    try {
                        records.add(JSON.readTree(JSON.getFactory().createParser(body, lineStart, end - lineStart)));
                    } catch (JsonProcessingException e) {
                        throw new MalformedBodyException(
                                "Line " + lineNumber + " is not valid JSON: " + e.getOriginalMessage(), false);
                    } catch (IOException e) {
                        throw new MalformedBodyException(
                                "Line " + lineNumber + " is not valid JSON: " + e.getMessage(), false);
                    }
                }
                lineStart = i + 1;
            }
        }
        return parseRecords(records, missingIds);
    }

    /**
     * One MQTT payload: a JSON object; {@code topicSource} (from {@code strata/events/{source}}) is
     * the source when the payload has none, and must equal it when it has one.
     */
    public Parsed parseMqttPayload(byte[] payload, String topicSource) throws MalformedBodyException {
        JsonNode node;
        try {
            node = JSON.readTree(payload);
        } catch (JsonProcessingException e) {
            throw new MalformedBodyException("Payload is not valid JSON: " + e.getOriginalMessage(), false);
        } catch (IOException e) {
            throw new MalformedBodyException("Payload is not valid JSON: " + e.getMessage(), false);
        }
        if (node == null || node.isMissingNode()) {
            throw new MalformedBodyException("Payload is empty: publish one JSON event", false);
        }
        List<ValidationError> errors = new ArrayList<>();
        Instant now = clock.instant();
        // The topic's source passes the checks a payload's source passes.
        String topicProblem = EventFields.problem(topicSource, MAX_SOURCE_LENGTH);
        if (topicProblem != null) {
            errors.add(new ValidationError(0, null, "source", "(from the topic) " + topicProblem));
            return new Parsed(List.of(), errors);
        }
        Event event = parseOne(node, 0, topicSource, now, errors, RANDOM_IDS);
        return new Parsed(event == null ? List.of() : List.of(event), errors);
    }

    private Parsed parseRecords(List<JsonNode> records, IntFunction<String> missingIds) throws MalformedBodyException {
        if (records.isEmpty()) {
            throw new MalformedBodyException("No records: send a JSON object, an array of them, or NDJSON", false);
        }
        if (records.size() > maxRecords) {
            throw tooMany();
        }
        Instant now = clock.instant();
        List<Event> events = new ArrayList<>(records.size());
        List<ValidationError> errors = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            Event event = parseOne(records.get(i), i, null, now, errors, missingIds);
            if (event != null) {
                events.add(event);
            }
        }
        return new Parsed(errors.isEmpty() ? events : List.of(), errors);
    }

    private MalformedBodyException tooMany() {
        return new MalformedBodyException("Too many records: at most " + maxRecords + " per request", true);
    }

    /** One record, or null with its errors added to {@code errors}. */
    Event parseOne(
            JsonNode node,
            int index,
            String topicSource,
            Instant now,
            List<ValidationError> errors,
            IntFunction<String> missingIds) {
        if (!node.isObject()) {
            errors.add(new ValidationError(index, null, null, "must be a JSON object, not " + EventFields.kind(node)));
            return null;
        }
        int before = errors.size();
        JsonNode idNode = node.get("id");
        String idForErrors = idNode != null && idNode.isTextual() ? idNode.asText() : null;
        EventFields.ErrorSink sink =
                (field, reason) -> errors.add(new ValidationError(index, idForErrors, field, reason));

        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                sink.add(
                        name,
                        name.equals("ingestTime")
                                ? "is set by the gateway, not the client"
                                : "is not a field of an event (fields: id, source, type, time, value, attributes)");
            }
        }
        String id = EventFields.optionalText(node, "id", MAX_ID_LENGTH, sink);
        String source = EventFields.optionalText(node, "source", MAX_SOURCE_LENGTH, sink);
        if (source == null && !node.has("source")) {
            source = topicSource;
            if (source == null) {
                sink.add("source", "is required");
            }
        } else if (source != null && topicSource != null && !source.equals(topicSource)) {
            sink.add("source", "is '" + source + "' but the topic says '" + topicSource + "'");
        }
        String type = EventFields.optionalText(node, "type", MAX_TYPE_LENGTH, sink);
        if (type == null && !node.has("type")) {
            sink.add("type", "is required");
        }
        Instant time = EventFields.time(node.get("time"), now, maxFutureSkew, maxEventAge, sink);
        Double value = EventFields.value(node.get("value"), sink);
        Map<String, String> attributes = EventFields.attributes(node.get("attributes"), sink);

        if (errors.size() > before) {
            return null;
        }
        return Event.newBuilder()
                .setId(id != null ? id : missingIds.apply(index))
                .setSource(source)
                .setType(type)
                .setTime(time != null ? time : now)
                .setValue(value)
                .setAttributes(attributes)
                .setIngestTime(now)
                .build();
    }

    private static boolean isBlank(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            if (bytes[i] != ' ' && bytes[i] != '\t' && bytes[i] != '\r') {
                return false;
            }
        }
        return true;
    }

    private static String location(JsonProcessingException e) {
        return e.getLocation() == null
                ? ""
                : " (line " + e.getLocation().getLineNr() + ", column "
                        + e.getLocation().getColumnNr() + ")";
    }
}
