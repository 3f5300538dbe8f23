package dev.strata.serving.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.schemas.http.ErrorBody;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** An answer as sent: its status, its JSON bytes and (for 200) the strong ETag of the bytes. */
record Rendered(int status, byte[] bytes, String etag) {

    static final ObjectMapper JSON = new ObjectMapper();

    /** {@code body} (an answer record, an error body or a Jackson tree) as JSON. */
    static Rendered of(int status, Object body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return new Rendered(status, bytes, status == 200 ? "\"" + etag(bytes) + "\"" : null);
    }

    static Rendered error(int status, String message) {
        return of(status, ErrorBody.of(status, message));
    }

    static String etag(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
