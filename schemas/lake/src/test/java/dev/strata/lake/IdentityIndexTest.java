package dev.strata.lake;

import static dev.strata.lake.EventsTableTest.write;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.io.FileIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data file's identity index holds every row of it, sorted by the identity's hash, with the
 * identity, append time and place in Kafka the file holds; one cut short or damaged is built again;
 * racing builders leave one readable index.
 */
class IdentityIndexTest {

    @TempDir
    Path dir;

    @Test
    void holdsEveryRowOfItsFileSortedByHashWithWhatTheFileSays() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            FileIO io = lake.events().table().io();
            // 300 rows over a few hour files; offsets 0..299 of partition 1; ids e-1-<offset>.
            List<DataFile> files = write(lake.events(), 4, "a", 1, 0, 300);
            long rows = 0;
            for (DataFile file : files) {
                IdentityIndex index = IdentityIndex.of(io, file.location());
                long[] hashes = index.hashes();
                assertThat(hashes).hasSize((int) file.recordCount());
                assertThat(hashes).isSorted();
                List<IdentityIndex.Entry> all = index.entries(h -> true);
                assertThat(all).hasSize(hashes.length);
                for (IdentityIndex.Entry e : all) {
                    long offset = Long.parseLong(e.id().substring("e-1-".length()));
                    assertThat(e.source()).isEqualTo("s");
                    assertThat(e.hash()).isEqualTo(IdentityIndex.hash("s", e.id()));
                    assertThat(e.position()).isEqualTo((1L << 48) | offset);
                    assertThat(e.run()).isEqualTo(4);
                    assertThat(e.appendMillis())
                            .isEqualTo(
                                    EventsTableTest.T0.plusSeconds(offset * 90).toEpochMilli() + 5);
                }
                rows += hashes.length;
            }
            assertThat(rows).isEqualTo(300);

            // Only the rows asked for, from the blocks that hold them.
            DataFile first = files.get(0);
            IdentityIndex index = IdentityIndex.of(io, first.location());
            Set<Long> wanted = Arrays.stream(index.hashes()).limit(3).boxed().collect(Collectors.toSet());
            wanted.add(index.hashes()[index.hashes().length - 1]);
            assertThat(index.entries(wanted::contains))
                    .extracting(IdentityIndex.Entry::hash)
                    .containsExactlyInAnyOrderElementsOf(wanted);
        }
    }

    @Test
    void anIndexCutShortOrDamagedIsBuiltAgain() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            FileIO io = lake.events().table().io();
            DataFile file = write(lake.events(), 1, "a", 0, 0, 200).get(0);
            assertThat(IdentityIndex.open(io, file.location())).isEmpty();
            long[] hashes = IdentityIndex.of(io, file.location()).hashes();
            Path index = Path.of(OrphanFiles.normalize(IdentityIndex.location(file.location())));
            byte[] bytes = Files.readAllBytes(index);

            Files.write(index, Arrays.copyOf(bytes, bytes.length - 10));
            assertThat(IdentityIndex.open(io, file.location())).isEmpty();
            byte[] damaged = bytes.clone();
            damaged[40] ^= 1; // a bit of the first hash
            Files.write(index, damaged);
            assertThat(IdentityIndex.open(io, file.location())).isEmpty();

            assertThat(IdentityIndex.of(io, file.location()).hashes()).isEqualTo(hashes);
            assertThat(Files.readAllBytes(index)).isEqualTo(bytes);
        }
    }

    @Test
    void racingBuildersLeaveOneReadableIndex() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            FileIO io = lake.events().table().io();
            DataFile file = write(lake.events(), 1, "a", 0, 0, 200).get(0);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> builders = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    builders.add(pool.submit(() -> IdentityIndex.build(io, file.location())));
                }
                for (Future<?> b : builders) {
                    b.get();
                }
            } finally {
                pool.shutdown();
            }
            assertThat(IdentityIndex.open(io, file.location()))
                    .hasValueSatisfying(i -> assertThat(i.hashes()).hasSize((int) file.recordCount()));
            try (var listing =
                    Files.list(Path.of(OrphanFiles.normalize(file.location())).getParent())) {
                assertThat(listing.map(p -> p.getFileName().toString())).noneMatch(name -> name.endsWith(".tmp"));
            }
        }
    }
}
