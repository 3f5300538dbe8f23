package dev.strata.schemas.registry;

/**
 * An error answered by a Schema-Registry-compatible service: the HTTP status and the registry's
 * own error code (e.g. 40401 subject not found, 40403 schema not found, 409 incompatible, 42201
 * invalid schema), or status 0 when the registry could not be reached.
 */
public class SchemaRegistryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final int errorCode;

    public SchemaRegistryException(int status, int errorCode, String message) {
        super(message);
        this.status = status;
        this.errorCode = errorCode;
    }

    public SchemaRegistryException(String message, Throwable cause) {
        super(message, cause);
        this.status = 0;
        this.errorCode = 0;
    }

    /** The HTTP status, or 0 if no answer was received. */
    public int status() {
        return status;
    }

    /**
     * Whether asking again later may succeed: the registry could not be reached, or answered a
     * server error (5xx), a timeout (408) or too many requests (429). A 4xx such as 40403 "schema
     * not found" is an answer about the data and will not change.
     */
    public boolean isTransient() {
        return status == 0 || status / 100 == 5 || status == 408 || status == 429;
    }

    /** The registry's error code, or 0 if no answer was received. */
    public int errorCode() {
        return errorCode;
    }
}
