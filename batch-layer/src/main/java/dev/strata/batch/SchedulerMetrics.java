package dev.strata.batch;

import com.sun.net.httpserver.HttpServer;
import dev.strata.schemas.views.BatchCommit;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The batch scheduler's Prometheus metrics on {@code GET /metrics} (the JDK's HTTP server, as
 * Micrometer's own guide does it): cycles by outcome and their duration, the current run and cut,
 * the cut's age and the cycle interval, so an alert can say "the cut is older than two cycles"
 * from this one target.
 *
 * <p>The cut's age is measured from the cut the batch covers: a cycle that found nothing new
 * covers up to its would-be cut as well (nothing was appended before it that the batch lacks), so
 * an idle pipeline does not look stale; only cycles that fail or do not run let the age grow.
 *
 * <p>Cycles run with a fixed delay between them, and a cycle's cut is taken when it starts: just
 * before a cycle ends, the cut the batch covers was taken at the start of the cycle before it. So
 * the normal maximum is the bucket and safety margin, the interval, the last cycle's duration (the
 * last that did not fail, measured) and the next one's: the last one's again, or, while a cycle
 * runs longer, its time so far (counted up to one interval: a cycle slower than that is a fault).
 * Not a constant: a cluster whose batch jobs take half a minute is not stale for it.
 */
final class SchedulerMetrics implements AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Clock clock;
    private final AtomicLong run = new AtomicLong(-1);
    private final AtomicLong cutMillis = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong coveredMillis = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong lastSuccessMillis = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong lastTookMillis = new AtomicLong(0);
    private final AtomicLong runningSinceMillis = new AtomicLong(Long.MIN_VALUE);
    private final Counter committed;
    private final Counter nothingNew;
    private final Counter failed;
    private final Timer duration;
    private final HttpServer server;

    /**
     * @param normalCutAge the most the cut's age reaches between two healthy cycles that take no
     *     time: the interval, the bucket and the safety margin (twice the last cycle's duration is
     *     added)
     */
    SchedulerMetrics(String host, int port, Duration interval, Duration normalCutAge, Clock clock) throws IOException {
        this.clock = clock;
        committed = cycles("committed");
        nothingNew = cycles("nothing_new");
        failed = cycles("failed");
        duration = Timer.builder("strata_batch_cycle_duration")
                .description("Time a batch cycle took, whatever its outcome")
                .register(registry);
        Gauge.builder("strata_batch_interval_seconds", interval, d -> d.toMillis() / 1000.0)
                .description("Time between batch cycles")
                .strongReference(true)
                .register(registry);
        Gauge.builder("strata_batch_run", run, r -> r.get() < 0 ? Double.NaN : r.get())
                .description("Run number of the current batch views")
                .register(registry);
        Gauge.builder("strata_batch_cut_timestamp_seconds", cutMillis, c -> seconds(c.get()))
                .description("The cut of the current batch views (events appended before it are in the batch)")
                .register(registry);
        Gauge.builder(
                        "strata_batch_cut_age_seconds",
                        coveredMillis,
                        c -> c.get() == Long.MIN_VALUE ? Double.NaN : (clock.millis() - c.get()) / 1000.0)
                .description("How far the cut the batch covers is behind the clock")
                .register(registry);
        Gauge.builder("strata_batch_cut_age_normal_max_seconds", lastTookMillis, took -> {
                    long since = runningSinceMillis.get();
                    long running = since == Long.MIN_VALUE ? 0 : Math.min(clock.millis() - since, interval.toMillis());
                    return (normalCutAge.toMillis() + took.get() + Math.max(took.get(), running)) / 1000.0;
                })
                .description(
                        "The most the cut's age reaches between healthy cycles (interval + bucket + safety margin + the last"
                                + " cycle's duration + the running one's, up to an interval)")
                .register(registry);
        Gauge.builder("strata_batch_last_success_timestamp_seconds", lastSuccessMillis, c -> seconds(c.get()))
                .description("When a cycle last ended without failing")
                .register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        server = HttpServer.create(new InetSocketAddress(host, port), 0);
        server.createContext("/metrics", exchange -> {
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
    }

    private Counter cycles(String outcome) {
        return Counter.builder("strata_batch_cycles")
                .tag("outcome", outcome)
                .description("Batch cycles by outcome")
                .register(registry);
    }

    private static double seconds(long millis) {
        return millis == Long.MIN_VALUE ? Double.NaN : millis / 1000.0;
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** The batch views in place at start (or after a cycle that changed nothing). */
    void current(long currentRun, long currentCutMillis) {
        run.set(currentRun);
        cutMillis.set(currentCutMillis);
        coveredMillis.accumulateAndGet(currentCutMillis, Math::max);
    }

    /** A cycle starts now. */
    void started() {
        runningSinceMillis.set(clock.millis());
    }

    void committed(BatchCommit commit, Duration took) {
        runningSinceMillis.set(Long.MIN_VALUE);
        current(commit.run(), commit.cutMillis());
        committed.increment();
        lastSuccessMillis.set(clock.millis());
        lastTookMillis.set(took.toMillis());
        duration.record(took);
    }

    /** A cycle that found nothing appended before {@code wouldBeCutMillis} that the batch lacks. */
    void nothingNew(long wouldBeCutMillis, Duration took) {
        runningSinceMillis.set(Long.MIN_VALUE);
        coveredMillis.accumulateAndGet(wouldBeCutMillis, Math::max);
        nothingNew.increment();
        lastSuccessMillis.set(clock.millis());
        lastTookMillis.set(took.toMillis());
        duration.record(took);
    }

    void failed(Duration took) {
        runningSinceMillis.set(Long.MIN_VALUE);
        failed.increment();
        duration.record(took);
    }

    String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        server.stop(0);
        registry.close();
    }
}
