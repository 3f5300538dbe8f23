package dev.strata.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Where the lake is, as every command takes it: options, or the standard AWS environment variables
 * (read by a command in a process of its own, with only those variables set), never printing a secret.
 */
class LakeOptionsTest {

    /** A command with only the lake's options: prints the lake they name. */
    @Command(name = "probe")
    static final class Probe implements Runnable {
        @Mixin
        LakeOptions lake;

        @Override
        public void run() {
            LakeConfig config = lake.config();
            System.out.println(config);
            System.out.println("warehouse=" + config.warehouse());
            System.out.println("flink=" + new java.util.TreeMap<>(config.flinkProperties()).keySet());
        }

        public static void main(String[] args) {
            System.exit(new CommandLine(new Probe()).execute(args));
        }
    }

    static LakeConfig parse(String... args) {
        Probe probe = new Probe();
        new CommandLine(probe).parseArgs(args);
        return probe.lake.config();
    }

    @Test
    void aLocalLakeNeedsNothingAndGetsTheEmbeddedCatalog() {
        LakeConfig config = parse("--lake", "/tmp/strata-lake-test");
        assertThat(config.localWarehouse()).isTrue();
        assertThat(config.catalogUri()).isEqualTo("jdbc:sqlite:" + Path.of("/tmp/strata-lake-test/catalog.db"));
        assertThat(config.flinkProperties()).isEmpty();
    }

    @Test
    void aLakeOnObjectStorageWithoutACatalogIsRefusedSayingWhatToGive() {
        assertThatThrownBy(() -> parse("--lake", "s3://bucket/lake"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--catalog-uri");
    }

    @Test
    void optionsNameTheStoreAndItsSecretIsNeverPrinted() {
        LakeConfig config = parse(
                "--lake", "s3://bucket/lake",
                "--catalog-uri", "jdbc:postgresql://catalog/strata",
                "--catalog-password", "pg-secret",
                "--s3-endpoint", "http://127.0.0.1:9000",
                "--s3-access-key", "AK",
                "--s3-secret-key", "very-secret");
        assertThat(config.properties())
                .containsEntry("s3.endpoint", "http://127.0.0.1:9000")
                .containsEntry("s3.path-style-access", "true")
                .containsEntry("s3.access-key-id", "AK")
                .containsEntry("s3.secret-access-key", "very-secret");
        assertThat(config.flinkProperties())
                .containsEntry("s3.endpoint", "http://127.0.0.1:9000")
                .containsEntry("s3.path.style.access", "true")
                .containsEntry("s3.secret-key", "very-secret");
        assertThat(config.toString() + config.describe())
                .contains("http://127.0.0.1:9000")
                .doesNotContain("very-secret")
                .doesNotContain("pg-secret");
    }

    @Test
    void theStandardAwsEnvironmentVariablesAreReadAsOtherAwsToolsReadThem() throws Exception {
        ProcessBuilder builder = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Probe.class.getName());
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(k -> k.startsWith("AWS_") || k.startsWith("STRATA_"));
        env.put("STRATA_LAKE", "s3://env-bucket/lake");
        env.put("STRATA_CATALOG_URI", "jdbc:sqlite:/tmp/env-catalog.db");
        env.put("AWS_ENDPOINT_URL", "http://10.0.0.9:9000");
        env.put("AWS_REGION", "eu-west-3");
        env.put("AWS_ACCESS_KEY_ID", "ENVKEY");
        env.put("AWS_SECRET_ACCESS_KEY", "env-secret");
        Process process = builder.redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();

        assertThat(process.exitValue()).as(out).isZero();
        assertThat(out)
                .contains("warehouse=s3://env-bucket/lake")
                .contains("endpoint http://10.0.0.9:9000, region eu-west-3, path-style addressing, access key ENVKEY")
                .contains("flink=[s3.access-key, s3.endpoint, s3.endpoint.region, s3.path.style.access, s3.secret-key]")
                .doesNotContain("env-secret");
    }
}
