package dev.strata.schemas.wire;

import dev.strata.schemas.Event;
import dev.strata.schemas.registry.SchemaRegistryClient;

/** Writes {@link Event}s in the Confluent wire format. */
public class EventSerializer extends AvroSerializer<Event> {
    public EventSerializer() {}

    public EventSerializer(SchemaRegistryClient registry) {
        super(registry, true);
    }
}
