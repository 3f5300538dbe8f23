package dev.strata.lake;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * {@code --lake} and {@code --catalog-uri}: where the lake's tables live and which catalog holds
 * them, as every component that reads or writes the lake takes them.
 */
public final class LakeOptions {

    public static final String DEFAULT_LAKE = "data/lake";

    @Option(
            names = "--lake",
            defaultValue = "${env:STRATA_LAKE}",
            description = {
                "The lake's warehouse: a directory (env STRATA_LAKE). Default: " + DEFAULT_LAKE,
                "(the gateway takes file uploads only when it is given)"
            })
    String lake;

    @Option(
            names = "--catalog-uri",
            defaultValue = "${env:STRATA_CATALOG_URI}",
            description = {
                "The lake's Iceberg catalog: a JDBC URL (jdbc:sqlite:FILE, jdbc:postgresql://HOST/DB) or a REST catalog's",
                "http(s):// URL (env STRATA_CATALOG_URI). Default: the embedded catalog, jdbc:sqlite:<lake>/catalog.db"
            })
    String catalogUri;

    @Option(
            names = "--catalog-user",
            defaultValue = "${env:STRATA_CATALOG_USER}",
            description = "User of a JDBC catalog (env STRATA_CATALOG_USER)")
    String catalogUser;

    @Option(
            names = "--catalog-password",
            defaultValue = "${env:STRATA_CATALOG_PASSWORD}",
            description = "Password of a JDBC catalog, or a REST catalog's token (env STRATA_CATALOG_PASSWORD)")
    String catalogPassword;

    /** Whether --lake (or STRATA_LAKE) was given. */
    public boolean given() {
        return lake != null && !lake.isBlank();
    }

    /** The lake's warehouse as given, or the default. */
    public String lake() {
        return given() ? lake : DEFAULT_LAKE;
    }

    public LakeConfig config() {
        Map<String, String> properties = new HashMap<>();
        if (catalogUser != null && !catalogUser.isBlank()) {
            properties.put("jdbc.user", catalogUser);
        }
        if (catalogPassword != null && !catalogPassword.isBlank()) {
            properties.put("jdbc.password", catalogPassword);
            properties.put("token", catalogPassword);
        }
        if (catalogUri == null || catalogUri.isBlank()) {
            LakeConfig local = LakeConfig.local(Path.of(lake()));
            return new LakeConfig(local.warehouse(), local.catalogUri(), properties);
        }
        String warehouse = lake().contains("://")
                ? lake()
                : Path.of(lake()).toAbsolutePath().normalize().toString();
        return new LakeConfig(warehouse, catalogUri, properties);
    }
}
