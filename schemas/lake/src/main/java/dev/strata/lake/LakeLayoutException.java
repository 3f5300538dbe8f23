package dev.strata.lake;

/** The lake holds something this build cannot use as it is (the previous layout); the message says what to do. */
public final class LakeLayoutException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LakeLayoutException(String message) {
        super(message);
    }
}
