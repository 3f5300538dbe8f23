package dev.strata.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.gateway.files.FileSettings;
import dev.strata.lake.DatasetTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import dev.strata.lake.ObjectStore;
import dev.strata.testing.KafkaBrokerExtension;
import dev.strata.testing.S3Server;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Uploads into a lake on a real S3 server (S3Proxy, its own process): the original kept in the
 * bucket's raw zone, the dataset an Iceberg table whose files are objects of the bucket, the same
 * bytes uploaded again answered as a duplicate of the first, nothing of the lake on the gateway's disk
 * but its spool.
 */
class FileUploadS3IT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP11 =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    @Test
    void anUploadBecomesADatasetInTheBucketOnce() throws Exception {
        try (S3Server s3 = S3Server.start(dir.resolve("s3"))) {
            LakeConfig lake = LakeConfig.objectStore(
                    s3.warehouse("lake"),
                    "jdbc:sqlite:" + dir.resolve("catalog.db"),
                    ObjectStore.pathStyle(s3.endpoint(), S3Server.ACCESS_KEY, S3Server.SECRET_KEY));
            try (GatewayFixture fixture = GatewayFixture.start(
                    KAFKA,
                    dir,
                    "files-s3",
                    c -> c.files(FileSettings.of(lake, dir.resolve("landing"))
                            .withSpool(dir.resolve("spool"))
                            .withTimes(Duration.ofMillis(100), Duration.ofMillis(300))))) {
                String ndjson = "{\"meter\":\"m1\",\"kwh\":1.5}\n{\"meter\":\"m2\",\"kwh\":2.25}\n{not json\n";
                HttpResponse<String> first = upload(fixture, ndjson);
                assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
                JsonNode outcome = JSON.readTree(first.body());
                assertThat(outcome.get("rows").asLong()).isEqualTo(2);
                assertThat(outcome.get("rejected").asLong()).isEqualTo(1);
                assertThat(outcome.get("file").asText()).startsWith("s3://" + S3Server.BUCKET + "/lake/");

                HttpResponse<String> again = upload(fixture, ndjson);
                assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
                assertThat(again.body())
                        .as("the same bytes again: a duplicate, nothing added")
                        .contains("nothing new was added")
                        .contains(outcome.get("file").asText());

                try (Lake opened = Lake.open(lake)) {
                    DatasetTable meters = opened.dataset("meters").orElseThrow();
                    try (CloseableIterable<Record> rows =
                            IcebergGenerics.read(meters.table()).build()) {
                        assertThat(rows).hasSize(2);
                    }
                }
                // The original, the rejects and the table's files are objects of the bucket.
                try (Stream<Path> files = Files.walk(s3.bucketDirectory())) {
                    assertThat(files.map(Path::toString))
                            .anyMatch(f -> f.contains("/raw/meters/"))
                            .anyMatch(f -> f.contains("/strata/meters/data/") && f.endsWith(".parquet"))
                            .anyMatch(f -> f.contains("/strata/meters/metadata/"));
                }
            }
        }
    }

    static HttpResponse<String> upload(GatewayFixture fixture, String body) throws Exception {
        return HTTP11.send(
                HttpRequest.newBuilder(URI.create(fixture.gateway.httpUrl() + "/v1/files/meters"))
                        .header("Authorization", "Bearer " + GatewayFixture.ALL_TOKEN)
                        .header("Content-Type", "application/x-ndjson")
                        .timeout(Duration.ofSeconds(60))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
