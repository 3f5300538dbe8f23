package dev.strata.schemas.wire;

import dev.strata.schemas.registry.SchemaRegistryException;
import org.apache.kafka.common.errors.RetriableException;

/**
 * The writer's schema of a record could not be fetched because the registry is unreachable or
 * failing. Unlike a {@link org.apache.kafka.common.errors.SerializationException} this says nothing
 * about the record: it must be decoded again later, never dead-lettered or skipped.
 */
public class SchemaRegistryUnavailableException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public SchemaRegistryUnavailableException(int schemaId, SchemaRegistryException cause) {
        super("The schema registry cannot give the schema with id " + schemaId + " now: " + cause.getMessage(), cause);
    }
}
