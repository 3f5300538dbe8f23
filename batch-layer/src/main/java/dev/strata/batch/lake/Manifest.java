package dev.strata.batch.lake;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.Path;

/**
 * The lake's run log beside the data ({@code lake/_manifest/}): before a run writes anything, its
 * intent (cut and per-partition offset ranges) is recorded; committing writes the run's commit
 * entry. Each entry is one file, written whole and renamed into place atomically, so a crash leaves
 * either no entry or a complete one. A run with an intent and no commit is pending: recovery
 * deletes its files and re-executes exactly that intent.
 */
public final class Manifest {

    /** The Kafka offsets [from, until) of one partition that a run archives. */
    public record OffsetRange(int partition, long from, long until) {}

    /** What a run is about to do. */
    public record Intent(int version, long run, long cutMillis, List<OffsetRange> ranges) {}

    /** What a run did: its files (relative to the events dataset) and rows. */
    public record Commit(
            int version,
            long run,
            long cutMillis,
            List<OffsetRange> ranges,
            List<String> files,
            long rows,
            long skipped) {}

    public static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;

    public Manifest(Path lakeRoot) {
        this.dir = new Path(lakeRoot, "_manifest");
    }

    public void recordIntent(Intent intent) throws IOException {
        LakeFs.writeAtomically(new Path(dir, name(intent.run(), "intent")), JSON.writeValueAsBytes(intent));
    }

    public void commit(Commit commit) throws IOException {
        LakeFs.writeAtomically(new Path(dir, name(commit.run(), "commit")), JSON.writeValueAsBytes(commit));
    }

    public List<Commit> commits() throws IOException {
        List<Commit> commits = new ArrayList<>();
        for (FileStatus s : LakeFs.list(dir)) {
            if (s.getPath().getName().endsWith(".commit.json")) {
                Commit c = JSON.readValue(LakeFs.read(s.getPath()), Commit.class);
                if (c.version() != VERSION) {
                    throw new IOException(
                            s.getPath() + " has manifest version " + c.version() + "; this build reads " + VERSION);
                }
                commits.add(c);
            }
        }
        return commits;
    }

    /** The newest intent, if it has no commit. */
    public Optional<Intent> pending() throws IOException {
        List<FileStatus> intents = LakeFs.list(dir).stream()
                .filter(s -> s.getPath().getName().endsWith(".intent.json"))
                .toList();
        if (intents.isEmpty()) {
            return Optional.empty();
        }
        Intent newest =
                JSON.readValue(LakeFs.read(intents.get(intents.size() - 1).getPath()), Intent.class);
        return LakeFs.exists(new Path(dir, name(newest.run(), "commit"))) ? Optional.empty() : Optional.of(newest);
    }

    public long lastRun() throws IOException {
        return LakeFs.list(dir).stream()
                .map(s -> s.getPath().getName())
                .filter(n -> n.startsWith("run-"))
                .mapToLong(n -> Long.parseLong(n.substring(4, n.indexOf('.'))))
                .max()
                .orElse(0);
    }

    static String name(long run, String kind) {
        return String.format("run-%08d.%s.json", run, kind);
    }
}
