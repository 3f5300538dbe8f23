package dev.strata.schemas.views;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.schemas.Event;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SnapshotCodecTest {

    static final List<ViewDefinition> VIEWS = ViewConfig.defaults();
    static final Map<String, ViewDefinition> BY_NAME =
            Map.of(VIEWS.get(0).name(), VIEWS.get(0), VIEWS.get(1).name(), VIEWS.get(1));

    @Test
    void roundTripsEveryCellWithItsMeasuresRunAndCut() {
        Map<ViewKey, Aggregate> cells = new HashMap<>();
        for (int i = 0; i < 20; i++) {
            Event e = new Event(
                    "e-" + i,
                    "s-" + (i % 3),
                    i % 2 == 0 ? "t" : "u",
                    Instant.ofEpochMilli(60_000L * i),
                    (double) i,
                    Map.of(),
                    Instant.ofEpochMilli(0));
            for (ViewDefinition v : VIEWS) {
                cells.computeIfAbsent(
                                new ViewKey(
                                        v.name(),
                                        v.group(e),
                                        v.windowStart(e.getTime()).toEpochMilli(),
                                        0),
                                k -> Aggregate.empty(v))
                        .fold(e);
            }
        }
        SnapshotCodec.Decoded back = SnapshotCodec.decode(SnapshotCodec.encode(7, 1_234, cells), BY_NAME);

        assertThat(back.run()).isEqualTo(7);
        assertThat(back.cutMillis()).isEqualTo(1_234);
        assertThat(back.cells()).hasSameSizeAs(cells);
        cells.forEach((k, a) -> assertThat(back.cells().get(k).measures()).isEqualTo(a.measures()));
        // Cells of a view no longer defined are left out.
        assertThat(SnapshotCodec.decode(
                                SnapshotCodec.encode(7, 1_234, cells),
                                Map.of(VIEWS.get(0).name(), VIEWS.get(0)))
                        .cells())
                .allSatisfy(
                        (k, a) -> assertThat(k.view()).isEqualTo(VIEWS.get(0).name()));
    }

    @Test
    void refusesBytesThatAreNotASnapshotOrOfAnotherVersion() {
        assertThatThrownBy(() -> SnapshotCodec.decode("hello".getBytes(StandardCharsets.US_ASCII), BY_NAME))
                .hasMessage("not a Strata snapshot");
        byte[] bytes = SnapshotCodec.encode(1, 2, Map.of());
        bytes[SnapshotCodec.MAGIC.length() + 3] = 9;
        assertThatThrownBy(() -> SnapshotCodec.decode(bytes, BY_NAME))
                .hasMessage("snapshot version 9; this build reads 1");
    }
}
