package dev.strata.gateway.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.strata.gateway.validation.ValidationError;
import java.util.List;

/**
 * The one error body of Strata's HTTP services (after Strimzi's {@code HttpBridgeError}):
 * {@code {"error_code": 422, "message": "…", "validation_errors": [{index, id, field, reason}]}}.
 */
public final class ErrorBody {

    static final ObjectMapper JSON = new ObjectMapper();

    private ErrorBody() {}

    public static ObjectNode of(int status, String message) {
        ObjectNode body = JSON.createObjectNode();
        body.put("error_code", status);
        body.put("message", message);
        return body;
    }

    public static ObjectNode of(int status, String message, List<ValidationError> errors) {
        ObjectNode body = of(status, message);
        ArrayNode list = body.putArray("validation_errors");
        for (ValidationError e : errors) {
            ObjectNode item = list.addObject();
            item.put("index", e.index());
            if (e.id() != null) {
                item.put("id", e.id());
            }
            if (e.field() != null) {
                item.put("field", e.field());
            }
            item.put("reason", e.reason());
        }
        return body;
    }
}
