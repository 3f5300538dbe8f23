package dev.strata.speed.model;

import java.util.Arrays;

/**
 * A record for the compacted {@code speed-views} topic: the encoded view key and the encoded
 * aggregate, or no value (a tombstone) once the batch layer covers the key's bucket.
 */
public class Upsert {
    public byte[] key;
    public byte[] value;

    public Upsert() {}

    public Upsert(byte[] key, byte[] value) {
        this.key = key;
        this.value = value;
    }

    public boolean isTombstone() {
        return value == null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Upsert u && Arrays.equals(key, u.key) && Arrays.equals(value, u.value);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(key) + Arrays.hashCode(value);
    }
}
