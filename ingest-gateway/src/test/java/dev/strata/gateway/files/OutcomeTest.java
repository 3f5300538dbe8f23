package dev.strata.gateway.files;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutcomeTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Upload UPLOAD =
            new Upload("u-1", "sales", FileFormat.CSV, "http", null, "raw/sales/u-1.csv", 42, "ab", 1_000);

    @Test
    void anOutcomeIsOneFlatJsonObjectAndReadsBackAsItWasWritten() throws Exception {
        Outcome added = Outcome.added(
                UPLOAD,
                "5 row(s) added",
                new Outcome.Added(
                        5L,
                        1L,
                        "rejects/sales/u-1.rejects.ndjson",
                        List.of(new Outcome.Reject(8, "bad")),
                        "sales/p.parquet",
                        List.of("sales/p.parquet"),
                        1,
                        true,
                        List.of()),
                2_000);
        Outcome refused = Outcome.refused(UPLOAD, 409, "column 'km' is a long", 2_000);

        JsonNode json = JSON.readTree(JSON.writeValueAsBytes(added));
        assertThat(json.get("upload").asText()).isEqualTo("u-1");
        assertThat(json.get("status").asText()).isEqualTo("added");
        assertThat(json.get("rows").asLong()).isEqualTo(5);
        assertThat(json.get("firstRejects").get(0).get("line").asLong()).isEqualTo(8);
        assertThat(JSON.readValue(JSON.writeValueAsBytes(added), Outcome.class)).isEqualTo(added);

        JsonNode refusedJson = JSON.readTree(JSON.writeValueAsBytes(refused));
        assertThat(refusedJson.get("status").asText()).isEqualTo("refused");
        assertThat(refusedJson.has("rows")).isFalse();
        assertThat(JSON.readValue(JSON.writeValueAsBytes(refused), Outcome.class))
                .isEqualTo(refused);
    }
}
