package dev.strata.batch.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LongHashSetTest {

    @Test
    void behavesAsAHashSetThroughGrowthWithZeroAndCollidingValues() {
        Random random = new Random(11);
        LongHashSet set = new LongHashSet();
        Set<Long> expected = new HashSet<>();
        for (int i = 0; i < 200_000; i++) {
            // Few distinct values in part (repeats), 0 and values equal in their low or high bits.
            long value = switch (i % 4) {
                case 0 -> random.nextInt(5_000);
                case 1 -> (long) random.nextInt(1_000) << 40;
                case 2 -> 0L;
                default -> random.nextLong();
            };
            assertThat(set.add(value)).as("add %d", value).isEqualTo(expected.add(value));
        }
        assertThat(set.size()).isEqualTo(expected.size());
        for (int i = 0; i < 100_000; i++) {
            long probe = i % 2 == 0 ? random.nextInt(10_000) : random.nextLong();
            assertThat(set.contains(probe)).as("contains %d", probe).isEqualTo(expected.contains(probe));
        }
        expected.forEach(v -> assertThat(set.contains(v)).isTrue());
        assertThat(new LongHashSet().contains(0)).isFalse();
    }
}
