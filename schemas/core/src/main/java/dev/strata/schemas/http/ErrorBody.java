package dev.strata.schemas.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;

/**
 * The one error body of Strata's HTTP services (after Strimzi's {@code HttpBridgeError}): the
 * gateway, the serving layer and the schema registry all answer
 * {@code {"error_code": 422, "message": "…", "validation_errors": [{index, id, field, reason}]}}.
 * The code is the HTTP status, except on the registry, which answers Confluent's own codes
 * ({@code 40401}) so Confluent's clients react as they would to their own registry.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ErrorBody(
        @JsonProperty("error_code") int errorCode,
        @JsonProperty("message") String message,
        @JsonProperty("validation_errors") List<ValidationError> validationErrors) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public ErrorBody {
        validationErrors = validationErrors == null ? List.of() : List.copyOf(validationErrors);
    }

    public static ErrorBody of(int errorCode, String message) {
        return new ErrorBody(errorCode, message, List.of());
    }

    /** The body as JSON text. */
    public String json() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
