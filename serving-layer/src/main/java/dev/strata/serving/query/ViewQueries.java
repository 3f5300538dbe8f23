package dev.strata.serving.query;

import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.Measure;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import dev.strata.serving.merge.Merge;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The view API's queries, without HTTP: parameters are parsed into typed queries (a bad one throws
 * {@link BadRequest} with its status and reason), and a query is answered from one batch snapshot
 * and the speed cells at or after its cut.
 */
public final class ViewQueries {

    /** A view's window size divides a day; a window start this far from now is nonsense. */
    private static final long MAX_TIME = Instant.parse("9999-12-31T00:00:00Z").toEpochMilli();

    private final Map<String, ViewDefinition> views = new LinkedHashMap<>();
    private final int maxPoints;
    private final Clock clock;

    /** @param maxPoints most points per group one series may hold (422 beyond) */
    public ViewQueries(List<ViewDefinition> views, int maxPoints, Clock clock) {
        views.forEach(v -> this.views.put(v.name(), v));
        this.maxPoints = maxPoints;
        this.clock = clock;
    }

    /** Windows starting in [from, to), rolled up to points {@code width} wide. */
    public record Range(long from, long to, long width) {
        boolean covers(long windowStart) {
            return windowStart >= from && windowStart < to;
        }
    }

    /** A series query: one view, one group or all, a range. */
    public record SeriesQuery(ViewDefinition view, Optional<List<String>> group, Range range) {
        /** The keys of the cells it reads start with this. */
        public byte[] prefix() {
            return ViewKey.prefix(view.name(), group);
        }

        /** Equal for queries that must get equal answers. */
        public String cacheKey() {
            return "series|" + view.name() + "|" + group.map(List::toString).orElse("*") + "|" + range;
        }
    }

    /** A top query: one view's groups ranked by one measure over a range. */
    public record TopQuery(ViewDefinition view, String measure, int n, Range range) {
        public byte[] prefix() {
            return ViewKey.prefix(view.name(), Optional.empty());
        }

        public String cacheKey() {
            return "top|" + view.name() + "|" + measure + "|" + n + "|" + range;
        }
    }

    public ViewDefinition view(String name) {
        ViewDefinition view = views.get(name);
        if (view == null) {
            throw new BadRequest(404, "no view '" + name + "' (views: " + views.keySet() + ")");
        }
        return view;
    }

    public SeriesQuery seriesQuery(String viewName, Params params) {
        ViewDefinition view = view(viewName);
        return new SeriesQuery(view, group(params, view), range(params, view));
    }

    public TopQuery topQuery(String viewName, Params params) {
        ViewDefinition view = view(viewName);
        Range range = range(params, view);
        String measure = Optional.ofNullable(params.get("measure")).orElse("count");
        if (view.measures().stream().noneMatch(m -> m.name().equals(measure))) {
            throw new BadRequest(
                    400,
                    "view '" + view.name() + "' has no measure '" + measure + "' (measures: "
                            + view.measures().stream().map(Measure::name).toList() + ")");
        }
        return new TopQuery(view, measure, intParam(params, "n", 10, 1, 1000), range);
    }

    /** The cut, the snapshot, the speed store and the views' definitions. */
    public Answers.Views views(BatchSide batch, SpeedSide speed, Optional<Answers.RefusedCommit> refused) {
        Optional<BatchCommit> commit = batch.commit();
        long newest = speed.newestUpdateMillis();
        List<Answers.View> list = new ArrayList<>();
        for (ViewDefinition view : views.values()) {
            list.add(new Answers.View(
                    view.name(),
                    view.types().stream().sorted().toList(),
                    view.attributes(),
                    view.groupBy(),
                    view.window().toString(),
                    view.measures().stream().map(Measure::name).toList()));
        }
        return new Answers.Views(
                Instant.ofEpochMilli(batch.cutMillis()).toString(),
                batch.cutMillis(),
                commit.map(c -> new Answers.Batch(c.run(), c.snapshot())).orElse(null),
                refused.orElse(null),
                new Answers.Speed(
                        speed.stateName(),
                        speed.lag(),
                        newest >= 0 ? Instant.ofEpochMilli(newest).toString() : null,
                        newest >= 0 ? Math.max(0, clock.millis() - newest) : null),
                list);
    }

    public Answers.Series series(SeriesQuery query, BatchSide batch, SpeedSide speed) {
        Range range = query.range();
        List<Answers.Point> points = new ArrayList<>();
        for (Merge.Point p : merged(query.view(), query.prefix(), query.group(), range, batch, speed)) {
            points.add(new Answers.Point(
                    p.group(),
                    Instant.ofEpochMilli(p.startMillis()).toString(),
                    p.startMillis(),
                    p.aggregate().measures()));
        }
        return new Answers.Series(
                query.view().name(),
                Instant.ofEpochMilli(range.from()).toString(),
                Instant.ofEpochMilli(range.to()).toString(),
                Duration.ofMillis(range.width()).toString(),
                Instant.ofEpochMilli(batch.cutMillis()).toString(),
                points);
    }

