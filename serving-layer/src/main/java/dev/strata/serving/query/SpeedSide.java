package dev.strata.serving.query;

/** The speed views as a query sees them: their cells, and how fresh they are. */
public interface SpeedSide extends CellSource {

    /** Whether the store can be queried. */
    boolean running();

    /** The store's state, for answers and errors ({@code RUNNING}, {@code REBALANCING}, …). */
    String stateName();

    /** Records of {@code speed-views} not yet read; -1 when unknown. */
    long lag();

    /** Append time of the newest update read, or -1 before the first. */
    long newestUpdateMillis();

    /**
     * How many updates of cells under {@code prefix} have been read; an answer computed after
     * reading version v holds at least the updates up to v (the cache's key).
     */
    long version(byte[] prefix);
}
