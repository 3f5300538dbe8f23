package dev.strata.registry;

/**
 * An error answered with Confluent Schema Registry's status, error code and message, so that
 * Confluent's clients react to it as they would to their own registry.
 */
public final class RegistryError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final int errorCode;

    public RegistryError(int status, int errorCode, String message) {
        super(message);
        this.status = status;
        this.errorCode = errorCode;
    }

    public int status() {
        return status;
    }

    public int errorCode() {
        return errorCode;
    }

    static RegistryError subjectNotFound(String subject) {
        return new RegistryError(404, 40401, "Subject '" + subject + "' not found.");
    }

    static RegistryError versionNotFound(int version) {
        return new RegistryError(404, 40402, "Version " + version + " not found.");
    }

    static RegistryError schemaNotFound(int id) {
        return new RegistryError(404, 40403, "Schema " + id + " not found.");
    }

    static RegistryError schemaNotFound() {
        return new RegistryError(404, 40403, "Schema not found");
    }

    static RegistryError subjectConfigNotFound(String subject) {
        return new RegistryError(
                404, 40408, "Subject '" + subject + "' does not have subject-level compatibility configured");
    }

    static RegistryError incompatible(String message) {
        return new RegistryError(409, 409, message);
    }

    static RegistryError invalidSchema(String message) {
        return new RegistryError(422, 42201, message);
    }

    static RegistryError invalidVersion(String version) {
        return new RegistryError(
                422,
                42202,
                "The specified version '" + version + "' is not a valid version id. Allowed values are"
                        + " between [1, 2^31-1] and the string \"latest\"");
    }

    static RegistryError invalidCompatibilityLevel(String level) {
        return new RegistryError(
                422,
                42203,
                "Invalid compatibility level '" + level + "'. Valid values are none, backward, forward,"
                        + " full, backward_transitive, forward_transitive, and full_transitive");
    }

    /** A write without a valid token (Confluent's registry answers 40101 for bad credentials). */
    static RegistryError unauthorized(boolean missing) {
        return new RegistryError(
                401,
                40101,
                missing
                        ? "This registry's writes need a token: send 'Authorization: Bearer <token>'"
                        : "The token is not one of this registry's write tokens");
    }

    static RegistryError storeUnavailable(String message) {
        return new RegistryError(500, 50001, "Error while storing the schema: " + message);
    }

    static RegistryError storeTimeout(String message) {
        return new RegistryError(500, 50002, "Operation timed out: " + message);
    }
}
