package dev.strata.gateway.kafka;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Bounds the bytes of events between acceptance and Kafka's acknowledgement, so the producer's
 * buffer never fills (a full buffer would block the event loop) and memory stays bounded.
 *
 * <p>HTTP asks with {@link #tryAcquire} and answers 503 when refused. MQTT {@link #acquireOrWait
 * waits} in a bounded FIFO: its clients are already bounded by their Receive Maximum, and a PUBACK
 * held back is what makes a compliant client stop sending.
 */
public final class InFlightLimiter {

    private record Waiter(long bytes, Runnable onGranted) {}

    private final long capacity;
    private final long maxWaitingBytes;
    private final Deque<Waiter> waiting = new ArrayDeque<>();
    private long inFlight;
    private long waitingBytes;

    public InFlightLimiter(long capacity, long maxWaitingBytes) {
        this.capacity = capacity;
        this.maxWaitingBytes = maxWaitingBytes;
    }

    /** The most bytes in flight at once. */
    public long capacity() {
        return capacity;
    }

    /** Takes {@code bytes} now if they fit and nobody waits; false otherwise. */
    public synchronized boolean tryAcquire(long bytes) {
        if (waiting.isEmpty() && inFlight + bytes <= capacity) {
            inFlight += bytes;
            return true;
        }
        return false;
    }

    /**
     * Takes {@code bytes} now, or queues {@code onGranted} to run once they fit.
     *
     * @return false if the queue is full: the caller must refuse the message
     */
    public boolean acquireOrWait(long bytes, Runnable onGranted) {
        synchronized (this) {
            if (!(waiting.isEmpty() && inFlight + bytes <= capacity)) {
                if (waitingBytes + bytes > maxWaitingBytes) {
                    return false;
                }
                waiting.addLast(new Waiter(bytes, onGranted));
                waitingBytes += bytes;
                return true;
            }
            inFlight += bytes;
        }
        onGranted.run();
        return true;
    }

    /** Gives back {@code bytes} and grants waiters, in order, while they fit. */
    public void release(long bytes) {
        Deque<Runnable> granted = new ArrayDeque<>();
        synchronized (this) {
            inFlight -= bytes;
            while (!waiting.isEmpty() && inFlight + waiting.peekFirst().bytes() <= capacity) {
                Waiter w = waiting.pollFirst();
                waitingBytes -= w.bytes();
                inFlight += w.bytes();
                granted.add(w.onGranted());
            }
        }
        granted.forEach(Runnable::run);
    }

    public synchronized long inFlightBytes() {
        return inFlight;
    }

    public synchronized long waitingBytes() {
        return waitingBytes;
    }
}
