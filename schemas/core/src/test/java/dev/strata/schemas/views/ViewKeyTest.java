package dev.strata.schemas.views;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.BiPredicate;
import org.junit.jupiter.api.Test;

class ViewKeyTest {

    @Test
    void keysRoundTripWithAnyGroupValues() {
        ViewKey key = new ViewKey(
                "events_per_source_1m",
                List.of("plant-3/dev|7", "", "ünïcode"),
                1_700_000_040_000L,
                1_700_000_100_000L);

        assertThat(ViewKey.decode(key.encode())).isEqualTo(key);
        assertThat(ViewKey.decode(new ViewKey("v", List.of(), 0, 0).encode()).group())
                .isEmpty();
    }

    @Test
    void prefixesSelectExactlyAViewsOrAGroupsKeys() {
        byte[] key = new ViewKey("ab", List.of("g", "h"), 60_000, 0).encode();
        BiPredicate<byte[], byte[]> startsWith = (k, p) -> Arrays.equals(k, 0, p.length, p, 0, p.length);

        assertThat(startsWith.test(key, ViewKey.prefix("ab", Optional.empty()))).isTrue();
        assertThat(startsWith.test(key, ViewKey.prefix("ab", Optional.of(List.of("g", "h")))))
                .isTrue();
        assertThat(startsWith.test(key, ViewKey.prefix("a", Optional.empty()))).isFalse();
        assertThat(startsWith.test(key, ViewKey.prefix("ab", Optional.of(List.of("g")))))
                .isFalse();
        assertThat(startsWith.test(key, ViewKey.prefix("ab", Optional.of(List.of("g", "")))))
                .isFalse();
    }

    @Test
    void bucketsRoundAppendTimeDown() {
        assertThat(ViewKey.bucketOf(1_700_000_059_999L, 60_000)).isEqualTo(1_700_000_040_000L);
        assertThat(ViewKey.bucketOf(1_700_000_040_000L, 60_000)).isEqualTo(1_700_000_040_000L);
    }

    @Test
    void unknownVersionsAreRefusedByName() {
        byte[] bytes = new ViewKey("v", List.of("g"), 0, 0).encode();
        bytes[0] = 7;
        assertThatThrownBy(() -> ViewKey.decode(bytes))
                .hasMessage("view key has format version 7; this build reads version 1 only");
        assertThatThrownBy(() -> BatchCommit.decode("{\"version\":9,\"run\":1,\"cutMillis\":0,\"snapshot\":\"x\"}"
                        .getBytes(StandardCharsets.UTF_8)))
                .hasMessage("batch commit has format version 9; this build reads versions 1 to 3");
    }

    @Test
    void batchCommitsRoundTrip() {
        BatchCommit commit = BatchCommit.of(12, 1_700_000_040_000L, "strata.batch_views@12", CutSettings.DEFAULTS);

        assertThat(new String(commit.encode(), StandardCharsets.UTF_8)).contains("\"cutMillis\":1700000040000");
        assertThat(BatchCommit.decode(commit.encode())).isEqualTo(commit);
    }
}
