package dev.strata.bench;

import org.HdrHistogram.Histogram;

/**
 * What one load run measured: events acknowledged per second and, for a paced run, latency
 * percentiles (milliseconds) from each request's intended start to its acknowledgement.
 */
record LoadResult(String name, double eventsPerSecond, double p50, double p99, double p999, long failures) {

    static LoadResult of(String name, double eventsPerSecond, Histogram micros, long failures) {
        return new LoadResult(
                name,
                eventsPerSecond,
                micros.getValueAtPercentile(50) / 1000.0,
                micros.getValueAtPercentile(99) / 1000.0,
                micros.getValueAtPercentile(99.9) / 1000.0,
                failures);
    }
}
