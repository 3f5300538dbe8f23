package dev.strata.speed.model;

import dev.strata.schemas.Event;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * An event as the speed layer sees it: the Avro {@link Event}'s fields plus the broker's append
 * time (LogAppendTime), whose bucket places the event on the speed side of the cut. A Flink POJO
 * (public fields, no-argument constructor), so it travels without Kryo.
 */
public class IngestedEvent {
    public String id;
    public String source;
    public String type;
    public long timeMillis;
    public Double value;
    /** Declared as a {@link Map}: Flink serializes it itself (a {@code HashMap} field would go through Kryo). */
    public Map<String, String> attributes = new HashMap<>();

    public long ingestTimeMillis;
    public long appendTimeMillis;

    public IngestedEvent() {}

    public static IngestedEvent of(Event event, long appendTimeMillis) {
        IngestedEvent e = new IngestedEvent();
        e.id = event.getId();
        e.source = event.getSource();
        e.type = event.getType();
        e.timeMillis = event.getTime().toEpochMilli();
        e.value = event.getValue();
        e.attributes = new HashMap<>(event.getAttributes());
        e.ingestTimeMillis = event.getIngestTime().toEpochMilli();
        e.appendTimeMillis = appendTimeMillis;
        return e;
    }

    /**
     * The event's identity, the dedup key: (source, id) as one string, the source's length first so
     * that no two different pairs give the same key. One source never hides another's events.
     */
    public String identity() {
        return identity(source, id);
    }

    public static String identity(String source, String id) {
        return source.length() + ":" + source + id;
    }

    public Event toEvent() {
        return Event.newBuilder()
                .setId(id)
                .setSource(source)
                .setType(type)
                .setTime(Instant.ofEpochMilli(timeMillis))
                .setValue(value)
                .setAttributes(Map.copyOf(attributes))
                .setIngestTime(Instant.ofEpochMilli(ingestTimeMillis))
                .build();
    }

    @Override
    public String toString() {
        return "IngestedEvent[" + id + " " + source + " " + type + " @" + timeMillis + " appended " + appendTimeMillis
                + "]";
    }
}
