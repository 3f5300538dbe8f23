package dev.strata.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.gateway.files.FileSettings;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import dev.strata.lake.TableVersion;
import dev.strata.testing.KafkaBrokerExtension;
import dev.strata.testing.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files into the lake through a running gateway: uploads with a real HTTP client, the landing
 * folder, and a conversion a stop interrupted; the Parquet read back by DuckDB.
 */
class FileUploadIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    static Path lake;
    static Path landing;
    static GatewayFixture fixture;
    /** HTTP/1.1, as curl speaks it to a plain-HTTP server (the JDK client's h2c upgrade hangs on Expect: 100-continue). */
    static final java.net.http.HttpClient HTTP11 = java.net.http.HttpClient.newBuilder()
            .version(java.net.http.HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    @BeforeAll
    static void start() throws Exception {
        lake = dir.resolve("lake");
        landing = dir.resolve("landing");
        // An original a stop left unconverted: the gateway converts it when it starts.
        Path interrupted = lake.resolve("raw/recovered/20261123T100000000Z-0000abcd.csv");
        Files.createDirectories(interrupted.getParent());
        Files.writeString(interrupted, "k,v\n1,one\n2,two\n");
        fixture = GatewayFixture.start(
                KAFKA,
                dir,
                "files",
                c -> c.files(FileSettings.of(LakeConfig.local(lake), landing)
                        .withLimits(1 << 20, 1, 4)
                        .withTimes(Duration.ofMillis(100), Duration.ofMillis(300))));
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    HttpResponse<String> upload(String dataset, String token, String contentType, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create(fixture.gateway.httpUrl() + "/v1/files/" + dataset))
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        try {
            return HTTP11.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AssertionError("POST /v1/files/" + dataset + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    HttpResponse<String> get(String path) {
        return fixture.send(HttpRequest.newBuilder(URI.create(fixture.gateway.httpUrl() + path))
                .header("Authorization", "Bearer " + GatewayFixture.ALL_TOKEN)
                .timeout(Duration.ofSeconds(30))
                .build());
    }

    /**
     * An upload that sends {@code Expect: 100-continue} and its body only once the server says
     * continue, with Vert.x's HTTP client (the JDK 17 client blocks when the answer is final).
     * Answers {status, body}.
     */
    static String[] uploadExpectingContinue(String dataset, String body) throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            io.vertx.core.http.HttpClient client = vertx.createHttpClient();
            CompletableFuture<String[]> answer = new CompletableFuture<>();
            client.request(HttpMethod.POST, fixture.gateway.httpPort(), "127.0.0.1", "/v1/files/" + dataset)
                    .onFailure(answer::completeExceptionally)
                    .onSuccess(request -> {
                        request.putHeader("Authorization", "Bearer " + GatewayFixture.ALL_TOKEN)
                                .putHeader("Content-Type", "text/csv")
                                .putHeader("Content-Length", Integer.toString(body.length()))
                                .putHeader("Expect", "100-continue");
                        request.continueHandler(v -> request.end(body));
                        request.response()
                                .compose(r -> r.body()
                                        .map(b -> new String[] {Integer.toString(r.statusCode()), b.toString()}))
                                .onSuccess(answer::complete)
                                .onFailure(answer::completeExceptionally);
                        request.sendHead();
                    });
            return answer.get(60, TimeUnit.SECONDS);
        } finally {
            vertx.close();
        }
    }

    static long duckdbLong(String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The files of the dataset's current snapshot (the lake's catalog read as a second process would). */
    static String parquetOf(String dataset) throws Exception {
        try (Lake opened = Lake.open(LakeConfig.local(lake))) {
            return "read_parquet(["
                    + String.join(
                            ",",
                            TableVersion.of(
                                            dataset,
                                            opened.dataset(dataset)
                                                    .orElseThrow()
                                                    .table())
                                    .files()
                                    .stream()
                                    .map(f -> "'" + f.location().replaceFirst("^file:", "") + "'")
                                    .toList())
                    + "], union_by_name = true)";
        }
    }

    @Test
    void anUploadedCsvIsInTheLakeWhenTheAnswerComes() throws Exception {
        HttpResponse<String> answer = upload(
                "meters",
                GatewayFixture.ALL_TOKEN,
                "text/csv; charset=utf-8",
                "meter,kwh,read_at\nm1,1.5,2026-11-23T10:00:00Z\nm2,2.5,2026-11-23T10:00:00Z\nm3,lots,2026-11-23T10:00:00Z\n");

        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(201);
        JsonNode outcome = JSON.readTree(answer.body());
        assertThat(outcome.get("status").asText()).isEqualTo("added");
        assertThat(outcome.get("rows").asLong()).isEqualTo(3);
        assertThat(outcome.get("rejected").asLong()).isEqualTo(0);
        assertThat(answer.headers().firstValue("Location"))
                .hasValue("/v1/files/meters/" + outcome.get("upload").asText());
        // 'lots' is in the sample, so kwh is a string column here; no row lost.
        assertThat(duckdbLong("SELECT count(*) FROM " + parquetOf("meters"))).isEqualTo(3);
        assertThat(Files.readString(lake.resolve(outcome.get("original").asText())))
                .startsWith("meter,kwh,read_at\n");

        // The same bytes again: nothing new.
        HttpResponse<String> again = upload(
                "meters",
                GatewayFixture.ALL_TOKEN,
                "text/csv",
                "meter,kwh,read_at\nm1,1.5,2026-11-23T10:00:00Z\nm2,2.5,2026-11-23T10:00:00Z\nm3,lots,2026-11-23T10:00:00Z\n");
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        JsonNode duplicate = JSON.readTree(again.body());
        assertThat(duplicate.get("status").asText()).isEqualTo("duplicate");
        // No second copy of bytes the lake holds: the duplicate's original is gone, its outcome says what it was.
        assertThat(duplicate.has("original")).isFalse();
        assertThat(duplicate.get("sha256").asText())
                .isEqualTo(outcome.get("sha256").asText());
        try (var raw = Files.list(lake.resolve("raw/meters"))) {
            assertThat(raw.map(f -> f.getFileName().toString()))
                    .noneMatch(name -> name.startsWith(duplicate.get("upload").asText() + ".csv"));
        }
        assertThat(lake.resolve(outcome.get("original").asText())).exists();

        // The upload's outcome stays readable.
        HttpResponse<String> listed = get("/v1/files/meters");
        assertThat(listed.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(listed.body()).get("uploads")).hasSize(2);
        assertThat(get("/v1/files/meters/" + outcome.get("upload").asText()).body())
                .contains("\"status\":\"added\"");
    }

    @Test
    void anIncompatibleFileIsRefusedNamingTheColumnAndBothTypes() throws Exception {
        assertThat(upload("trips", GatewayFixture.ALL_TOKEN, "application/x-ndjson", "{\"trip\":1,\"km\":12}\n")
                        .statusCode())
                .isEqualTo(201);
        HttpResponse<String> refused =
                upload("trips", GatewayFixture.ALL_TOKEN, "application/x-ndjson", "{\"trip\":2,\"km\":true}\n");

        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
        assertThat(JSON.readTree(refused.body()).get("message").asText())
                .isEqualTo(
                        "column 'km' is a long in dataset 'trips' (schema 0) but a boolean in this file (line 1: 'true');"
                                + " nothing was added");
        assertThat(duckdbLong("SELECT count(*) FROM " + parquetOf("trips"))).isEqualTo(1);
        // A refused file is not kept: its outcome (size, hash, reason) is.
        String upload = JSON.readTree(refused.body()).get("upload").asText();
        assertThat(lake.resolve("raw/trips/" + upload + ".ndjson")).doesNotExist();
        assertThat(lake.resolve("raw/trips/" + upload + ".json")).exists();
    }

    @Test
    void badRequestsGetTheirOwnAnswer() throws Exception {
        assertThat(upload("meters", null, "text/csv", "a\n1\n").statusCode()).isEqualTo(401);
        HttpResponse<String> forbidden = upload("meters", GatewayFixture.DEVICE_TOKEN, "text/csv", "a\n1\n");
        assertThat(forbidden.statusCode()).isEqualTo(403);
        assertThat(forbidden.body()).contains("may not upload to dataset 'meters'");
        assertThat(upload("device_7_log", GatewayFixture.DEVICE_TOKEN, "text/csv", "a\n1\n")
                        .statusCode())
                .isEqualTo(201);
        assertThat(upload("Bad-Name", GatewayFixture.ALL_TOKEN, "text/csv", "a\n1\n")
                        .statusCode())
                .isEqualTo(400);
        assertThat(upload("events", GatewayFixture.ALL_TOKEN, "text/csv", "a\n1\n")
                        .statusCode())
                .isEqualTo(400);
        HttpResponse<String> type = upload("meters", GatewayFixture.ALL_TOKEN, "application/pdf", "%PDF");
        assertThat(type.statusCode()).isEqualTo(415);
        assertThat(type.body()).contains("text/csv").contains("application/x-ndjson");
        // A large upload asks first (Expect: 100-continue, as curl does): refused before it is sent.
        String[] tooLarge = uploadExpectingContinue("big", "a\n" + "1\n".repeat(600_000));
        assertThat(tooLarge[0]).isEqualTo("413");
        assertThat(tooLarge[1]).contains("larger than the limit of 1048576 bytes");
        String[] accepted = uploadExpectingContinue("big", "a\n" + "1\n".repeat(1000));
        assertThat(accepted[0]).as(accepted[1]).isEqualTo("201");
        HttpResponse<String> empty = upload("empty", GatewayFixture.ALL_TOKEN, "text/csv", "");
        assertThat(empty.statusCode()).isEqualTo(422);
        assertThat(empty.body()).contains("the file is empty");
        // Nothing of the refused uploads is left half-written.
        try (var stream = Files.walk(lake.resolve("raw"))) {
            assertThat(stream.map(Path::toString)).noneMatch(p -> p.endsWith(".partial"));
        }
        assertThat(fixture.get("/metrics").body())
                .contains("strata_gateway_files_total{outcome=\"refused\",reason=\"too_large\",source=\"http\"}");
    }

    @Test
    void aFileDroppedInTheLandingFolderIsTakenOnceComplete() throws Exception {
        Path folder = landing.resolve("sensors");
        Files.createDirectories(folder);
        // Written under a temporary name, then renamed: the way to drop a file.
        Path tmp = folder.resolve("batch-1.csv.tmp");
        Files.writeString(tmp, "sensor,temp\ns1,20.5\ns2,21\n", StandardCharsets.UTF_8);
        Files.move(tmp, folder.resolve("batch-1.csv"));
        Files.writeString(folder.resolve("notes.txt"), "not data");
        Files.createDirectories(landing.resolve("Not A Dataset"));
        Files.writeString(landing.resolve("Not A Dataset/x.csv"), "a\n1\n");

        JsonNode uploads = Waits.await("the landing file's upload listed", Duration.ofSeconds(30))
                .until(
                        () -> JSON.readTree(get("/v1/files/sensors").body()).get("uploads"),
                        l -> l != null && l.size() == 1);
        JsonNode outcome = uploads.get(0);
        assertThat(outcome.get("status").asText()).isEqualTo("added");
        assertThat(outcome.get("source").asText()).isEqualTo("landing:batch-1.csv");
        assertThat(Files.exists(folder.resolve("batch-1.csv")))
                .as("moved to the raw zone")
                .isFalse();
        assertThat(duckdbLong("SELECT count(*) FROM " + parquetOf("sensors") + " WHERE temp > 20"))
                .isEqualTo(2);

        Path refused = folder.resolve("notes.txt.refused.json");
        Waits.await("notes.txt refused", Duration.ofSeconds(30)).until(() -> Files.exists(refused));
        assertThat(Files.readString(refused)).contains("is not a file type the gateway reads");
        Waits.await("a folder that is not a dataset name refused", Duration.ofSeconds(30))
                .until(() -> Files.exists(landing.resolve("Not A Dataset/x.csv.refused.json")));
        assertThat(Files.readString(landing.resolve("Not A Dataset/x.csv.refused.json")))
                .contains("is not a dataset name");
    }

    @Test
    void aSymbolicLinkInTheLandingFolderIsRefusedAndWhatItPointsToNeverRead() throws Exception {
        // A secret outside the landing folder, and links to it: as a file, and as a dataset folder.
        Path secret = dir.resolve("secret.csv");
        Files.writeString(secret, "user,password\nroot,hunter2\n");
        Path folder = landing.resolve("leak");
        Files.createDirectories(folder);
        Files.createSymbolicLink(folder.resolve("passwd.csv"), secret);
        Path outside = dir.resolve("outside");
        Files.createDirectories(outside);
        Files.writeString(outside.resolve("x.csv"), "a\n1\n");
        Files.createSymbolicLink(landing.resolve("linked"), outside);

        Path refused = folder.resolve("passwd.csv.refused.json");
        Waits.await("the link refused", Duration.ofSeconds(30)).until(() -> Files.exists(refused));
        assertThat(Files.readString(refused))
                .contains(
                        "'passwd.csv' is a symbolic link: the landing folder takes files, never what a link points to");
        assertThat(Files.isSymbolicLink(folder.resolve("passwd.csv.refused")))
                .as("the link itself set aside")
                .isTrue();
        assertThat(Files.readString(secret)).as("the target untouched").contains("hunter2");
        // Neither became a dataset, and the linked folder's file stays where it is: a real file dropped
        // after them is taken, so the watcher has listed the links' folders since.
        Path marker = landing.resolve("after_links");
        Files.createDirectories(marker);
        Files.writeString(marker.resolve("m.csv"), "a\n1\n");
        Waits.await("a file dropped after the links taken", Duration.ofSeconds(30))
                .until(() -> !Files.exists(marker.resolve("m.csv")));
        assertThat(get("/v1/files/leak").body()).doesNotContain("hunter2").doesNotContain("\"added\"");
        assertThat(get("/v1/files/linked").body()).doesNotContain("\"added\"");
        assertThat(outside.resolve("x.csv")).exists();
        try (Lake opened = Lake.open(LakeConfig.local(lake))) {
            assertThat(opened.datasets()).doesNotContain("leak", "linked");
        }
        assertThat(fixture.get("/metrics").body())
                .contains(
                        "strata_gateway_files_total{outcome=\"refused\",reason=\"symbolic_link\",source=\"landing\"}");
    }

    @Test
    void anOriginalAStopLeftUnconvertedIsConvertedAtStart() throws Exception {
        Waits.await("the original left by a stop converted", Duration.ofSeconds(30))
                .until(() -> Files.exists(lake.resolve("raw/recovered/20261123T100000000Z-0000abcd.json")));
        JsonNode outcome = JSON.readTree(
                get("/v1/files/recovered/20261123T100000000Z-0000abcd").body());
        assertThat(outcome.get("source").asText()).isEqualTo("recovered");
        assertThat(outcome.get("rows").asLong()).isEqualTo(2);
        assertThat(duckdbLong("SELECT count(*) FROM " + parquetOf("recovered"))).isEqualTo(2);
    }
}
