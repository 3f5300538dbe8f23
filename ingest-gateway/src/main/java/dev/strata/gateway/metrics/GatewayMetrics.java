package dev.strata.gateway.metrics;

import dev.strata.gateway.kafka.InFlightLimiter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** The gateway's Prometheus metrics (Micrometer), served at {@code /metrics}. */
public final class GatewayMetrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Timer produceLatency;
    private final AtomicInteger mqttConnections = new AtomicInteger();
    /** Counters by their tags, so the hot path does not rebuild a meter id per event. */
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    public GatewayMetrics(InFlightLimiter limiter) {
        produceLatency = Timer.builder("strata.gateway.produce.latency")
                .description("Time from accepting an event to Kafka's acknowledgement")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(30))
                .register(registry);
        Gauge.builder("strata.gateway.in.flight.bytes", limiter, InFlightLimiter::inFlightBytes)
                .description("Bytes of events accepted and not yet acknowledged by Kafka")
                .register(registry);
        Gauge.builder("strata.gateway.waiting.bytes", limiter, InFlightLimiter::waitingBytes)
                .description("Bytes of MQTT publishes waiting for in-flight room")
                .register(registry);
        Gauge.builder("strata.gateway.mqtt.connections", mqttConnections, AtomicInteger::get)
                .description("Open MQTT connections")
                .register(registry);
    }

    /** An HTTP request answered with {@code status}. */
    public void request(String protocol, int status) {
        counters.computeIfAbsent(
                        protocol + "|" + status,
                        k -> Counter.builder("strata.gateway.requests")
                                .tag("protocol", protocol)
                                .tag("status", Integer.toString(status))
                                .register(registry))
                .increment();
    }

    /**
     * Records by outcome: {@code accepted} (acknowledged by Kafka), {@code rejected} (refused with
     * a status or reason code), {@code dead_lettered}, {@code failed} (Kafka did not acknowledge).
     */
    public void records(String protocol, String outcome, String reason, int count) {
        counters.computeIfAbsent(
                        protocol + "|" + outcome + "|" + reason,
                        k -> Counter.builder("strata.gateway.records")
                                .tag("protocol", protocol)
                                .tag("outcome", outcome)
                                .tag("reason", reason)
                                .register(registry))
                .increment(count);
    }

    /**
     * An uploaded file by how it came ({@code http}, {@code landing}, {@code recovered}) and its
     * outcome: {@code added}, {@code duplicate}, {@code refused} with a reason ({@code conflict},
     * {@code unreadable}, {@code too_large}, {@code unsupported}, {@code busy}, ...).
     */
    public void file(String source, String outcome, String reason) {
        counters.computeIfAbsent(
                        "file|" + source + "|" + outcome + "|" + reason,
                        k -> Counter.builder("strata.gateway.files")
                                .tag("source", source)
                                .tag("outcome", outcome)
                                .tag("reason", reason)
                                .register(registry))
                .increment();
    }

    /** Rows of uploaded files: {@code written} to the dataset, or {@code rejected} to its rejects file. */
    public void fileRows(String outcome, long count) {
        counters.computeIfAbsent(
                        "file_rows|" + outcome,
                        k -> Counter.builder("strata.gateway.file.rows")
                                .tag("outcome", outcome)
                                .register(registry))
                .increment(count);
    }

    public Timer produceLatency() {
        return produceLatency;
    }

    public AtomicInteger mqttConnections() {
        return mqttConnections;
    }

    public String scrape() {
        return registry.scrape();
    }
}
