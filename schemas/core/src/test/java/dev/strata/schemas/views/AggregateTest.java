package dev.strata.schemas.views;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.strata.schemas.Event;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AggregateTest {

    static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");
    static final ViewDefinition VIEW =
            ViewConfig.parse("""
            views:
              - name: all_measures
                groupBy: [source]
                window: 1m
                measures: [count, sum, min, max, avg, p50, p95, "distinct(attributes.site)"]
            """.getBytes(StandardCharsets.UTF_8)).get(0);

    static List<Event> events(int n, long seed) {
        Random random = new Random(seed);
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            events.add(Event.newBuilder()
                    .setId("e-" + i)
                    .setSource("s")
                    .setType("t")
                    .setTime(T0)
                    .setIngestTime(T0)
                    .setValue(i % 17 == 0 ? null : random.nextGaussian() * 1e3 + 0.1)
                    .setAttributes(Map.of("site", "site-" + random.nextInt(300)))
                    .build());
        }
        return events;
    }

    static Aggregate foldAll(List<Event> events) {
        Aggregate a = Aggregate.empty(VIEW);
        events.forEach(a::fold);
        return a;
    }

    @Test
    void mergingPartsInAnyOrderEqualsFoldingEverything() {
        List<Event> events = events(20_000, 1);
        Aggregate whole = foldAll(events);

        List<Aggregate> parts = new ArrayList<>();
        for (int p = 0; p < 7; p++) {
            parts.add(foldAll(events.subList(p * events.size() / 7, (p + 1) * events.size() / 7)));
        }
        Collections.shuffle(parts, new Random(2));
        Aggregate merged = Aggregate.empty(VIEW);
        parts.forEach(merged::merge);

        Map<String, Double> w = whole.measures();
        Map<String, Double> m = merged.measures();
        for (String exact : List.of("count", "sum", "min", "max", "avg", "distinct_site")) {
            assertThat(m.get(exact)).as(exact).isEqualTo(w.get(exact));
        }
        assertThat(merged.exactSum()).isEqualTo(whole.exactSum());
        assertThat(m.get("distinct_site")).isCloseTo(300.0, within(300 * 0.05));
        // KLL is randomized: two ways of merging agree within its rank error, not to the bit.
        List<Double> sorted = events.stream()
                .filter(e -> e.getValue() != null)
                .map(Event::getValue)
                .sorted()
                .toList();
        double trueP95 = sorted.get((int) Math.ceil(0.95 * sorted.size()) - 1);
        double p95Low = sorted.get((int) (0.93 * sorted.size()));
        double p95High = sorted.get((int) (0.97 * sorted.size()));
        assertThat(m.get("p95")).isBetween(p95Low, p95High);
        assertThat(w.get("p95")).isBetween(p95Low, p95High);
        assertThat(trueP95).isBetween(p95Low, p95High);
    }

    @Test
    void theSumIsExactWhateverTheOrder() {
        List<Event> events = List.of(value(1e16), value(1.0), value(-1e16), value(1.0));
        Aggregate forward = foldAll(events);
        Aggregate backward = foldAll(List.of(events.get(3), events.get(2), events.get(1), events.get(0)));

        assertThat(forward.exactSum()).isEqualByComparingTo(new BigDecimal("2"));
        assertThat(backward.measures().get("sum")).isEqualTo(2.0);
        // Plain double addition in this order loses both ones.
        assertThat(1e16 + 1.0 - 1e16 + 1.0).isNotEqualTo(2.0);
    }

    @Test
    void theSumEqualsBigDecimalAdditionOverWideMagnitudesAndNearOverflow() {
        Random random = new Random(7);
        List<Event> events = new ArrayList<>();
        BigDecimal expected = BigDecimal.ZERO;
        for (int i = 0; i < 50_000; i++) {
            double v = switch (i % 5) {
                case 0 -> random.nextGaussian() * Math.pow(10, random.nextInt(600) - 300); // 1e-300 .. 1e300
                case 1 -> -random.nextDouble() * 1e308; // sums of these overflow a double
                case 2 -> random.nextDouble() * 1e308;
                case 3 -> Double.MIN_VALUE * random.nextInt(1000); // subnormal
                default -> random.nextInt(2000) - 1000.5;
            };
            events.add(value(v));
            expected = expected.add(new BigDecimal(v));
        }
        Aggregate folded = foldAll(events);
        Aggregate merged = foldAll(events.subList(0, 20_000)).merge(foldAll(events.subList(20_000, events.size())));

        assertThat(folded.exactSum()).isEqualByComparingTo(expected);
        assertThat(merged.exactSum()).isEqualByComparingTo(expected);
        assertThat(AggregateCodec.decode(VIEW, AggregateCodec.encode(foldAll(events)))
                        .exactSum())
                .isEqualByComparingTo(expected);
    }

    @Test
    void emptyIsTheIdentityAndValueMeasuresAreAbsentWithoutValues() {
        Aggregate none = Aggregate.empty(VIEW);
        Aggregate some = foldAll(events(100, 3));
        Map<String, Double> before = some.measures();

        some.merge(Aggregate.empty(VIEW));

        assertThat(some.measures()).isEqualTo(before);
        assertThat(none.measures())
                .containsEntry("count", 0.0)
                .containsEntry("sum", null)
                .containsEntry("p95", null);
        Aggregate noValue = Aggregate.empty(VIEW)
                .fold(Event.newBuilder(value(1)).setValue(null).build());
        assertThat(noValue.measures()).containsEntry("count", 1.0).containsEntry("min", null);
    }

    @Test
    void encodingRoundTripsAndRefusesAnUnknownVersion() {
        Aggregate a = foldAll(events(5_000, 4));

        byte[] bytes = AggregateCodec.encode(a);
        Aggregate decoded = AggregateCodec.decode(VIEW, bytes);

        assertThat(bytes[0]).isEqualTo(AggregateCodec.VERSION);
        assertThat(decoded.measures()).isEqualTo(a.measures());
        assertThat(AggregateCodec.decode(VIEW, AggregateCodec.encode(Aggregate.empty(VIEW)))
                        .isEmpty())
                .isTrue();
        bytes[0] = 9;
        assertThatThrownBy(() -> AggregateCodec.decode(VIEW, bytes))
                .hasMessage("aggregate of view all_measures has format version 9; this build reads version 1 only");
        assertThatThrownBy(() -> AggregateCodec.decode(VIEW, new byte[] {1, 2}))
                .hasMessageStartingWith("corrupt aggregate of view all_measures");
    }

    @Test
    void viewsFilterGroupAndAlignWindowsToTheEpoch() {
        ViewDefinition v =
                ViewConfig.parse("""
                views: [{name: v, filter: {types: [t], attributes: {site: a}}, groupBy: [type, attributes.unit], window: 5m, measures: [count]}]
                """.getBytes(StandardCharsets.UTF_8)).get(0);
        Event e = Event.newBuilder(value(1)).setAttributes(Map.of("site", "a")).build();

        assertThat(v.matches(e)).isTrue();
        assertThat(v.matches(Event.newBuilder(e).setType("other").build())).isFalse();
        assertThat(v.matches(
                        Event.newBuilder(e).setAttributes(Map.of("site", "b")).build()))
                .isFalse();
        assertThat(v.group(e)).containsExactly("t", "");
        assertThat(v.windowStart(Instant.parse("2026-03-01T12:07:59.999Z")))
                .isEqualTo(Instant.parse("2026-03-01T12:05:00Z"));
    }

    static Event value(double v) {
        return Event.newBuilder()
                .setId("x")
                .setSource("s")
                .setType("t")
                .setTime(T0)
                .setIngestTime(T0)
                .setValue(v)
                .setAttributes(Map.of("site", "a"))
                .build();
    }
}
