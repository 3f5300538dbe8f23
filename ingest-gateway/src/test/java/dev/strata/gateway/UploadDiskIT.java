package dev.strata.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.gateway.files.FileSettings;
import dev.strata.lake.LakeConfig;
import dev.strata.testing.KafkaBrokerExtension;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Uploads against the disk they arrive on: the lake on a small filesystem of its own (a 96 MiB tmpfs;
 * mounting one needs root, elsewhere the class is skipped). A chunked body (no Content-Length to
 * check first) that outgrows the free space, and one that fills the disk outright, are each answered
 * 507 naming it; nothing of them is kept, and the next upload is taken (its conversion slot was
 * never held while the body arrived).
 */
class UploadDiskIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP11 =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    static Path dir;

    static Path lake;
    static boolean mounted;
    static GatewayFixture fixture;

    @BeforeAll
    static void start() throws Exception {
        lake = dir.resolve("small-lake");
        Files.createDirectories(lake);
        mounted = run("mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", lake.toString());
        assumeTrue(mounted, "needs root to mount a small filesystem for the lake");
        fixture = GatewayFixture.start(
                KAFKA,
                dir,
                "disk",
                // One conversion slot and no queue: a slot an upload kept would refuse the next one.
                c -> c.files(FileSettings.of(LakeConfig.local(lake), null).withLimits(1L << 30, 1, 0)));
    }

    @AfterAll
    static void stop() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
        if (mounted) {
            run("umount", lake.toString());
        }
    }

    static boolean run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** A CSV of {@code bytes} bytes, produced as it is sent (chunked: no Content-Length). */
    static InputStream csv(long bytes) {
        byte[] row = "meter-0001,1.5,2026-11-23T10:00:00Z\n".getBytes(StandardCharsets.UTF_8);
        byte[] header = "meter,kwh,read_at\n".getBytes(StandardCharsets.UTF_8);
        return new InputStream() {
            long sent;

            @Override
            public int read() {
                if (sent >= bytes) {
                    return -1;
                }
                long at = sent++;
                return at < header.length ? header[(int) at] : row[(int) ((at - header.length) % row.length)];
            }

            @Override
            public int read(byte[] b, int off, int len) {
                int n = 0;
                while (n < len) {
                    int c = read();
                    if (c < 0) {
                        break;
                    }
                    b[off + n++] = (byte) c;
                }
                return n == 0 ? -1 : n;
            }
        };
    }

    static HttpResponse<String> upload(HttpRequest.BodyPublisher body) throws Exception {
        return HTTP11.send(
                HttpRequest.newBuilder(URI.create(fixture.gateway.httpUrl() + "/v1/files/meters"))
                        .header("Authorization", "Bearer " + GatewayFixture.ALL_TOKEN)
                        .header("Content-Type", "text/csv")
                        .timeout(Duration.ofSeconds(120))
                        .POST(body)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static long partials() throws IOException {
        try (Stream<Path> files = Files.walk(lake)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".partial"))
                    .count();
        }
    }

    @Test
    void aBodyOutgrowingTheFreeSpaceOrFillingTheDiskIsAnswered507AndNothingOfItIsKept() throws Exception {
        // Chunked, 48 MiB, onto 96 MiB: past 32 MiB the Parquet would not fit beside it and the headroom.
        HttpResponse<String> budget = upload(HttpRequest.BodyPublishers.ofInputStream(() -> csv(48L << 20)));
        assertThat(budget.statusCode()).as(budget.body()).isEqualTo(507);
        assertThat(JSON.readTree(budget.body()).get("message").asText())
                .startsWith("The disk uploads arrive on has ")
                .contains("bytes free after ")
                .endsWith("bytes stay free; nothing was kept");
        awaitNoPartials();

        // The disk filled by someone else while a body arrives: the write fails.
        Path filler = lake.resolve("filler");
        try (OutputStream out = Files.newOutputStream(filler)) {
            byte[] block = new byte[1 << 20];
            for (int i = 0; i < 92; i++) {
                out.write(block);
            }
        }
        HttpResponse<String> full = upload(HttpRequest.BodyPublishers.ofInputStream(() -> csv(12L << 20)));
        assertThat(full.statusCode()).as(full.body()).isEqualTo(507);
        assertThat(JSON.readTree(full.body()).get("message").asText())
                .startsWith("The disk uploads arrive on is full")
                .endsWith("nothing was kept: send it again later");
        awaitNoPartials();
        Files.delete(filler);

        // The service goes on: the next upload (with the one conversion slot) is taken.
        HttpResponse<String> next = upload(HttpRequest.BodyPublishers.ofString("meter,kwh\nm1,1.5\n"));
        assertThat(next.statusCode()).as(next.body()).isEqualTo(201);
        String metrics = fixture.send(HttpRequest.newBuilder(URI.create(fixture.gateway.httpUrl() + "/metrics"))
                        .build())
                .body();
        assertThat(metrics).containsPattern("strata_gateway_files_total\\{[^}]*reason=\"no_space\"[^}]*} 2.0");
    }

    static void awaitNoPartials() throws Exception {
        dev.strata.testing.Waits.await("the partial upload deleted", Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(partials()).isZero());
    }
}
