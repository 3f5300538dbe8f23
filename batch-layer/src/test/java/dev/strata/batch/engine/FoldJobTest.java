package dev.strata.batch.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.batch.engine.FoldJob.Candidate;
import dev.strata.schemas.Event;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FoldJobTest {

    static Candidate row(String id, long appendTime, long position) {
        // As the fold builds it: the ingest time is not read from the lake (the event time stands in).
        Event event = new Event(
                id, "s", "t", Instant.ofEpochMilli(60_000), 1.0, Map.of("k", "v"), Instant.ofEpochMilli(60_000));
        return new Candidate(id, appendTime, position, 3, event);
    }

    @Test
    void perIdTheFirstAppendCountsAndLaterOnesWithinTheHorizonAreRetries() {
        List<Candidate> rows = List.of(
                row("a", 5_000, 7),
                row("a", 1_000, 9),
                row("a", 1_000, 2), // a: 1000@2 counts, 1000@9 and 5000 retries
                row("a", 12_000, 1), // a again after the horizon (10 s) of the last counted: counts
                row("b", 3_000, 4), // b alone (its hash collided with a's, say): counts
                row("c", 2_000, 5),
                row("c", 11_999, 6)); // c: second within 9,999 ms: retry

        List<Candidate> counted = FoldJob.counted(rows, 10_000);

        assertThat(counted)
                .extracting(c -> c.id() + "@" + c.appendTime() + "#" + c.position())
                .containsExactlyInAnyOrder("a@1000#2", "a@12000#1", "b@3000#4", "c@2000#5");
    }

    @Test
    void aCandidateRowSurvivesItsEncoding() {
        Candidate row = row("id-ü", 123, (2L << 48) | 77);

        Candidate decoded = Candidate.decode(row.encode());

        assertThat(decoded).isEqualTo(row);
    }
}