    /** Ranked over the view's own windows: the range's step plays no part. */
    public Answers.Top top(TopQuery query, BatchSide batch, SpeedSide speed) {
        ViewDefinition view = query.view();
        Range windows = new Range(
                query.range().from(), query.range().to(), view.window().toMillis());
        Map<List<String>, Aggregate> byGroup = new LinkedHashMap<>();
        for (Merge.Point p : merged(view, query.prefix(), Optional.empty(), windows, batch, speed)) {
            byGroup.computeIfAbsent(p.group(), g -> Aggregate.empty(view)).merge(p.aggregate());
        }
        record Ranked(List<String> group, Double value) {}
        List<Ranked> ranked = new ArrayList<>();
        byGroup.forEach((g, a) -> ranked.add(new Ranked(g, a.measures().get(query.measure()))));
        ranked.sort(Comparator.comparing(Ranked::value, Comparator.nullsLast(Comparator.reverseOrder()))
                .thenComparing(r -> String.join("\u0000", r.group())));
        List<Answers.RankedGroup> groups = ranked.subList(0, Math.min(query.n(), ranked.size())).stream()
                .map(r -> new Answers.RankedGroup(
                        r.group(), r.value(), byGroup.get(r.group()).measures()))
                .toList();
        return new Answers.Top(
                view.name(),
                query.measure(),
                Instant.ofEpochMilli(query.range().from()).toString(),
                Instant.ofEpochMilli(query.range().to()).toString(),
                Instant.ofEpochMilli(batch.cutMillis()).toString(),
                groups);
    }

    /**
     * The merged points of one snapshot: its cells and the speed cells at or after its cut, of
     * windows in the range (only those cells' states are decoded).
     */
    private static List<Merge.Point> merged(
            ViewDefinition view,
            byte[] prefix,
            Optional<List<String>> group,
            Range range,
            BatchSide batch,
            SpeedSide speed) {
        if (!speed.running()) {
            throw new BadRequest(503, "the speed views store is " + speed.stateName() + "; try again shortly");
        }
        long cut = batch.cutMillis();
        List<Map.Entry<ViewKey, Aggregate>> batchCells = new ArrayList<>();
        batch.scan(prefix, view, k -> range.covers(k.windowStartMillis()), batchCells::add);
        List<Map.Entry<ViewKey, Aggregate>> speedCells = new ArrayList<>();
        speed.scan(prefix, view, k -> k.bucketMillis() >= cut && range.covers(k.windowStartMillis()), speedCells::add);
        return Merge.series(
                view,
                cut,
                batchCells,
                speedCells,
                new Merge.Query(group, range.from(), range.to(), Optional.of(Duration.ofMillis(range.width()))));
    }

    private Range range(Params params, ViewDefinition view) {
        long window = view.window().toMillis();
        long width = window;
        String step = params.get("step");
        if (step != null) {
            width = duration(step).toMillis();
            if (width <= 0 || width % window != 0) {
                throw new BadRequest(
                        400, "step " + step + " is not a positive multiple of the view's window " + view.window());
            }
        }
        long now = clock.millis();
        long to = time(params, "to").orElse(Math.floorDiv(now, width) * width + width);
        long from = time(params, "from")
                .orElse(to - Math.max(width, Duration.ofHours(1).toMillis()));
        if (from >= to) {
            throw new BadRequest(
                    400,
                    "from (" + Instant.ofEpochMilli(from) + ") must be before to (" + Instant.ofEpochMilli(to) + ")");
        }
        // The windows a range covers start at or after from and before to: name them by their bounds,
        // so equal queries (a dashboard polling "the last hour") get equal answers and ETags.
        from = Math.floorDiv(from + window - 1, window) * window;
        to = Math.floorDiv(to + window - 1, window) * window;
        if (from >= to) {
            throw new BadRequest(
                    400,
                    "the range holds no window start of " + view.window() + " (from " + Instant.ofEpochMilli(from)
                            + ", to " + Instant.ofEpochMilli(to) + ")");
        }
        long points = (to - from + width - 1) / width;
        if (points > maxPoints) {
            throw new BadRequest(
                    422,
                    "the range holds " + points + " points of " + Duration.ofMillis(width) + " per group; the limit is "
                            + maxPoints + " (narrow the range or use a larger step)");
        }
        return new Range(from, to, width);
    }

    private static Optional<Long> time(Params params, String name) {
        String value = params.get(name);
        if (value == null || value.isEmpty()) {
            return Optional.empty();
        }
        long millis;
        if (value.matches("-?\\d{1,19}")) {
            try {
                millis = Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new BadRequest(400, name + " '" + value + "' is out of range");
            }
        } else {
            try {
                millis = Instant.parse(value).toEpochMilli();
            } catch (DateTimeParseException | ArithmeticException e) {
                throw new BadRequest(
                        400,
                        name + " '" + value + "' is neither ISO-8601 (2026-11-23T10:00:00Z) nor epoch milliseconds");
            }
        }
        if (millis < 0 || millis > MAX_TIME) {
            throw new BadRequest(400, name + " '" + value + "' is outside 1970 to 9999");
        }
        return Optional.of(millis);
    }

    /** {@code PT1H}, or the view config's short form ({@code 30s}, {@code 5m}, {@code 1h}, {@code 1d}). */
    static Duration duration(String value) {
        try {
            return value.startsWith("P") || value.startsWith("p") ? Duration.parse(value) : ViewConfig.size(value);
        } catch (RuntimeException e) {
            throw new BadRequest(400, "step '" + value + "' is not a duration (PT1H, or 30s, 5m, 1h, 1d)");
        }
    }

    private static Optional<List<String>> group(Params params, ViewDefinition view) {
        List<String> values = params.all("group");
        if (values.isEmpty()) {
            return Optional.empty();
        }
        if (values.size() != view.groupBy().size()) {
            throw new BadRequest(
                    400,
                    "view '" + view.name() + "' groups by " + view.groupBy() + ": give "
                            + view.groupBy().size() + " group value(s), one group parameter each, in that order");
        }
        return Optional.of(List.copyOf(values));
    }

    private static int intParam(Params params, String name, int fallback, int min, int max) {
        String value = params.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new BadRequest(400, name + " '" + value + "' must be a whole number from " + min + " to " + max);
    }
}
