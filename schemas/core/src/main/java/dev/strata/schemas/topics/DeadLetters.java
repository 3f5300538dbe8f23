package dev.strata.schemas.topics;

/**
 * Headers of a record in {@code events.dlq}: whoever dead-letters (the gateway, the speed layer, the
 * batch layer) keeps the raw bytes as the value and says why in these headers.
 */
public final class DeadLetters {

    /** A short code: {@code malformed}, {@code invalid}, {@code undecodable}, … */
    public static final String REASON = "strata.dlq.reason";
    /** The human-readable explanation. */
    public static final String DETAIL = "strata.dlq.detail";
    /** Where the record came from, e.g. {@code mqtt3.1.1 client=… topic=…} or {@code events-2@1234}. */
    public static final String ORIGIN = "strata.dlq.origin";
    /** When it was dead-lettered, ISO-8601. */
    public static final String TIME = "strata.dlq.time";

    private DeadLetters() {}
}
