package dev.strata.serving.lake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.schemas.lake.DatasetManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The lake's tables as files: {@code events} (the archive's committed files, from the run log
 * {@code lake/_manifest/run-*.commit.json}: files of an uncommitted run are never listed) and every
 * uploaded dataset ({@code lake/{dataset}/_dataset.json}). What the catalog describes and SQL reads.
 */
public final class LakeTables {

    public static final String EVENTS = "events";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A table: its name, kind ({@code events} or {@code dataset}), its files, rows, bytes, newest
     * change, the cut (events only), its partition directories and, for a dataset, its manifest.
     */
    public record Table(
            String name,
            String kind,
            List<Path> files,
            long rows,
            long bytes,
            long updatedMillis,
            OptionalLong cutMillis,
            List<String> partitions,
            Optional<DatasetManifest> dataset) {}

    private final Path lake;
    /** Commit entries by file name: written once, whole, and never changed, so each is read once. */
    private final ConcurrentHashMap<String, JsonNode> commits = new ConcurrentHashMap<>();

    public LakeTables(Path lake) {
        this.lake = lake.toAbsolutePath().normalize();
    }

    public Path lake() {
        return lake;
    }

    public List<Table> tables() throws IOException {
        List<Table> tables = new ArrayList<>();
        tables.add(events());
        if (Files.isDirectory(lake)) {
            try (Stream<Path> dirs = Files.list(lake)) {
                for (Path dir : dirs.filter(Files::isDirectory).sorted().toList()) {
                    String name = dir.getFileName().toString();
                    if (DatasetManifest.invalidName(name).isPresent()) {
                        continue;
                    }
                    Optional<DatasetManifest> manifest = DatasetManifest.read(dir);
                    if (manifest.isPresent()) {
                        tables.add(dataset(dir, manifest.get()));
                    }
                }
            }
        }
        return tables;
    }

    public Optional<Table> table(String name) throws IOException {
        return tables().stream().filter(t -> t.name().equals(name)).findFirst();
    }

    private Table events() throws IOException {
        Path manifest = lake.resolve("_manifest");
        Path events = lake.resolve(EVENTS);
        List<Path> files = new ArrayList<>();
        TreeSet<String> partitions = new TreeSet<>();
        long rows = 0;
        long bytes = 0;
        long updated = 0;
        long cut = Long.MIN_VALUE;
        if (Files.isDirectory(manifest)) {
            try (Stream<Path> entries = Files.list(manifest)) {
                for (Path commit : entries.filter(
                                p -> p.getFileName().toString().endsWith(".commit.json"))
                        .sorted()
                        .toList()) {
                    JsonNode c = commits.get(commit.getFileName().toString());
                    if (c == null) {
                        c = JSON.readTree(commit.toFile());
                        commits.put(commit.getFileName().toString(), c);
                    }
                    rows += c.path("rows").asLong();
                    cut = Math.max(cut, c.path("cutMillis").asLong());
                    updated =
                            Math.max(updated, Files.getLastModifiedTime(commit).toMillis());
                    for (JsonNode f : c.path("files")) {
                        Path file = events.resolve(f.asText()).normalize();
                        if (!file.startsWith(events) || !Files.isRegularFile(file)) {
                            continue; // a file the log names but the lake lost: not readable, not counted
                        }
                        files.add(file);
                        bytes += Files.size(file);
                        partitions.add(events.relativize(file.getParent()).toString());
                    }
                }
            }
        }
        files.sort(Comparator.naturalOrder());
        return new Table(
                EVENTS,
                "events",
                files,
                rows,
                bytes,
                updated,
                cut == Long.MIN_VALUE ? OptionalLong.empty() : OptionalLong.of(cut),
                List.copyOf(partitions),
                Optional.empty());
    }

    private static Table dataset(Path dir, DatasetManifest manifest) {
        List<Path> files = new ArrayList<>();
        TreeSet<String> partitions = new TreeSet<>();
        long updated = 0;
        for (DatasetManifest.DataFile f : manifest.files()) {
            Path file = dir.resolve(f.path()).normalize();
            if (file.startsWith(dir) && Files.isRegularFile(file)) {
                files.add(file);
                partitions.add(dir.relativize(file.getParent()).toString());
            }
            updated = Math.max(updated, f.addedMillis());
        }
        return new Table(
                manifest.name(),
                "dataset",
                files,
                manifest.rows(),
                manifest.bytes(),
                updated,
                OptionalLong.empty(),
                List.copyOf(partitions),
                Optional.of(manifest));
    }
}
