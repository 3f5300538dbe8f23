package dev.strata.testing;

import java.time.Duration;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

/**
 * Waiting in tests: poll until a condition holds, up to a deadline (Awaitility). Name what is
 * awaited, and prefer {@code untilAsserted} with an assertion, or {@code until(value, predicate)}:
 * a timeout then says what was awaited and what was last seen.
 */
public final class Waits {

    private Waits() {}

    /** Polls every 200 ms, from now, for at most {@code atMost}. */
    public static ConditionFactory await(String what, Duration atMost) {
        return Awaitility.await(what).atMost(atMost).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(200));
    }
}
