package dev.strata.serving.lake;

import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.lake.TableVersion;
import dev.strata.lake.ViewsTable;
import dev.strata.schemas.lake.DatasetManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The lake's tables as readers see them: the Iceberg tables {@code events} and {@code batch_views}
 * (each its current snapshot: files of a run that never committed are never listed) and every uploaded dataset
 * ({@code lake/{dataset}/_dataset.json}). What the catalog describes and SQL reads.
 */
public final class LakeTables {

    public static final String EVENTS = "events";

    /**
     * A table: its name, kind ({@code events} or {@code dataset}), its files (local paths), whether
     * their directories are Hive partitions to read as columns, rows, bytes, newest change, the cut
     * (events only), its partitions, and its manifest (a dataset) or Iceberg version (an Iceberg table).
     */
    public record Table(
            String name,
            String kind,
            List<String> files,
            boolean hivePartitioned,
            long rows,
            long bytes,
            long updatedMillis,
            OptionalLong cutMillis,
            List<String> partitions,
            Optional<DatasetManifest> dataset,
            Optional<TableVersion> iceberg) {}

    public static final String BATCH_VIEWS = ViewsTable.NAME;

    private final Path root;
    private final org.apache.iceberg.Table events;
    private final org.apache.iceberg.Table views;
    private final ConcurrentHashMap<String, TableVersion> versions = new ConcurrentHashMap<>();

    /** The lake's tables; its local directory holds the uploaded datasets. */
    public LakeTables(Lake lake) {
        this.root = lake.config().localDirectory();
        this.events = lake.events().table();
        this.views = lake.views().table();
    }

    /** The lake's local directory: every file SQL may read is under it. */
    public Path lake() {
        return root;
    }

    public List<Table> tables() throws IOException {
        List<Table> tables = new ArrayList<>();
        tables.add(events());
        tables.add(iceberg(BATCH_VIEWS, "views", version(BATCH_VIEWS, views), OptionalLong.empty()));
        if (Files.isDirectory(root)) {
            try (Stream<Path> dirs = Files.list(root)) {
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

    private Table events() {
        TableVersion version = version(EVENTS, events);
        String cut = version.summary().get(EventsTable.LAST_CUT);
        return iceberg(
                EVENTS, "events", version, cut == null ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(cut)));
    }

    private static Table iceberg(String name, String kind, TableVersion version, OptionalLong cut) {
        return new Table(
                name,
                kind,
                version.files().stream().map(f -> local(f.location())).toList(),
                false,
                version.rows(),
                version.bytes(),
                version.committedMillis(),
                cut,
                List.copyOf(version.partitions()),
                Optional.empty(),
                Optional.of(version));
    }

    /** A table's current version, planned again only when the table has a new snapshot. */
    private TableVersion version(String name, org.apache.iceberg.Table table) {
        table.refresh();
        Long id =
                table.currentSnapshot() == null ? null : table.currentSnapshot().snapshotId();
        TableVersion cached = versions.get(name);
        if (cached != null && id != null && cached.snapshotId().equals(OptionalLong.of(id))) {
            return cached;
        }
        TableVersion now = TableVersion.of(name, table);
        versions.put(name, now);
        return now;
    }

    static String local(String location) {
        return location.startsWith("file:") ? java.net.URI.create(location).getPath() : location;
    }

    private static Table dataset(Path dir, DatasetManifest manifest) {
        List<String> files = new ArrayList<>();
        TreeSet<String> partitions = new TreeSet<>();
        long updated = 0;
        for (DatasetManifest.DataFile f : manifest.files()) {
            Path file = dir.resolve(f.path()).normalize();
            if (file.startsWith(dir) && Files.isRegularFile(file)) {
                files.add(file.toString());
                partitions.add(dir.relativize(file.getParent()).toString());
            }
            updated = Math.max(updated, f.addedMillis());
        }
        return new Table(
                manifest.name(),
                "dataset",
                files,
                true,
                manifest.rows(),
                manifest.bytes(),
                updated,
                OptionalLong.empty(),
                List.copyOf(partitions),
                Optional.of(manifest),
                Optional.empty());
    }
}
