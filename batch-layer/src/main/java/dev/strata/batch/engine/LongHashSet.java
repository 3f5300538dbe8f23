package dev.strata.batch.engine;

import java.io.Serializable;

/**
 * A set of longs in one open-addressing table (linear probing, at most half full): 16 bytes or less
 * per element and no boxing, for the id hashes of the recompute (millions per subtask, one probe per
 * lake row). {@link #contains} answers most misses of a small set from a bit filter (one bit per
 * value, 64 KiB that stay in the CPU's cache) before it probes the table. Not thread-safe.
 */
final class LongHashSet implements Serializable {
    /** Marks a free slot; the value 0 itself is kept aside in {@link #hasZero}. */
    private static final long FREE = 0L;

    /** 2^19 bits (64 KiB). */
    private static final int FILTER_BITS = 1 << 19;

    private long[] table;
    private int size;
    private boolean hasZero;
    private final long[] filter = new long[FILTER_BITS / 64];

    LongHashSet() {
        this(16);
    }

    LongHashSet(int expected) {
        table = new long[Integer.highestOneBit(Math.max(16, expected) * 2 - 1) * 2];
    }

    /** Adds {@code value}; returns whether it was not there yet. */
    boolean add(long value) {
        int bit = (int) (value >>> 45); // the top 19 bits (the table uses a mix of all of them)
        filter[bit >>> 6] |= 1L << bit;
        if (value == FREE) {
            boolean added = !hasZero;
            hasZero = true;
            return added;
        }
        int mask = table.length - 1;
        for (int i = slot(value, mask); ; i = (i + 1) & mask) {
            long there = table[i];
            if (there == FREE) {
                table[i] = value;
                if (++size * 2 > table.length) {
                    grow();
                }
                return true;
            }
            if (there == value) {
                return false;
            }
        }
    }

    boolean contains(long value) {
        int bit = (int) (value >>> 45);
        if ((filter[bit >>> 6] & (1L << bit)) == 0) {
            return false;
        }
        if (value == FREE) {
            return hasZero;
        }
        int mask = table.length - 1;
        for (int i = slot(value, mask); ; i = (i + 1) & mask) {
            long there = table[i];
            if (there == value) {
                return true;
            }
            if (there == FREE) {
                return false;
            }
        }
    }

    int size() {
        return size + (hasZero ? 1 : 0);
    }

    boolean isEmpty() {
        return size() == 0;
    }

    private static int slot(long value, int mask) {
        long h = value * 0x9e3779b97f4a7c15L; // the values are hashes already; mix so that any bits index well
        return (int) (h >>> 32) & mask;
    }

    private void grow() {
        long[] old = table;
        table = new long[old.length * 2];
        size = 0;
        for (long value : old) {
            if (value != FREE) {
                add(value);
            }
        }
    }
}
