package dev.strata.bench;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongFunction;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Drives an asynchronous operation either as fast as a window of outstanding operations allows
 * (to find the maximum rate) or paced at a fixed rate with latency measured from each operation's
 * intended start, so a stall is charged to every operation it delays (no coordinated omission).
 */
final class OpenLoop {

    private OpenLoop() {}

    /**
     * As fast as {@code window} outstanding operations allow, for {@code duration}.
     *
     * @param operation starts operation number {@code i}; completes true when acknowledged
     * @return acknowledged operations per second
     */
    static double saturate(LongFunction<CompletableFuture<Boolean>> operation, int window, Duration duration)
            throws InterruptedException {
        Semaphore permits = new Semaphore(window);
        AtomicLong acked = new AtomicLong();
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        long i = 0;
        while (System.nanoTime() < end) {
            if (!permits.tryAcquire(10, TimeUnit.MILLISECONDS)) {
                continue;
            }
            operation.apply(i++).whenComplete((ok, e) -> {
                if (e == null && ok) {
                    acked.incrementAndGet();
                }
                permits.release();
            });
        }
        long counted = acked.get();
        double seconds = (System.nanoTime() - start) / 1e9;
        permits.tryAcquire(window, 60, TimeUnit.SECONDS);
        return counted / seconds;
    }

    /**
     * Starts operations at {@code ratePerSecond} for {@code duration}; at most {@code window}
     * outstanding (a late start is still measured from its intended time).
     */
    static LoadResult paced(
            String name,
            LongFunction<CompletableFuture<Boolean>> operation,
            double ratePerSecond,
            int eventsPerOperation,
            int window,
            Duration duration)
            throws InterruptedException {
        Histogram histogram = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(120), 3);
        Semaphore permits = new Semaphore(window);
        AtomicLong acked = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        double intervalNanos = 1e9 / ratePerSecond;
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        for (long i = 0; ; i++) {
            long intended = start + (long) (i * intervalNanos);
            if (intended >= end) {
                break;
            }
            long now;
            while ((now = System.nanoTime()) < intended) {
                LockSupport.parkNanos(intended - now);
            }
            permits.acquire();
            operation.apply(i).whenComplete((ok, e) -> {
                long micros = (System.nanoTime() - intended) / 1_000;
                histogram.recordValue(Math.min(micros, histogram.getHighestTrackableValue()));
                if (e == null && ok) {
                    acked.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                }
                permits.release();
            });
        }
        permits.tryAcquire(window, 120, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - start) / 1e9;
        return LoadResult.of(name, acked.get() * (double) eventsPerOperation / seconds, histogram, failed.get());
    }
}
