package dev.strata.batch.lake;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

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
    public record Commit(int version, long run, long cutMillis, List<OffsetRange> ranges, List<String> files, long rows,
            long skipped) {}

    public static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;

    public Manifest(Path lakeRoot) throws IOException {
        this.dir = lakeRoot.resolve("_manifest");
        Files.createDirectories(dir);
    }

    public void recordIntent(Intent intent) throws IOException {
        writeAtomically(dir.resolve(name(intent.run(), "intent")), JSON.writeValueAsBytes(intent));
    }

    public void commit(Commit commit) throws IOException {
        writeAtomically(dir.resolve(name(commit.run(), "commit")), JSON.writeValueAsBytes(commit));
    }

    public List<Commit> commits() throws IOException {
        List<Commit> commits = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".commit.json")).sorted().toList()) {
                Commit c = JSON.readValue(p.toFile(), Commit.class);
                if (c.version() != VERSION) {
                    throw new IOException(p + " has manifest version " + c.version() + "; this build reads " + VERSION);
                }
                commits.add(c);
            }
        }
        return commits;
    }

    /** The newest intent that has no commit, if any. */
    public Optional<Intent> pending() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".intent.json"))
                    .sorted(java.util.Comparator.reverseOrder()).toList()) {
                Intent i = JSON.readValue(p.toFile(), Intent.class);
                if (!Files.exists(dir.resolve(name(i.run(), "commit")))) {
                    return Optional.of(i);
                }
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    public long lastRun() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("run-"))
                    .mapToLong(n -> Long.parseLong(n.substring(4, n.indexOf('.')))).max().orElse(0);
        }
    }

    static String name(long run, String kind) {
        return String.format("run-%08d.%s.json", run, kind);
    }

    static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path temp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.write(temp, bytes);
        try (var channel = java.nio.channels.FileChannel.open(temp, java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the lake's file system cannot rename atomically: " + target, e);
        }
    }
}
