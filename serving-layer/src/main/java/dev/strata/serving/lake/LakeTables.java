package dev.strata.serving.lake;

import dev.strata.lake.CuratedTable;
import dev.strata.lake.DatasetTable;
import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.lake.TableVersion;
import dev.strata.lake.ViewsTable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The lake's tables as readers see them: the Iceberg tables {@code events}, {@code batch_views},
 * every uploaded dataset and every transform's output, each the data files of its current snapshot as Iceberg plans them (so
 * a crashed run's leftovers are never read, and a reader sees whole commits only), planned again
 * only when the table has a new snapshot. What the catalog describes and SQL reads.
 */
public final class LakeTables {

    public static final String EVENTS = "events";
    public static final String BATCH_VIEWS = ViewsTable.NAME;

    /**
     * A table: its name, kind ({@code events}, {@code views}, {@code dataset} or {@code transform}), its files (local
     * paths for a local lake, the object store's locations otherwise) and their sizes, rows, bytes, newest commit, the cut (events only), its partitions and its Iceberg version.
     */
    public record Table(
            String name,
            String kind,
            List<String> files,
            List<Long> fileBytes,
            long rows,
            long bytes,
            long updatedMillis,
            OptionalLong cutMillis,
            List<String> partitions,
            TableVersion iceberg) {}

    private final Lake lake;
    private final boolean local;
    private final org.apache.iceberg.Table events;
    private final org.apache.iceberg.Table views;
    private final ConcurrentHashMap<String, org.apache.iceberg.Table> datasets = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, org.apache.iceberg.Table> curated = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, TableVersion> versions = new ConcurrentHashMap<>();

    public LakeTables(Lake lake) {
        this.lake = lake;
        this.local = lake.config().localWarehouse();
        this.events = lake.events().table();
        this.views = lake.views().table();
    }

    /** Where the lake is: its local directory, or its warehouse on object storage. */
    public String lake() {
        return local ? lake.config().localDirectory().toString() : lake.config().warehouse();
    }

    /** Whether the tables' files are local files, or objects to fetch before DuckDB reads them. */
    public boolean local() {
        return local;
    }

    /** The local directory of a local lake. */
    public Path localDirectory() {
        return lake.config().localDirectory();
    }

    /** The lake's file I/O, which reads the tables' files wherever they are. */
    public org.apache.iceberg.io.FileIO io() {
        return lake.io();
    }

    public List<Table> tables() {
        return tables(null);
    }

    /**
     * The tables whose lower-case names are in {@code named} (all for null): only those are looked
     * up and planned, so a query pays for the tables it reads, not for the lake's.
     */
    public List<Table> tables(Set<String> named) {
        List<Table> tables = new ArrayList<>();
        if (wanted(named, EVENTS)) {
            tables.add(events());
        }
        if (wanted(named, BATCH_VIEWS)) {
            tables.add(iceberg(BATCH_VIEWS, "views", version(BATCH_VIEWS, views), OptionalLong.empty()));
        }
        for (String name : lake.datasets()) {
            if (!wanted(named, name)) {
                continue;
            }
            org.apache.iceberg.Table table = datasets.get(name);
            if (table == null) {
                Optional<DatasetTable> loaded = lake.dataset(name);
                if (loaded.isEmpty()) {
                    continue; // dropped meanwhile
                }
                table = loaded.get().table();
                datasets.put(name, table);
            }
            tables.add(iceberg(name, "dataset", version(name, table), OptionalLong.empty()));
        }
        for (String name : lake.curatedTables()) {
            if (!wanted(named, name)) {
                continue;
            }
            org.apache.iceberg.Table table = curated.get(name);
            if (table == null) {
                Optional<CuratedTable> loaded = lake.curated(name);
                if (loaded.isEmpty()) {
                    continue;
                }
                table = loaded.get().table();
                curated.put(name, table);
            }
            tables.add(iceberg(name, "transform", version("curated." + name, table), OptionalLong.empty()));
        }
        return tables;
    }

    private static boolean wanted(Set<String> named, String name) {
        return named == null || named.contains(name.toLowerCase(Locale.ROOT));
    }

    public Optional<Table> table(String name) {
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
                version.files().stream().map(TableVersion.DataFileEntry::bytes).toList(),
                version.rows(),
                version.bytes(),
                version.committedMillis(),
                cut,
                List.copyOf(version.partitions()),
                version);
    }

    /** A table's current version, planned again only when the table has a new snapshot. */
    private TableVersion version(String name, org.apache.iceberg.Table table) {
        table.refresh();
        Long id =
                table.currentSnapshot() == null ? null : table.currentSnapshot().snapshotId();
        TableVersion cached = versions.get(name);
        if (cached != null
                && cached.snapshotId().equals(id == null ? OptionalLong.empty() : OptionalLong.of(id))
                && cached.schema().schemaId() == table.schema().schemaId()) {
            return cached;
        }
        TableVersion now = TableVersion.of(name, table);
        versions.put(name, now);
        return now;
    }

    static String local(String location) {
        return location.startsWith("file:") ? java.net.URI.create(location).getPath() : location;
    }
}
