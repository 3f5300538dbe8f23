package dev.strata.schemas.views;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ViewConfigTest {

    static List<ViewDefinition> parse(String yaml) {
        return ViewConfig.parse(yaml.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theDefaultViewsAreTheOnesTheStackPromises() {
        var views = ViewConfig.defaults();

        assertThat(views)
                .extracting(ViewDefinition::name)
                .containsExactly("events_per_source_1m", "events_per_type_1h");
        ViewDefinition perSource = views.get(0);
        assertThat(perSource.groupBy()).containsExactly("source");
        assertThat(perSource.window()).isEqualTo(Duration.ofMinutes(1));
        assertThat(perSource.measures())
                .extracting(Measure::name)
                .containsExactly("count", "sum", "min", "max", "avg", "p95");
        assertThat(views.get(1).measures()).extracting(Measure::name).containsExactly("count", "distinct_source");
    }

    @Test
    void parsesFiltersGroupsAndWindows() {
        ViewDefinition v = parse("""
                views:
                  - name: north_temps_5m
                    filter: {types: [temperature], attributes: {site: north}}
                    groupBy: [source, attributes.unit]
                    window: 5m
                    measures: [count, p99, "distinct(attributes.site)"]
                """).get(0);

        assertThat(v.types()).containsExactly("temperature");
        assertThat(v.attributes()).containsEntry("site", "north");
        assertThat(v.window()).isEqualTo(Duration.ofMinutes(5));
        assertThat(v.measures()).extracting(Measure::name).containsExactly("count", "p99", "distinct_site");
        assertThat(v.readsAttributes()).isTrue();
    }

    @Test
    void aViewReadsAttributesWhenItsFilterGroupsOrMeasuresNameOne() {
        String view = "views: [{name: v, window: 1m, %s}]";
        assertThat(parse(view.formatted("measures: [count]")).get(0).readsAttributes())
                .isFalse();
        assertThat(parse(view.formatted("groupBy: [source, type], measures: [sum, \"distinct(source)\"]"))
                        .get(0)
                        .readsAttributes())
                .isFalse();
        assertThat(parse(view.formatted("filter: {attributes: {site: north}}, measures: [count]"))
                        .get(0)
                        .readsAttributes())
                .isTrue();
        assertThat(parse(view.formatted("groupBy: [attributes.site], measures: [count]"))
                        .get(0)
                        .readsAttributes())
                .isTrue();
        assertThat(parse(view.formatted("measures: [\"distinct(attributes.site)\"]"))
                        .get(0)
                        .readsAttributes())
                .isTrue();
    }

    @Test
    void invalidViewsFailNamingTheViewAndTheProblem() {
        assertThatThrownBy(() -> parse("views: [{name: a, window: 1m, measures: [count, p101]}]"))
                .isInstanceOf(ViewConfigException.class)
                .hasMessageStartingWith("view 'a': unknown measure 'p101'");
        assertThatThrownBy(() -> parse("views: [{name: b, window: 7m, measures: [count]}]"))
                .hasMessageStartingWith("view 'b': bad window '7m': it must divide a day evenly");
        assertThatThrownBy(() -> parse("views: [{name: c, window: soon, measures: [count]}]"))
                .hasMessageStartingWith("view 'c': bad window 'soon'");
        assertThatThrownBy(() -> parse(
                        "views: [{name: d, window: 1m, measures: [count]}, {name: d, window: 1h, measures: [sum]}]"))
                .hasMessage("view 'd': duplicate name: another view is already called 'd'");
        assertThatThrownBy(() -> parse("views: [{name: e, window: 1m, groupBy: [device], measures: [count]}]"))
                .hasMessageStartingWith("view 'e': unknown field 'device'");
        assertThatThrownBy(() -> parse("views: [{name: f, window: 1m, measures: []}]"))
                .hasMessageStartingWith("view 'f': no measures");
        assertThatThrownBy(() -> parse("views: [{name: g, window: 1m, measures: [count], colour: red}]"))
                .hasMessageStartingWith("not a view config: Unrecognized field \"colour\"");
        assertThatThrownBy(() -> parse("views: []")).hasMessageStartingWith("no views");
    }
}
