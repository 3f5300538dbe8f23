package dev.strata.serving.query;

/** A query that cannot be answered as asked: its HTTP status and the reason, for the client. */
public final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;

    public BadRequest(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
