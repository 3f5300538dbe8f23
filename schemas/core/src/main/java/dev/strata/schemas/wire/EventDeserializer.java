package dev.strata.schemas.wire;

import dev.strata.schemas.Event;
import dev.strata.schemas.registry.SchemaRegistryClient;

/**
 * Reads {@link Event}s in the Confluent wire format, whatever compatible version of the schema
 * the writer used.
 */
public class EventDeserializer extends AvroDeserializer<Event> {
    public EventDeserializer() {
        super(null, Event.getClassSchema(), Event.class);
    }

    public EventDeserializer(SchemaRegistryClient registry) {
        super(registry, Event.getClassSchema(), Event.class);
    }
}
