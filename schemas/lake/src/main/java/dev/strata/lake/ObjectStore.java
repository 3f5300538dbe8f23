package dev.strata.lake;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * How to reach the S3-compatible store a lake lives on: the endpoint (empty: AWS itself), region,
 * credentials (empty: the AWS SDK's default chain — environment, profile, instance role) and
 * whether buckets are addressed by path ({@code http://host/bucket/key}, as S3Proxy and MinIO want)
 * or by host name (AWS). Iceberg's {@code S3FileIO} and Flink's S3 file system are set from it.
 */
public record ObjectStore(
        Optional<String> endpoint,
        Optional<String> region,
        Optional<String> accessKey,
        Optional<String> secretKey,
        boolean pathStyle)
        implements Serializable {

    /** The default region when none is given: S3-compatible stores accept any. */
    public static final String DEFAULT_REGION = "us-east-1";

    public static final ObjectStore DEFAULTS =
            new ObjectStore(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), false);

    /**
     * An S3-compatible server addressed by path (S3Proxy, MinIO; the stack's own {@code strata s3}) at
     * {@code endpoint} with these credentials, in the default region.
     */
    public static ObjectStore pathStyle(String endpoint, String accessKey, String secretKey) {
        return new ObjectStore(
                Optional.ofNullable(endpoint),
                Optional.empty(),
                Optional.ofNullable(accessKey),
                Optional.ofNullable(secretKey),
                true);
    }

    /** The properties of Iceberg's catalog and FileIO ({@code S3FileIO}). */
    public Map<String, String> icebergProperties() {
        Map<String, String> p = new HashMap<>();
        endpoint.ifPresent(e -> p.put("s3.endpoint", e));
        p.put("s3.path-style-access", Boolean.toString(pathStyle));
        p.put("client.region", region.orElse(DEFAULT_REGION));
        accessKey.ifPresent(k -> p.put("s3.access-key-id", k));
        secretKey.ifPresent(k -> p.put("s3.secret-access-key", k));
        // The JDK's HTTP client: no Apache or Netty client on the classpath.
        p.put("http-client.type", "urlconnection");
        return p;
    }

    /** The keys of Flink's S3 file system ({@code flink-s3-fs-hadoop}: S3A), for the batch jobs. */
    public Map<String, String> flinkProperties() {
        Map<String, String> p = new HashMap<>();
        endpoint.ifPresent(e -> p.put("s3.endpoint", e));
        p.put("s3.path.style.access", Boolean.toString(pathStyle));
        p.put("s3.endpoint.region", region.orElse(DEFAULT_REGION));
        accessKey.ifPresent(k -> p.put("s3.access-key", k));
        secretKey.ifPresent(k -> p.put("s3.secret-key", k));
        return p;
    }

    /** For logs: everything but the secret key. */
    public String describe() {
        return "endpoint " + endpoint.orElse("AWS") + ", region " + region.orElse(DEFAULT_REGION) + ", "
                + (pathStyle ? "path-style" : "virtual-host") + " addressing, "
                + (accessKey.isPresent() ? "access key " + accessKey.get() : "the AWS SDK's default credentials");
    }

    /** Never the secret key: the record is printed in effective configurations. */
    @Override
    public String toString() {
        return "ObjectStore[" + describe() + (secretKey.isPresent() ? ", secret key [hidden]" : "") + "]";
    }
}
