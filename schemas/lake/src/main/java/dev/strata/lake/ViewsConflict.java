package dev.strata.lake;

/** Another batch process changed the batch views since this one read them; nothing of this commit is in the table. */
public final class ViewsConflict extends Exception {
    private static final long serialVersionUID = 1L;

    public ViewsConflict(String message) {
        super(message);
    }
}
