package dev.strata.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.CutSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SchedulerMetricsTest {

    static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");

    @Test
    void theCutAgeFollowsTheCutTheBatchCoversAndIdleCyclesKeepItFresh() throws Exception {
        Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
        try (SchedulerMetrics metrics =
                new SchedulerMetrics("127.0.0.1", 0, Duration.ofMinutes(2), Duration.ofMinutes(4), clock)) {
            assertThat(scrape(metrics))
                    .contains("strata_batch_cut_age_seconds NaN")
                    .contains("strata_batch_interval_seconds 120.0")
                    .contains("strata_batch_cut_age_normal_max_seconds 240.0");

            metrics.committed(
                    BatchCommit.of(7, NOW.minusSeconds(600).toEpochMilli(), "snapshots/x", CutSettings.DEFAULTS),
                    Duration.ofSeconds(3));
            assertThat(scrape(metrics))
                    .contains("strata_batch_cut_age_seconds 600.0")
                    .contains("strata_batch_run 7.0")
                    .contains("strata_batch_cycles_total{outcome=\"committed\"} 1.0")
                    .as("the cycles' own duration, twice")
                    .contains("strata_batch_cut_age_normal_max_seconds 246.0");

            metrics.nothingNew(NOW.minusSeconds(90).toEpochMilli(), Duration.ofSeconds(1));
            String text = scrape(metrics);
            assertThat(text)
                    .contains("strata_batch_cut_age_seconds 90.0") // nothing appended before the would-be cut
                    .contains("strata_batch_cycles_total{outcome=\"nothing_new\"} 1.0")
                    .contains("strata_batch_cut_age_normal_max_seconds 242.0");
            assertThat(value(text, "strata_batch_cut_timestamp_seconds"))
                    .as("the views' cut stays")
                    .isEqualTo(NOW.minusSeconds(600).getEpochSecond());

            metrics.failed(Duration.ofSeconds(5));
            assertThat(scrape(metrics))
                    .contains("strata_batch_cycles_total{outcome=\"failed\"} 1.0")
                    .contains("strata_batch_cut_age_seconds 90.0")
                    .as("a failed cycle's duration is not normal")
                    .contains("strata_batch_cut_age_normal_max_seconds 242.0");
        }
    }

    @Test
    void aRunningCycleWidensTheNormalMaximumUpToOneInterval() throws Exception {
        AtomicReference<Instant> now = new AtomicReference<>(NOW);
        Clock clock = new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now.get();
            }
        };
        try (SchedulerMetrics metrics =
                new SchedulerMetrics("127.0.0.1", 0, Duration.ofMinutes(2), Duration.ofMinutes(4), clock)) {
            metrics.nothingNew(NOW.minusSeconds(90).toEpochMilli(), Duration.ofSeconds(1));
            metrics.started();
            now.set(NOW.plusSeconds(30));
            assertThat(value(scrape(metrics), "strata_batch_cut_age_normal_max_seconds"))
                    .isEqualTo(240 + 1 + 30);
            now.set(NOW.plusSeconds(600));
            assertThat(value(scrape(metrics), "strata_batch_cut_age_normal_max_seconds"))
                    .as("at most one interval")
                    .isEqualTo(240 + 1 + 120);
            metrics.nothingNew(NOW.toEpochMilli(), Duration.ofSeconds(3));
            assertThat(value(scrape(metrics), "strata_batch_cut_age_normal_max_seconds"))
                    .isEqualTo(240 + 3 + 3);
        }
    }

    private static double value(String text, String metric) {
        return text.lines()
                .filter(l -> l.startsWith(metric + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(metric.length() + 1)))
                .findFirst()
                .orElseThrow();
    }

    private static String scrape(SchedulerMetrics metrics) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics.port() + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }
}
