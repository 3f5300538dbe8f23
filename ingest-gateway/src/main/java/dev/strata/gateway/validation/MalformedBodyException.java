package dev.strata.gateway.validation;

/** The body is not JSON (or NDJSON) at all: answered 400, or 413 when {@link #tooLarge()}. */
public final class MalformedBodyException extends Exception {
    private static final long serialVersionUID = 1L;

    private final boolean tooLarge;

    public MalformedBodyException(String message, boolean tooLarge) {
        super(message);
        this.tooLarge = tooLarge;
    }

    public boolean tooLarge() {
        return tooLarge;
    }
}
