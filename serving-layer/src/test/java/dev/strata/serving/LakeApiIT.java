package dev.strata.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.lake.LakeConfig;
import dev.strata.lake.ObjectStore;
import dev.strata.serving.lake.TestLake;
import dev.strata.testing.KafkaBrokerExtension;
import dev.strata.testing.S3Server;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /v1/catalog[/{dataset}]} and {@code POST /v1/sql} of a running serving process, over a real lake. */
class LakeApiIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final ObjectMapper JSON = new ObjectMapper();
    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void theCatalogDescribesTheLakeAndSqlQueriesIt(@TempDir Path dir) throws Exception {
        Path lake = TestLake.write(dir);
        String speedTopic = KAFKA.createTopic("speed-views", 1, Map.of("cleanup.policy", "compact"));
        String commitsTopic = KAFKA.createTopic("batch-commits", 1, Map.of("cleanup.policy", "compact"));
        try (Serving serving = Serving.start(
                Serving.Config.builder(KAFKA.bootstrapServers(), LakeConfig.local(lake), dir.resolve("serving"))
                        .instance("it")
                        .topics(speedTopic, commitsTopic)
                        .sql(Serving.Sql.of(100, Duration.ofSeconds(5), "256MB", 1L << 30))
                        .build())) {
            String url = serving.url();

            HttpResponse<String> catalog = get(url + "/v1/catalog");
            assertThat(catalog.statusCode()).isEqualTo(200);
            JsonNode datasets = JSON.readTree(catalog.body()).get("datasets");
            JsonNode events = find(datasets, "events");
            assertThat(events.get("kind").asText()).isEqualTo("events");
            assertThat(events.get("rows").asLong()).isEqualTo(150);
            assertThat(events.get("files").asInt()).isEqualTo(2);
            assertThat(events.get("format").asText()).isEqualTo("iceberg");
            assertThat(events.get("snapshotCount").asInt()).isEqualTo(2);
            assertThat(events.get("cut").asText())
                    .isEqualTo(Instant.ofEpochMilli(1795464600000L).toString());
            assertThat(events.get("schema").get("columns").toString())
                    .contains("{\"name\":\"id\",\"type\":\"string\",\"nullable\":false}")
                    .contains("{\"name\":\"value\",\"type\":\"double\",\"nullable\":true}")
                    .contains("{\"name\":\"time\",\"type\":\"timestamptz\",\"nullable\":false}");
            JsonNode sensors = find(datasets, "sensors");
            assertThat(sensors.get("kind").asText()).isEqualTo("dataset");
            assertThat(sensors.get("schema").get("columns").get(1).get("type").asText())
                    .isEqualTo("boolean");
            assertThat(find(datasets, "events_per_source_1m").get("kind").asText())
                    .isEqualTo("view");
            assertThat(find(datasets, "events_per_source_1m").get("sqlTable").asText())
                    .isEqualTo("batch_views");
            JsonNode views = find(datasets, "batch_views");
            assertThat(views.get("kind").asText()).isEqualTo("views");
            assertThat(views.get("schema").get("columns").toString())
                    .contains("\"state\"")
                    .contains("{\"name\":\"p95\",\"type\":\"double\",\"nullable\":true}");

            JsonNode counts = find(datasets, "source_counts");
            assertThat(counts.get("kind").asText()).isEqualTo("transform");
            assertThat(counts.get("fedBy").get("transform").asText()).isEqualTo("source_counts");
            long eventsSnapshot =
                    counts.get("fedBy").get("inputs").get("events").asLong();
            assertThat(find(datasets, "events").get("feeds").toString())
                    .isEqualTo("[{\"transform\":\"source_counts\",\"output\":\"source_counts\",\"appliedSnapshot\":"
                            + eventsSnapshot + "}]");
            assertThat(JSON.readTree(post(url + "/v1/sql", "text/plain", "SELECT sum(n) FROM source_counts")
                                    .body())
                            .get("rows")
                            .toString())
                    .isEqualTo("[[150]]");

            JsonNode one = JSON.readTree(get(url + "/v1/catalog/events").body());
            assertThat(one.get("partitions").get(0).asText()).isEqualTo("time_hour=2026-11-23-10");
            assertThat(one.get("metadataLocation").asText()).endsWith(".metadata.json");
            assertThat(one.get("snapshots")
                            .get(0)
                            .get("summary")
                            .get("strata.archive.run")
                            .asText())
                    .isEqualTo("2");
            assertThat(one.get("snapshots").get(0).get("operation").asText()).isEqualTo("append");
            assertThat(get(url + "/v1/catalog/nothing").statusCode()).isEqualTo(404);

            HttpResponse<String> answer = post(
                    url + "/v1/sql",
                    "application/json",
                    "{\"sql\": \"SELECT source, count(*) AS n FROM events GROUP BY source ORDER BY source\"}");
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            JsonNode body = JSON.readTree(answer.body());
            assertThat(body.get("columns").get(1).get("name").asText()).isEqualTo("n");
            assertThat(body.get("rows").toString())
                    .isEqualTo("[[\"dev-0\",34],[\"dev-1\",33],[\"dev-2\",33],[\"dev-9\",50]]");
            assertThat(body.get("truncated").asBoolean()).isFalse();

            HttpResponse<String> perView = post(
                    url + "/v1/sql",
                    "text/plain",
                    "SELECT view, sum(count) FROM batch_views GROUP BY view ORDER BY view");
            assertThat(JSON.readTree(perView.body()).get("rows").toString())
                    .isEqualTo("[[\"events_per_source_1m\",150],[\"events_per_type_1h\",150]]");

            HttpResponse<String> plain = post(url + "/v1/sql", "text/plain", "SELECT * FROM events");
            assertThat(JSON.readTree(plain.body()).get("rowCount").asInt()).isEqualTo(100);
            assertThat(JSON.readTree(plain.body()).get("truncated").asBoolean()).isTrue();

            HttpResponse<String> write =
                    post(url + "/v1/sql", "text/plain", "COPY events TO '" + lake.resolve("x.csv") + "'");
            assertThat(write.statusCode()).isEqualTo(403);
            assertThat(JSON.readTree(write.body()).get("message").asText())
                    .startsWith("only read-only queries run here");
            HttpResponse<String> escape = post(url + "/v1/sql", "text/plain", "SELECT * FROM read_text('/etc/passwd')");
            assertThat(escape.statusCode()).isEqualTo(403);
            assertThat(escape.body()).doesNotContain("root:");
            assertThat(post(url + "/v1/sql", "text/plain", "SELEKT 1").statusCode())
                    .isEqualTo(400);
            assertThat(post(url + "/v1/sql", "application/json", "{\"query\": 1}")
                            .statusCode())
                    .isEqualTo(400);
            assertThat(get(url + "/metrics").body())
                    .contains("strata_serving_sql_queries_total{outcome=\"refused\"} 2.0");
        }
    }

    @Test
    void onObjectStorageSqlReadsLocalCopiesOfTheFilesItNeedsWithinTheirBudget(@TempDir Path dir) throws Exception {
        try (S3Server s3 = S3Server.start(dir.resolve("s3"))) {
            LakeConfig config = LakeConfig.objectStore(
                    s3.warehouse("lake"),
                    "jdbc:sqlite:" + dir.resolve("catalog.db"),
                    ObjectStore.pathStyle(s3.endpoint(), S3Server.ACCESS_KEY, S3Server.SECRET_KEY));
            TestLake.write(config);
            String speedTopic = KAFKA.createTopic("s3-speed-views", 1, Map.of("cleanup.policy", "compact"));
            String commitsTopic = KAFKA.createTopic("s3-batch-commits", 1, Map.of("cleanup.policy", "compact"));
            Path copies = dir.resolve("serving/lake-cache");
            try (Serving serving =
                    Serving.start(Serving.Config.builder(KAFKA.bootstrapServers(), config, dir.resolve("serving"))
                            .instance("s3")
                            .topics(speedTopic, commitsTopic)
                            .sql(Serving.Sql.of(100, Duration.ofSeconds(10), "256MB", 1L << 30))
                            .build())) {
                JsonNode events = find(
                        JSON.readTree(get(serving.url() + "/v1/catalog").body()).get("datasets"), "events");
                assertThat(events.get("rows").asLong()).isEqualTo(150);

                HttpResponse<String> answer = post(
                        serving.url() + "/v1/sql",
                        "text/plain",
                        "SELECT source, count(*) AS n FROM events GROUP BY source ORDER BY source");
                assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
                assertThat(JSON.readTree(answer.body()).get("rows").toString())
                        .isEqualTo("[[\"dev-0\",34],[\"dev-1\",33],[\"dev-2\",33],[\"dev-9\",50]]");
                // Only the files of the table the query named were fetched: the two of events.
                try (var listed = Files.list(copies)) {
                    assertThat(listed.count()).isEqualTo(2);
                }
                HttpResponse<String> views = post(
                        serving.url() + "/v1/sql",
                        "text/plain",
                        "SELECT view, sum(count) FROM batch_views GROUP BY view ORDER BY view");
                assertThat(JSON.readTree(views.body()).get("rows").toString())
                        .isEqualTo("[[\"events_per_source_1m\",150],[\"events_per_type_1h\",150]]");
                HttpResponse<String> escape = post(
                        serving.url() + "/v1/sql",
                        "text/plain",
                        "SELECT * FROM read_text('" + s3.bucketDirectory() + "/**')");
                assertThat(escape.statusCode()).isEqualTo(403);
            }
            // A budget smaller than the query's files: refused, naming the setting.
            try (Serving serving =
                    Serving.start(Serving.Config.builder(KAFKA.bootstrapServers(), config, dir.resolve("serving-small"))
                            .instance("s3-small")
                            .topics(speedTopic, commitsTopic)
                            .sql(Serving.Sql.of(100, Duration.ofSeconds(10), "256MB", 1_000))
                            .build())) {
                HttpResponse<String> refused =
                        post(serving.url() + "/v1/sql", "text/plain", "SELECT count(*) FROM events");
                assertThat(refused.statusCode()).isEqualTo(403);
                assertThat(refused.body()).contains("--sql-lake-cache-bytes 1000");
                assertThat(post(serving.url() + "/v1/sql", "text/plain", "SELECT 42")
                                .body())
                        .contains("42");
            }
        }
    }

    static JsonNode find(JsonNode datasets, String name) {
        for (JsonNode d : datasets) {
            if (d.get("name").asText().equals(name)) {
                return d;
            }
        }
        throw new AssertionError("no " + name + " in " + datasets);
    }

    HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String url, String type, String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(url))
                        .header("Content-Type", type)
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
