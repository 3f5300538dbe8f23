package dev.strata.batch.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.lake.IdentityIndex;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.table.data.StringData;
import org.junit.jupiter.api.Test;

class FoldJobTest {

    static CandidateRow row(String id, long appendTime, long position) {
        return row("s", id, appendTime, position);
    }

    static CandidateRow row(String source, String id, long appendTime, long position) {
        return new CandidateRow(id, appendTime, position, 3, source, "t", 60_000, 1.0, Map.of("k", "v"));
    }

    @Test
    void perIdTheFirstAppendCountsAndLaterOnesWithinTheHorizonAreRetries() {
        List<CandidateRow> rows = List.of(
                row("a", 5_000, 7),
                row("a", 1_000, 9),
                row("a", 1_000, 2), // a: 1000@2 counts, 1000@9 and 5000 retries
                row("a", 12_000, 1), // a again after the horizon (10 s) of the last counted: counts
                row("b", 3_000, 4), // b alone (its hash collided with a's, say): counts
                row("c", 2_000, 5),
                row("c", 11_999, 6)); // c: second within 9,999 ms: retry

        List<CandidateRow> counted = Retries.counted(rows, 10_000);

        assertThat(counted)
                .extracting(c -> c.id() + "@" + c.appendTime() + "#" + c.position())
                .containsExactlyInAnyOrder("a@1000#2", "a@12000#1", "b@3000#4", "c@2000#5");
    }

    @Test
    void twoSourcesThatUseTheSameIdAreTwoEvents() {
        List<CandidateRow> rows = List.of(
                row("dev-1", "42", 1_000, 1),
                row("dev-2", "42", 2_000, 2), // another device's 42: counts
                row("dev-1", "42", 3_000, 3)); // dev-1's retry

        assertThat(Retries.counted(rows, 10_000))
                .extracting(c -> c.source() + "/" + c.id())
                .containsExactlyInAnyOrder("dev-1/42", "dev-2/42");
    }

    @Test
    void theIdentityHashTellsTheSourceFromTheId() {
        assertThat(RetryCandidates.identityHash(StringData.fromString("ab"), StringData.fromString("c")))
                .isNotEqualTo(RetryCandidates.identityHash(StringData.fromString("a"), StringData.fromString("bc")))
                .isNotEqualTo(RetryCandidates.identityHash(StringData.fromString("dev-2"), StringData.fromString("c")));
        assertThat(RetryCandidates.identityHash(StringData.fromString("ab"), StringData.fromString("c")))
                .isEqualTo(RetryCandidates.identityHash(StringData.fromString("ab"), StringData.fromString("c")));
    }

    @Test
    void theFoldComputesTheHashTheIdentityIndexesHold() {
        for (String[] identity : new String[][] {{"dev-1", "42"}, {"ü-séoul", "id/ñ-😀"}, {"", ""}, {"s", "e-0-1"}}) {
            assertThat(RetryCandidates.identityHash(
                            StringData.fromString(identity[0]), StringData.fromString(identity[1])))
                    .isEqualTo(IdentityIndex.hash(identity[0], identity[1]));
        }
    }

    @Test
    void anEarlierRowWithoutTheFoldedFieldsTravelsToo() throws Exception {
        TypeSerializer<CandidateRow> rows = CandidateRow.TYPE.createSerializer(new SerializerConfigImpl());
        CandidateRow earlier = new CandidateRow("id", 123, 77, 2, "s", null, 0, null, null);
        DataOutputSerializer out = new DataOutputSerializer(64);
        rows.serialize(earlier, out);
        assertThat(rows.deserialize(new DataInputDeserializer(out.getCopyOfBuffer())))
                .isEqualTo(earlier);
    }

    @Test
    void theFoldsOutputsTravelThroughFlinksOwnSerializersWithoutKryo() throws Exception {
        TypeSerializer<CandidateRow> rows = CandidateRow.TYPE.createSerializer(new SerializerConfigImpl());
        TypeSerializer<PartialCell> cells = PartialCell.TYPE.createSerializer(new SerializerConfigImpl());
        CandidateRow row = new CandidateRow("id-ü", 123, (2L << 48) | 77, 4, "s", "t", 60_000, null, Map.of("k", "v"));
        PartialCell cell = new PartialCell("v", List.of("g1", "g2"), 60_000, new byte[] {1, 2, 3});

        DataOutputSerializer out = new DataOutputSerializer(256);
        rows.serialize(row, out);
        cells.serialize(cell, out);
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());

        assertThat(rows.deserialize(in)).isEqualTo(row);
        PartialCell back = cells.deserialize(in);
        assertThat(back.group()).containsExactly("g1", "g2");
        assertThat(back.state()).containsExactly(1, 2, 3);
        assertThat(CandidateRow.TYPE.toString()).doesNotContain("GenericType");
        assertThat(PartialCell.TYPE.toString()).doesNotContain("GenericType");
    }
}
