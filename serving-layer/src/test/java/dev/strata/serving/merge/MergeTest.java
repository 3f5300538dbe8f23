package dev.strata.serving.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.schemas.Event;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.math.BigDecimal;
import java.math.MathContext;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/**
 * A fixed batch snapshot plus speed cells on both sides of the cut: the merged answer counts each
 * event once — batch below the cut, speed at or above it, stale speed buckets below the cut left out
 * — including late events folded into old windows; a step rolls windows up by combining states.
 */
class MergeTest {

    static final ViewDefinition VIEW =
            ViewConfig.defaults().get(0); // events_per_source_1m: count, sum, min, max, avg, p95
    static final long T0 = Instant.parse("2026-11-23T10:00:00Z").toEpochMilli();
    static final long BUCKET = 60_000;
    static final long CUT = T0 + 30 * BUCKET;

    record Appended(Event event, long appendMillis) {}

    @Test
    void eachEventCountsOnceOnTheSideOfTheCutItWasAppendedOn() {
        List<Appended> log = workload();
        Map<ViewKey, Aggregate> batch = new HashMap<>();
        Map<ViewKey, Aggregate> speed = new HashMap<>();
        for (Appended a : log) {
            Event e = a.event();
            long window = VIEW.windowStart(e.getTime()).toEpochMilli();
            long bucket = ViewKey.bucketOf(a.appendMillis(), BUCKET);
            if (a.appendMillis() < CUT) {
                fold(batch, new ViewKey(VIEW.name(), VIEW.group(e), window, 0), e);
            }
            // The speed job saw every event; its buckets below the cut are not yet tombstoned.
            fold(speed, new ViewKey(VIEW.name(), VIEW.group(e), window, bucket), e);
        }

        List<Merge.Point> merged = Merge.series(
                VIEW,
                CUT,
                batch.entrySet(),
                speed.entrySet(),
                new Merge.Query(Optional.empty(), Long.MIN_VALUE, Long.MAX_VALUE, Optional.empty()));

        Map<String, Map<String, Double>> expected = oracle(log, BUCKET);
        Map<String, Map<String, Double>> actual = new HashMap<>();
        merged.forEach(p -> actual.put(
                p.group() + "@" + p.startMillis(), withoutP95(p.aggregate().measures())));
        assertThat(actual).isEqualTo(expected);
        // A late event (event time an hour back, appended after the cut) lands in its old window.
        assertThat(actual.get("[late-source]@" + (T0 - 60 * BUCKET)).get("count"))
                .isEqualTo(1.0);
        // Inputs untouched: merging again gives the same.
        assertThat(Merge.series(
                        VIEW,
                        CUT,
                        batch.entrySet(),
                        speed.entrySet(),
                        new Merge.Query(Optional.empty(), Long.MIN_VALUE, Long.MAX_VALUE, Optional.empty())))
                .extracting(p -> p.aggregate().measures())
                .isEqualTo(merged.stream().map(p -> p.aggregate().measures()).toList());
    }

    @Test
    void aStepRollsWindowsUpByCombiningStatesAndAGroupAndRangeSelect() {
        List<Appended> log = workload();
        Map<ViewKey, Aggregate> batch = new HashMap<>();
        for (Appended a : log) {
            Event e = a.event();
            fold(
                    batch,
                    new ViewKey(
                            VIEW.name(),
                            VIEW.group(e),
                            VIEW.windowStart(e.getTime()).toEpochMilli(),
                            0),
                    e);
        }
        List<Merge.Point> hourly = Merge.series(
                VIEW,
                Long.MAX_VALUE,
                batch.entrySet(),
                List.of(),
                new Merge.Query(Optional.of(List.of("s-1")), T0, T0 + 60 * BUCKET, Optional.of(Duration.ofHours(1))));

        assertThat(hourly).singleElement().satisfies(p -> {
            assertThat(p.startMillis()).isEqualTo(T0);
            List<Double> values = log.stream()
                    .map(Appended::event)
                    .filter(e -> e.getSource().equals("s-1")
                            && e.getTime().toEpochMilli() >= T0
                            && e.getTime().toEpochMilli() < T0 + 3_600_000)
                    .map(Event::getValue)
                    .toList();
            assertThat(p.aggregate().measures().get("count")).isEqualTo((double) values.size());
            assertThat(p.aggregate().measures().get("avg"))
                    .isCloseTo(
                            values.stream()
                                    .mapToDouble(Double::doubleValue)
                                    .average()
                                    .orElseThrow(),
                            Offset.offset(1e-9));
        });
        assertThatThrownBy(() -> Merge.series(
                        VIEW,
                        CUT,
                        batch.entrySet(),
                        List.of(),
                        new Merge.Query(Optional.empty(), T0, T0 + 1, Optional.of(Duration.ofSeconds(90)))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a multiple");
    }

    static List<Appended> workload() {
        Random random = new Random(3);
        List<Appended> log = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            long append = T0 + random.nextInt(60) * BUCKET + random.nextInt(60_000);
            long time = append - random.nextInt(120_000); // a little out of order
            log.add(new Appended(event("e-" + i, "s-" + random.nextInt(4), time, random.nextInt(1000) / 10.0), append));
        }
        log.add(new Appended(event("late", "late-source", T0 - 60 * BUCKET + 5, 1.0), CUT + 5 * BUCKET));
        return log;
    }

    static Event event(String id, String source, long time, double value) {
        return new Event(id, source, "t", Instant.ofEpochMilli(time), value, Map.of(), Instant.ofEpochMilli(time));
    }

    static void fold(Map<ViewKey, Aggregate> cells, ViewKey key, Event e) {
        cells.computeIfAbsent(key, k -> Aggregate.empty(VIEW)).fold(e);
    }

    /** Independent of Aggregate: plain sums over the events, each once. */
    static Map<String, Map<String, Double>> oracle(List<Appended> log, long bucket) {
        Map<String, List<Double>> cells = new HashMap<>();
        for (Appended a : log) {
            Event e = a.event();
            long window = Math.floorDiv(e.getTime().toEpochMilli(), 60_000L) * 60_000L;
            cells.computeIfAbsent("[" + e.getSource() + "]@" + window, k -> new ArrayList<>())
                    .add(e.getValue());
        }
        Map<String, Map<String, Double>> out = new HashMap<>();
        cells.forEach((cell, values) -> {
            Map<String, Double> m = new HashMap<>();
            m.put("count", (double) values.size());
            double sum = values.stream()
                    .map(BigDecimal::new)
                    .reduce(BigDecimal.ZERO, BigDecimal::add)
                    .doubleValue();
            m.put("sum", sum);
            m.put("min", values.stream().min(Double::compare).orElseThrow());
            m.put("max", values.stream().max(Double::compare).orElseThrow());
            m.put(
                    "avg",
                    values.stream()
                            .map(BigDecimal::new)
                            .reduce(BigDecimal.ZERO, BigDecimal::add)
                            .divide(BigDecimal.valueOf(values.size()), MathContext.DECIMAL64)
                            .doubleValue());
            out.put(cell, m);
        });
        return out;
    }

    static Map<String, Double> withoutP95(Map<String, Double> measures) {
        Map<String, Double> m = new HashMap<>(measures);
        m.remove("p95");
        return m;
    }
}
