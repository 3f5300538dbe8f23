package dev.strata.batch.transform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.lake.EventsTable;
import org.junit.jupiter.api.Test;

class LakeTypesTest {

    @Test
    void aQueryReadsOnlyTheColumnsItNamesUnlessItCouldUseOthersUnnamed() {
        assertThat(LakeTypes.input(
                                EventsTable.SCHEMA,
                                LakeTypes.named(
                                        "SELECT source, count(*) AS n, max(`Time`) FROM events WHERE type = 'x' GROUP BY source"))
                        .names())
                .containsExactly("source", "type", "time");
        assertThat(LakeTypes.named("SELECT * FROM events")).isNull();
        assertThat(LakeTypes.named("SELECT e.*, s.region FROM events e JOIN sites s ON e.id = s.id"))
                .isNull();
        assertThat(LakeTypes.named("SELECT `value` * 2 FROM events"))
                .as("a product: every column, to be safe")
                .isNull();
        assertThat(LakeTypes.named("SELECT id FROM events NATURAL JOIN sites")).isNull();
        assertThat(LakeTypes.input(EventsTable.SCHEMA, null).names())
                .as("every column SQL can read")
                .hasSize(EventsTable.SCHEMA.columns().size());
    }
}
