package dev.strata.schemas.http;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Why one record was refused: its position in the request, its id if it had one, the field and
 * the reason, e.g. {@code (2, "e-9", "time", "is more than PT5M in the future")}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ValidationError(int index, String id, String field, String reason) {

    /** The reason as one line, e.g. for an MQTT reason string or a dead-letter header. */
    public String describe() {
        return field == null ? reason : field + ": " + reason;
    }
}
