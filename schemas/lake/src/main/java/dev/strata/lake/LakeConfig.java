package dev.strata.lake;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where the lake is: its warehouse (a local directory or an object-store URI, where the tables'
 * files live) and its catalog (where the tables' current metadata is swapped atomically): a JDBC
 * URL ({@code jdbc:sqlite:…} embedded, {@code jdbc:postgresql:…} shared) or an Iceberg REST
 * catalog's {@code http(s)://} URL, with the catalog's own properties (credentials, …).
 */
public record LakeConfig(
        String warehouse, String catalogUri, Map<String, String> catalogProperties, ObjectStore store) {

    /** The catalog file of a local lake when none is given: beside its tables, under the lake's directory. */
    public static final String EMBEDDED_CATALOG_FILE = "catalog.db";

    public LakeConfig {
        catalogProperties = Map.copyOf(catalogProperties);
    }

    public LakeConfig(String warehouse, String catalogUri, Map<String, String> catalogProperties) {
        this(warehouse, catalogUri, catalogProperties, ObjectStore.DEFAULTS);
    }

    /** A lake on an object store ({@code s3://bucket/prefix}) with the given catalog. */
    public static LakeConfig objectStore(String warehouse, String catalogUri, ObjectStore store) {
        return new LakeConfig(warehouse, catalogUri, Map.of(), store);
    }

    /** The properties the catalog and the lake's FileIO get: the catalog's own and the object store's. */
    public Map<String, String> properties() {
        Map<String, String> all = new java.util.HashMap<>(localWarehouse() ? Map.of() : store.icebergProperties());
        all.putAll(catalogProperties);
        return all;
    }

    /** A lake in a local directory with its embedded catalog (a SQLite file) inside it. */
    public static LakeConfig local(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        return new LakeConfig(abs.toString(), "jdbc:sqlite:" + abs.resolve(EMBEDDED_CATALOG_FILE), Map.of());
    }

    /** Whether the warehouse is a local directory (no scheme, or {@code file:}). */
    public boolean localWarehouse() {
        return !warehouse.contains("://") || warehouse.startsWith("file:");
    }

    /** The local directory of a local warehouse. */
    public Path localDirectory() {
        if (!localWarehouse()) {
            throw new IllegalStateException("the lake " + warehouse + " is not a local directory");
        }
        return Path.of(
                        warehouse.startsWith("file:")
                                ? java.net.URI.create(warehouse).getPath()
                                : warehouse)
                .toAbsolutePath()
                .normalize();
    }

    /** The settings of Flink's file systems that reach the lake's files (none for a local lake). */
    public Map<String, String> flinkProperties() {
        return localWarehouse() ? Map.of() : store.flinkProperties();
    }

    /** The catalog URI with passwords left out, and the object store, for logs. */
    public String describe() {
        return "warehouse " + warehouse + ", catalog " + catalogUri.replaceAll("password=[^&;]*", "password=[hidden]")
                + (localWarehouse() ? "" : " (" + store.describe() + ")");
    }

    /** Never a password or secret key: the record is printed in effective configurations. */
    @Override
    public String toString() {
        return "LakeConfig[" + describe() + "]";
    }
}
