package dev.strata.schemas.transforms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TransformConfigTest {

    static List<TransformDefinition> parse(String yaml) {
        return TransformConfig.parse(yaml.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theShippedExamplesLoad() {
        assertThat(TransformConfig.defaults())
                .extracting(TransformDefinition::name)
                .containsExactly("temperature_readings", "daily_source_summary");
        TransformDefinition readings = TransformConfig.defaults().get(0);
        assertThat(readings.mode()).isEqualTo(TransformDefinition.Mode.INCREMENTAL);
        assertThat(readings.incremental()).contains("events");
        assertThat(readings.partitionBy()).containsExactly("day(time)");
        TransformDefinition summary = TransformConfig.defaults().get(1);
        assertThat(summary.mode()).isEqualTo(TransformDefinition.Mode.REPLACE);
        assertThat(summary.every()).contains(Duration.ofMinutes(15));
        assertThat(summary.onNewInput()).isTrue();
    }

    @Test
    void defaultsAreIncrementalOverEventsOnNewInput() {
        TransformDefinition t = parse("""
                transforms:
                  - name: a
                    sql: "SELECT id FROM events;"
                    output: {table: a_out}
                """).get(0);
        assertThat(t.sql()).isEqualTo("SELECT id FROM events");
        assertThat(t.incremental()).contains("events");
        assertThat(t.every()).isEqualTo(Optional.empty());
        assertThat(t.onNewInput()).isTrue();
        assertThat(TransformConfig.PartitionField.parse("hour( t )"))
                .isEqualTo(new TransformConfig.PartitionField("hour", "t"));
        assertThat(TransformConfig.PartitionField.parse("site"))
                .isEqualTo(new TransformConfig.PartitionField("identity", "site"));
    }

    @Test
    void eachBadTransformIsRefusedAtLoadNamingItAndTheProblem() {
        String ok = "sql: SELECT 1\n    output: {table: out}\n";
        assertThatThrownBy(() -> parse("transforms:\n  - name: Bad-Name\n    " + ok))
                .hasMessageContaining("transform 'Bad-Name': name must be lowercase");
        assertThatThrownBy(
                        () -> parse("transforms:\n  - name: a\n    sql: DROP TABLE events\n    output: {table: o}\n"))
                .hasMessageContaining("transform 'a': sql must be a query")
                .hasMessageContaining("'DROP …'");
        assertThatThrownBy(() -> parse("transforms:\n  - name: a\n    sql: SELECT 1\n"))
                .hasMessageContaining("transform 'a': no output table");
        assertThatThrownBy(() -> parse("transforms:\n  - name: a\n    sql: SELECT 1\n    output: {table: events}\n"))
                .hasMessageContaining("output table 'events' is the lake's own");
        assertThatThrownBy(() -> parse("transforms:\n  - name: a\n    " + ok + "    mode: upsert\n"))
                .hasMessageContaining("mode 'upsert': incremental or replace");
        assertThatThrownBy(
                        () -> parse(
                                "transforms:\n  - name: a\n    sql: SELECT 1\n    output: {table: o, partitionBy: [\"week(t)\"]}\n"))
                .hasMessageContaining("partitionBy 'week(t)'");
        assertThatThrownBy(() -> parse("transforms:\n  - name: a\n    " + ok + "    incremental: batch_views\n"))
                .hasMessageContaining("batch_views is replaced by every recompute");
        assertThatThrownBy(() ->
                        parse("transforms:\n  - name: a\n    " + ok + "    mode: replace\n    incremental: events\n"))
                .hasMessageContaining("only mode: incremental reads one incrementally");
        assertThatThrownBy(() -> parse("transforms:\n  - name: a\n    " + ok + "    trigger: {every: 5m}\n"))
                .hasMessageContaining("trigger.every '5m' is not an ISO-8601 duration");
        assertThatThrownBy(() -> parse("transforms:\n  - name: a\n    " + ok + "    trigger: {onNewInput: false}\n"))
                .hasMessageContaining("would never run");
        assertThatThrownBy(() -> parse("transforms:\n  - name: a\n    " + ok
                        + "  - name: a\n    sql: SELECT 2\n    output: {table: other}\n"))
                .hasMessageContaining("duplicate name");
        assertThatThrownBy(() -> parse("transforms:\n  - name: a\n    " + ok + "  - name: b\n    " + ok))
                .hasMessageContaining("transform 'b': output table 'out' is already transform 'a''s");
        assertThatThrownBy(() -> parse("transforms:\n  - name: a\n    " + ok + "    colour: blue\n"))
                .hasMessageContaining("not a transform config");
    }
}
