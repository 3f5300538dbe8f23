package dev.strata.lake;

/** Another batch process committed to {@code events} since this run was planned: nothing of this run was committed. */
public final class ArchiveConflict extends Exception {
    private static final long serialVersionUID = 1L;

    public ArchiveConflict(String message) {
        super(message);
    }
}
