package dev.strata.lake;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.NoSuchTableException;
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

    private Lake(LakeConfig config, Catalog catalog) {
        this.config = config;
        this.catalog = catalog;
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
            if (Files.isDirectory(dir.resolve("_manifest"))) {
                throw new LakeLayoutException("the lake in " + dir + " is in the layout of earlier builds (a run log in"
                        + " _manifest/, Parquet files under events/ and per-dataset _dataset.json), which this build"
                        + " does not read: it keeps the lake as Apache Iceberg tables. Move that directory aside (or"
                        + " delete it) and start again: the events still in Kafka are archived anew, and files can be"
                        + " uploaded again from the raw zone (raw/) of the old directory");
            }
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create the lake directory " + dir, e);
            }
        }
        Map<String, String> properties = new HashMap<>(config.catalogProperties());
        properties.put(CatalogProperties.WAREHOUSE_LOCATION, config.warehouse());
        properties.put(CatalogProperties.URI, config.catalogUri());
        properties.putIfAbsent(CatalogProperties.FILE_IO_IMPL, "org.apache.iceberg.io.ResolvingFileIO");
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
        if (catalog instanceof SupportsNamespaces namespaces && !namespaces.namespaceExists(NAMESPACE)) {
            try {
                namespaces.createNamespace(NAMESPACE);
            } catch (AlreadyExistsException e) {
                // another process created it a moment ago
            }
        }
        LOG.info("Lake: {}", config.describe());
        return new Lake(config, catalog);
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

    /** A table of the lake, created as described if it does not exist yet (by whichever process comes first). */
    Table table(String name, Schema schema, PartitionSpec spec, Map<String, String> properties) {
        TableIdentifier id = TableIdentifier.of(NAMESPACE, name);
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
