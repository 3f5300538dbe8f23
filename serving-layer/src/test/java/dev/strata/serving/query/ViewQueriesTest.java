package dev.strata.serving.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.schemas.Event;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** The view queries without HTTP, Kafka or RocksDB: both sides of the merge held in memory. */
class ViewQueriesTest {

    static final List<ViewDefinition> VIEWS = ViewConfig.defaults();
    static final ViewDefinition PER_SOURCE = VIEWS.get(0);
    static final long MINUTE = 60_000;
    static final long T0 = Instant.parse("2026-11-30T10:00:00Z").toEpochMilli();
    static final long CUT = T0 + 5 * MINUTE;
    static final Clock CLOCK = Clock.fixed(Instant.ofEpochMilli(T0 + 30 * MINUTE), ZoneOffset.UTC);

    final ViewQueries queries = new ViewQueries(VIEWS, 100, CLOCK);

    /** Cells in memory, scanned by the prefix of their encoded keys as the stores do. */
    static class Cells implements CellSource {
        final Map<ViewKey, Aggregate> cells = new LinkedHashMap<>();

        void add(String source, long windowStart, long bucket, double value) {
            Event event = new Event(
                    "e", source, "temperature", Instant.ofEpochMilli(windowStart), value, Map.of(), Instant.EPOCH);
            cells.computeIfAbsent(
                            new ViewKey(PER_SOURCE.name(), List.of(source), windowStart, bucket),
                            k -> Aggregate.empty(PER_SOURCE))
                    .fold(event);
        }

        @Override
        public void scan(
                byte[] prefix,
                ViewDefinition view,
                Predicate<ViewKey> wanted,
                Consumer<Map.Entry<ViewKey, Aggregate>> out) {
            cells.forEach((key, aggregate) -> {
                byte[] encoded = key.encode();
                if (encoded.length >= prefix.length
                        && Arrays.equals(encoded, 0, prefix.length, prefix, 0, prefix.length)
                        && wanted.test(key)) {
                    out.accept(Map.entry(key, aggregate));
                }
            });
        }
    }

    static class Batch extends Cells implements BatchSide {
        @Override
        public Optional<BatchCommit> commit() {
            return Optional.of(BatchCommit.of(7, CUT, "v-7", CutSettings.DEFAULTS));
        }
    }

    static class Speed extends Cells implements SpeedSide {
        boolean running = true;

        @Override
        public boolean running() {
            return running;
        }

        @Override
        public String stateName() {
            return running ? "RUNNING" : "REBALANCING";
        }

        @Override
        public long lag() {
            return 0;
        }

        @Override
        public long newestUpdateMillis() {
            return T0 + 29 * MINUTE;
        }

        @Override
        public long version(byte[] prefix) {
            return 0;
        }
    }

    final Batch batch = new Batch();
    final Speed speed = new Speed();

    static Params params(String... pairs) {
        Map<String, List<String>> values = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            values.computeIfAbsent(pairs[i], k -> new ArrayList<>()).add(pairs[i + 1]);
        }
        return Params.of(values);
    }

    @Test
    void aSeriesMergesTheSnapshotWithTheSpeedCellsAtOrAfterItsCut() {
        batch.add("boiler-1", T0, 0, 10);
        speed.add("boiler-1", T0, T0, 99); // below the cut: in the snapshot already
        speed.add("boiler-1", T0, CUT, 20); // a late event of the same window, after the cut
        speed.add("boiler-2", T0 + MINUTE, CUT + MINUTE, 5);

        Answers.Series series = queries.series(
                queries.seriesQuery(PER_SOURCE.name(), params("from", "" + T0, "to", "" + (T0 + 10 * MINUTE))),
                batch,
                speed);

        assertThat(series.cut()).isEqualTo(Instant.ofEpochMilli(CUT).toString());
        assertThat(series.step()).isEqualTo("PT1M");
        assertThat(series.points()).hasSize(2);
        Answers.Point first = series.points().get(0);
        assertThat(first.group()).containsExactly("boiler-1");
        assertThat(first.startMillis()).isEqualTo(T0);
        assertThat(first.measures()).containsEntry("count", 2.0).containsEntry("sum", 30.0);
        assertThat(series.points().get(1).group()).containsExactly("boiler-2");
    }

    @Test
    void topRanksTheGroupsOverTheRange() {
        batch.add("a", T0, 0, 1);
        speed.add("b", T0 + MINUTE, CUT, 1);
        speed.add("b", T0 + 2 * MINUTE, CUT, 1);

        Answers.Top top = queries.top(
                queries.topQuery(PER_SOURCE.name(), params("from", "" + T0, "to", "" + (T0 + 10 * MINUTE), "n", "1")),
                batch,
                speed);

        assertThat(top.measure()).isEqualTo("count");
        assertThat(top.groups()).hasSize(1);
        assertThat(top.groups().get(0).group()).containsExactly("b");
        assertThat(top.groups().get(0).value()).isEqualTo(2.0);
    }

    @Test
    void theViewsAnswerNamesTheSnapshotTheSpeedStoreAndARefusedCommit() {
        Answers.Views views = queries.views(batch, speed, Optional.of(new Answers.RefusedCommit(8, "settings differ")));

        assertThat(views.batch().run()).isEqualTo(7);
        assertThat(views.cutMillis()).isEqualTo(CUT);
        assertThat(views.refusedCommit().run()).isEqualTo(8);
        assertThat(views.speed().ageMs()).isEqualTo(MINUTE);
        assertThat(views.views()).extracting(Answers.View::name).contains(PER_SOURCE.name());
    }

    @Test
    void badParametersGetTheirStatusAndReason() {
        assertBad(() -> queries.seriesQuery("nope", params()), 404, "no view 'nope'");
        assertBad(() -> queries.seriesQuery(PER_SOURCE.name(), params("step", "90s")), 400, "not a positive multiple");
        assertBad(() -> queries.seriesQuery(PER_SOURCE.name(), params("from", "yesterday")), 400, "neither ISO-8601");
        assertBad(
                () -> queries.seriesQuery(PER_SOURCE.name(), params("from", "" + (T0 - 1_000 * MINUTE))),
                422,
                "the limit is 100");
        assertBad(() -> queries.seriesQuery(PER_SOURCE.name(), params("group", "a", "group", "b")), 400, "groups by");
        assertBad(() -> queries.topQuery(PER_SOURCE.name(), params("measure", "median")), 400, "no measure 'median'");
        assertBad(() -> queries.topQuery(PER_SOURCE.name(), params("n", "0")), 400, "from 1 to 1000");

        speed.running = false;
        ViewQueries.SeriesQuery query = queries.seriesQuery(PER_SOURCE.name(), params());
        assertBad(() -> queries.series(query, batch, speed), 503, "REBALANCING");
    }

    static void assertBad(Runnable query, int status, String reason) {
        assertThatThrownBy(query::run)
                .isInstanceOfSatisfying(
                        BadRequest.class, e -> assertThat(e.status()).isEqualTo(status))
                .hasMessageContaining(reason);
    }
}
