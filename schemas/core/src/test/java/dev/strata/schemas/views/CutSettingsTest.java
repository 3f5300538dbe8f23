package dev.strata.schemas.views;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CutSettingsTest {

    static final long CUT = 1_795_464_600_000L; // a whole minute

    @Test
    void aCommitCarriesItsSettingsAndALayerWithTheSameTakesIt() {
        BatchCommit commit = BatchCommit.decode(
                BatchCommit.of(3, CUT, "v-3", CutSettings.DEFAULTS).encode());

        assertThat(commit.settings()).contains(CutSettings.DEFAULTS);
        assertThat(CutSettings.DEFAULTS.refusal(commit, "speed layer")).isEmpty();
    }

    @Test
    void aLayerRefusesACommitComputedWithOtherSettingsNamingBothAndTheFix() {
        CutSettings halfMinute = new CutSettings(Duration.ofSeconds(30), Duration.ofHours(24));
        BatchCommit commit = BatchCommit.of(3, CUT + 30_000, "v-3", halfMinute);

        assertThat(CutSettings.DEFAULTS.refusal(commit, "serving layer"))
                .hasValueSatisfying(reason -> assertThat(reason)
                        .contains("run 3")
                        .contains("bucket PT30S and dedup horizon PT24H")
                        .contains("this serving layer runs with bucket PT1M and dedup horizon PT24H")
                        .contains("same --bucket and --dedup-horizon"));
        CutSettings shortHorizon = new CutSettings(Duration.ofMinutes(1), Duration.ofHours(1));
        assertThat(CutSettings.DEFAULTS.refusal(BatchCommit.of(4, CUT, "v-4", shortHorizon), "speed layer"))
                .hasValueSatisfying(reason -> assertThat(reason).contains("dedup horizon PT1H"));
    }

    @Test
    void aCommitOfAnOlderBuildHasNoSettingsAndOnlyItsCutIsChecked() {
        byte[] v1 = ("{\"version\":1,\"run\":2,\"cutMillis\":" + (CUT + 30_000) + ",\"snapshot\":\"v-2\"}")
                .getBytes(StandardCharsets.UTF_8);
        BatchCommit commit = BatchCommit.decode(v1);

        assertThat(commit.settings()).isEmpty();
        assertThat(CutSettings.DEFAULTS.refusal(commit, "speed layer"))
                .hasValueSatisfying(
                        reason -> assertThat(reason).contains("not a multiple of this speed layer's bucket"));
        assertThat(new CutSettings(Duration.ofSeconds(30), Duration.ofHours(24)).refusal(commit, "speed layer"))
                .isEmpty();
    }

    @Test
    void unknownVersionsAndBadSettingsAreRefusedByName() {
        assertThatThrownBy(() -> BatchCommit.decode("{\"version\":3,\"run\":1,\"cutMillis\":0,\"snapshot\":\"s\"}"
                        .getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("format version 3");
        assertThatThrownBy(() -> BatchCommit.decode("{\"version\":2,\"run\":1,\"cutMillis\":0,\"snapshot\":\"s\"}"
                        .getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("lacks bucketMillis");
        assertThatThrownBy(() -> new CutSettings(Duration.ZERO, Duration.ofHours(1)))
                .hasMessageContaining("ingest bucket must be a positive");
    }
}
