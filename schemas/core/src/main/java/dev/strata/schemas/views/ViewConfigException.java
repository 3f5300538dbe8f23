package dev.strata.schemas.views;

/** An invalid view config; the message names the view and the problem. Fatal at startup. */
public final class ViewConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public ViewConfigException(String message) {
        super(message);
    }
}
