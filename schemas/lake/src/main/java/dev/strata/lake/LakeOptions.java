package dev.strata.lake;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * Where the lake is, as every component that reads or writes it takes it: {@code --lake} (a local
 * directory, or {@code s3://bucket/prefix} on any S3-compatible store), the catalog that holds its
 * tables ({@code --catalog-uri}), and how to reach the object store ({@code --s3-*}; also from the
 * standard AWS environment variables, as other AWS tools read them).
 */
public final class LakeOptions {

    public static final String DEFAULT_LAKE = "data/lake";

    @Option(
            names = "--lake",
            defaultValue = "${env:STRATA_LAKE}",
            description = {
                "The lake's warehouse: a directory, or s3://BUCKET/PREFIX on an S3-compatible store (env STRATA_LAKE).",
                "Default: " + DEFAULT_LAKE + " (the gateway takes file uploads only when it is given)"
            })
    String lake;

    @Option(
            names = "--catalog-uri",
            defaultValue = "${env:STRATA_CATALOG_URI}",
            description = {
                "The lake's Iceberg catalog: a JDBC URL (jdbc:sqlite:FILE, jdbc:postgresql://HOST/DB) or a REST catalog's",
                "http(s):// URL (env STRATA_CATALOG_URI). Default for a local lake: the embedded catalog,",
                "jdbc:sqlite:<lake>/catalog.db; a lake on object storage needs one"
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

    @Option(
            names = "--s3-endpoint",
            defaultValue = "${env:AWS_ENDPOINT_URL_S3:-${env:AWS_ENDPOINT_URL}}",
            description =
                    "The S3-compatible store's URL, e.g. http://127.0.0.1:9000 (env AWS_ENDPOINT_URL). Default: AWS")
    String s3Endpoint;

    @Option(
            names = "--s3-region",
            defaultValue = "${env:AWS_REGION:-${env:AWS_DEFAULT_REGION}}",
            description = "The store's region (env AWS_REGION). Default: " + ObjectStore.DEFAULT_REGION)
    String s3Region;

    @Option(
            names = "--s3-access-key",
            defaultValue = "${env:AWS_ACCESS_KEY_ID}",
            description = "Access key (env AWS_ACCESS_KEY_ID). Default: the AWS SDK's default credentials chain")
    String s3AccessKey;

    @Option(
            names = "--s3-secret-key",
            defaultValue = "${env:AWS_SECRET_ACCESS_KEY}",
            description = "Secret key (env AWS_SECRET_ACCESS_KEY)")
    String s3SecretKey;

    @Option(
            names = "--s3-path-style",
            arity = "0..1",
            defaultValue = "${env:STRATA_S3_PATH_STYLE}",
            description = {
                "Address buckets by path (http://host/bucket/key), as S3Proxy and MinIO want (env STRATA_S3_PATH_STYLE).",
                "Default: true with --s3-endpoint, false on AWS"
            })
    Boolean s3PathStyle;

    /** Whether --lake (or STRATA_LAKE) was given. */
    public boolean given() {
        return lake != null && !lake.isBlank();
    }

    /** The lake's warehouse as given, or the default. */
    public String lake() {
        return given() ? lake : DEFAULT_LAKE;
    }

    /**
     * The lake these options name.
     *
     * @throws IllegalArgumentException for a lake on object storage without a catalog
     */
    public LakeConfig config() {
        Map<String, String> properties = new HashMap<>();
        if (present(catalogUser)) {
            properties.put("jdbc.user", catalogUser);
        }
        if (present(catalogPassword)) {
            properties.put("jdbc.password", catalogPassword);
            properties.put("token", catalogPassword);
        }
        boolean objectStore = lake().contains("://") && !lake().startsWith("file:");
        if (!present(catalogUri)) {
            if (objectStore) {
                throw new IllegalArgumentException("the lake " + lake() + " is on object storage: give its catalog with"
                        + " --catalog-uri (jdbc:postgresql://HOST/DB or a REST catalog's URL, shared by every process;"
                        + " or jdbc:sqlite:FILE when all of them run on one machine)");
            }
            LakeConfig local = LakeConfig.local(Path.of(lake()));
            return new LakeConfig(local.warehouse(), local.catalogUri(), properties, store());
        }
        String warehouse = objectStore
                ? lake()
                : Path.of(lake()).toAbsolutePath().normalize().toString();
        return new LakeConfig(warehouse, catalogUri, properties, store());
    }

    private ObjectStore store() {
        Optional<String> endpoint = Optional.ofNullable(s3Endpoint).filter(LakeOptions::present);
        return new ObjectStore(
                endpoint,
                Optional.ofNullable(s3Region).filter(LakeOptions::present),
                Optional.ofNullable(s3AccessKey).filter(LakeOptions::present),
                Optional.ofNullable(s3SecretKey).filter(LakeOptions::present),
                s3PathStyle != null ? s3PathStyle : endpoint.isPresent());
    }

    private static boolean present(String s) {
        return s != null && !s.isBlank();
    }
}
