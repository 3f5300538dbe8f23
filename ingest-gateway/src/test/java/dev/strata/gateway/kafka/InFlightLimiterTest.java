package dev.strata.gateway.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class InFlightLimiterTest {

    @Test
    void tryAcquireRefusesBeyondCapacityAndReleaseGivesBack() {
        InFlightLimiter limiter = new InFlightLimiter(100, 50);

        assertThat(limiter.tryAcquire(60)).isTrue();
        assertThat(limiter.tryAcquire(50)).isFalse();
        limiter.release(60);
        assertThat(limiter.tryAcquire(100)).isTrue();
        assertThat(limiter.inFlightBytes()).isEqualTo(100);
    }

    @Test
    void waitersAreGrantedInOrderAndTheQueueIsBounded() {
        InFlightLimiter limiter = new InFlightLimiter(100, 50);
        List<String> granted = new ArrayList<>();
        assertThat(limiter.acquireOrWait(100, () -> granted.add("first"))).isTrue();
        assertThat(limiter.acquireOrWait(30, () -> granted.add("second"))).isTrue();
        assertThat(limiter.acquireOrWait(20, () -> granted.add("third"))).isTrue();
        assertThat(limiter.acquireOrWait(1, () -> granted.add("refused"))).isFalse();
        // Nobody jumps the queue, not even a small request that would fit.
        assertThat(limiter.tryAcquire(0)).isFalse();
        assertThat(granted).containsExactly("first");

        limiter.release(100);

        assertThat(granted).containsExactly("first", "second", "third");
        assertThat(limiter.inFlightBytes()).isEqualTo(50);
        assertThat(limiter.waitingBytes()).isZero();
    }
}
