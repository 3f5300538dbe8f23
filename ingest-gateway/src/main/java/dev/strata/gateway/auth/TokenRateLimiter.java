package dev.strata.gateway.auth;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/** Records per second per token (Bucket4j token buckets), with a burst of one second's worth. */
public final class TokenRateLimiter {

    private final double recordsPerSecond;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    /** @param recordsPerSecond the limit; 0 turns limiting off */
    public TokenRateLimiter(double recordsPerSecond) {
        this.recordsPerSecond = recordsPerSecond;
    }

    /** The most records one request may carry: a bucket's capacity (empty: no limit). */
    public OptionalLong burst() {
        return recordsPerSecond <= 0 ? OptionalLong.empty() : OptionalLong.of(capacity());
    }

    private long capacity() {
        return Math.max(1, (long) Math.ceil(recordsPerSecond));
    }

    /**
     * Takes {@code records} from the principal's bucket.
     *
     * @return empty if allowed, else the seconds to wait before retrying (for Retry-After)
     */
    public OptionalLong tryConsume(Principal principal, int records) {
        if (recordsPerSecond <= 0) {
            return OptionalLong.empty();
        }
        Bucket bucket = buckets.computeIfAbsent(principal.name(), name -> newBucket());
        ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(records);
        if (probe.isConsumed()) {
            return OptionalLong.empty();
        }
        long nanos = probe.getNanosToWaitForRefill();
        return OptionalLong.of(Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L));
    }

    private Bucket newBucket() {
        long capacity = capacity();
        return Bucket.builder()
                .addLimit(Bandwidth.builder()
                        .capacity(capacity)
                        .refillGreedy(capacity, Duration.ofSeconds(1))
                        .build())
                .build();
    }
}
