package dev.strata.lake;

import dev.strata.schemas.lake.DatasetColumn;
import dev.strata.schemas.lake.DatasetNames;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.jdbc.UncheckedSQLException;
import org.apache.iceberg.rest.RESTCatalog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lake: Apache Iceberg tables in a catalog. Every read and write of the lake goes through here
 * (the batch layer's archive and recompute, the serving layer's catalog and SQL); nothing else
 * builds lake paths. Tables live in the {@code strata} namespace.
 */
public final class Lake implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Lake.class);

    public static final Namespace NAMESPACE = Namespace.of("strata");

    private final LakeConfig config;
    private final Catalog catalog;
    private final FileIO io;
    private final LakeFiles files;

    private Lake(LakeConfig config, Catalog catalog, FileIO io) {
        this.config = config;
        this.catalog = catalog;
        this.io = io;
        this.files = new LakeFiles(config, io);
    }

    /**
     * Opens the lake's catalog (creating the embedded one, and the namespace, on first use).
     *
     * @throws LakeLayoutException for a directory that holds the previous layout of the lake
     * @throws IllegalArgumentException for a catalog URI that is neither JDBC nor REST
     */
    public static Lake open(LakeConfig config) {
        if (config.localWarehouse()) {
            Path dir = config.localDirectory();
            Optional<String> earlier = earlierLayout(dir);
            if (earlier.isPresent()) {
                throw new LakeLayoutException(
                        "the lake in " + dir + " is in the layout of earlier builds (" + earlier.get()
                                + "), which this build does not read: it keeps the lake as Apache Iceberg tables. Move that"
                                + " directory aside (or delete it) and start again: the events still in Kafka are archived"
                                + " anew, and the uploaded files can be uploaded again from the old directory's raw zone"
                                + " (raw/{dataset}/)");
            }
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create the lake directory " + dir, e);
            }
        }
        Map<String, String> properties = new HashMap<>(config.properties());
        properties.put(CatalogProperties.WAREHOUSE_LOCATION, config.warehouse());
        properties.put(CatalogProperties.URI, config.catalogUri());
        properties.putIfAbsent(CatalogProperties.FILE_IO_IMPL, LakeFileIO.class.getName());
        Catalog catalog;
        String uri = config.catalogUri();
        if (uri.startsWith("jdbc:")) {
            if (uri.startsWith("jdbc:sqlite:")) {
                // Several processes share the file: wait for another's write instead of failing at once.
                properties.putIfAbsent(JdbcCatalog.PROPERTY_PREFIX + "busy_timeout", "60000");
            }
            properties.putIfAbsent(JdbcCatalog.PROPERTY_PREFIX + "schema-version", "V1");
            catalog = jdbcCatalog(properties);
        } else if (uri.startsWith("http://") || uri.startsWith("https://")) {
            RESTCatalog rest = new RESTCatalog();
            rest.setConf(new Configuration());
            rest.initialize("strata", properties);
            catalog = rest;
        } else {
            throw new IllegalArgumentException("the catalog URI '" + uri
                    + "' is neither a JDBC URL (jdbc:sqlite:FILE, jdbc:postgresql://HOST/DB) nor a REST catalog's"
                    + " http(s):// URL");
        }
        if (catalog instanceof SupportsNamespaces namespaces) {
            for (Namespace namespace : List.of(NAMESPACE, CuratedTable.NAMESPACE)) {
                if (!namespaces.namespaceExists(namespace)) {
                    try {
                        namespaces.createNamespace(namespace);
                    } catch (RuntimeException e) {
                        // Another process created it a moment ago: AlreadyExistsException, or from the JDBC
                        // catalog (it checks, then inserts) the unique key's SQL error for the loser of the race
                        // between the two. The namespace being there now is all this needs.
                        if (!namespaces.namespaceExists(namespace)) {
                            throw e;
                        }
                    }
                }
            }
        }
        LOG.info("Lake: {}", config.describe());
        FileIO io =
                CatalogUtil.loadFileIO(properties.get(CatalogProperties.FILE_IO_IMPL), properties, new Configuration());
        return new Lake(config, catalog, io);
    }

    /** What marks a directory as a lake of earlier builds: their run log, or a dataset manifest. */
    static Optional<String> earlierLayout(Path dir) {
        if (Files.isDirectory(dir.resolve("_manifest"))) {
            return Optional.of("a run log in _manifest/");
        }
        if (Files.isDirectory(dir)) {
            try (var children = Files.list(dir)) {
                Optional<Path> manifest = children.map(c -> c.resolve("_dataset.json"))
                        .filter(Files::isRegularFile)
                        .findFirst();
                if (manifest.isPresent()) {
                    return Optional.of("a dataset manifest " + dir.relativize(manifest.get()));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list the lake directory " + dir, e);
            }
        }
        return Optional.empty();
    }

    /**
     * A JDBC catalog. Processes that start together (the stack's batch scheduler and serving layer,
     * racing operators) may each find the catalog's own tables missing and create them at once; the
     * one that loses that race opens the catalog again.
     */
    private static JdbcCatalog jdbcCatalog(Map<String, String> properties) {
        for (int attempt = 1; ; attempt++) {
            JdbcCatalog jdbc = new JdbcCatalog();
            jdbc.setConf(new Configuration());
            try {
                jdbc.initialize("strata", properties);
                return jdbc;
            } catch (UncheckedSQLException e) {
                if (attempt == 5) {
                    throw e;
                }
                LOG.info("Opening the catalog met another process setting it up ({}); opening again", e.getMessage());
                try {
                    Thread.sleep(100L * attempt);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    public LakeConfig config() {
        return config;
    }

    /** The lake's file I/O (local, or the object store's), which reads any table's files. */
    public FileIO io() {
        return io;
    }

    public Catalog catalog() {
        return catalog;
    }

    /** The master dataset: every archived event. */
    public EventsTable events() {
        return new EventsTable(table(EventsTable.NAME, EventsTable.SCHEMA, EventsTable.SPEC, EventsTable.PROPERTIES));
    }

    /** The batch views: one row per cell, a batch snapshot per Iceberg snapshot. */
    public ViewsTable views() {
        return new ViewsTable(table(ViewsTable.NAME, ViewsTable.SCHEMA, ViewsTable.SPEC, ViewsTable.PROPERTIES));
    }

    /** The lake's files that are no table's: the raw zone and the rejected rows. */
    public LakeFiles files() {
        return files;
    }

    /** The uploaded datasets, by name. */
    public List<String> datasets() {
        List<String> names = new ArrayList<>();
        for (TableIdentifier id : catalog.listTables(NAMESPACE)) {
            if (DatasetNames.invalid(id.name()).isEmpty()) {
                names.add(id.name());
            }
        }
        names.sort(Comparator.naturalOrder());
        return names;
    }

    /** An uploaded dataset, if there is one by that name. */
    public Optional<DatasetTable> dataset(String name) {
        try {
            return Optional.of(new DatasetTable(name, catalog.loadTable(TableIdentifier.of(NAMESPACE, name))));
        } catch (NoSuchTableException e) {
            return Optional.empty();
        }
    }

    /** Creates a dataset with its first upload's columns (or loads it, if another process created it first). */
    public DatasetTable createDataset(String name, List<DatasetColumn> columns) {
        DatasetNames.invalid(name).ifPresent(problem -> {
            throw new IllegalArgumentException(problem);
        });
        Schema schema = DatasetTable.initialSchema(columns);
        return new DatasetTable(name, table(name, schema, DatasetTable.spec(schema), DatasetTable.PROPERTIES));
    }

    /** The transforms' output tables, by name. */
    public List<String> curatedTables() {
        List<String> names = new ArrayList<>();
        for (TableIdentifier id : catalog.listTables(CuratedTable.NAMESPACE)) {
            names.add(id.name());
        }
        names.sort(Comparator.naturalOrder());
        return names;
    }

    /** A transform's output table, if there is one by that name. */
    public Optional<CuratedTable> curated(String name) {
        try {
            return Optional.of(
                    new CuratedTable(name, catalog.loadTable(TableIdentifier.of(CuratedTable.NAMESPACE, name))));
        } catch (NoSuchTableException e) {
            return Optional.empty();
        }
    }

    /** Creates a transform's output table (or loads it, if another process created it first). */
    public CuratedTable createCurated(String name, Schema schema, PartitionSpec spec) {
        return new CuratedTable(name, table(CuratedTable.NAMESPACE, name, schema, spec, CuratedTable.PROPERTIES));
    }

    /** A table of the lake, created as described if it does not exist yet (by whichever process comes first). */
    Table table(String name, Schema schema, PartitionSpec spec, Map<String, String> properties) {
        return table(NAMESPACE, name, schema, spec, properties);
    }

    private Table table(
            Namespace namespace, String name, Schema schema, PartitionSpec spec, Map<String, String> properties) {
        TableIdentifier id = TableIdentifier.of(namespace, name);
        try {
            return catalog.loadTable(id);
        } catch (NoSuchTableException e) {
            try {
                return catalog.buildTable(id, schema)
                        .withPartitionSpec(spec)
                        .withProperties(properties)
                        .create();
            } catch (AlreadyExistsException raced) {
                return catalog.loadTable(id);
            }
        }
    }

    @Override
    public void close() throws IOException {
        io.close();
        if (catalog instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            }
        }
    }
}
