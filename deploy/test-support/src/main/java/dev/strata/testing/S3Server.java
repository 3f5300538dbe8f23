package dev.strata.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real S3-compatible store for tests: {@code strata s3} (S3Proxy on a directory, the module
 * {@code deploy/s3}) in a JVM of its own, on a free port, with the bucket {@value #BUCKET}. Its own
 * JVM keeps S3Proxy's libraries (Jetty, Jackson 3, Logback) off the test's classpath.
 */
public final class S3Server implements AutoCloseable {

    public static final String BUCKET = "strata";
    public static final String ACCESS_KEY = "strata-test";
    public static final String SECRET_KEY = "strata-test-secret";

    private static final Pattern READY = Pattern.compile("READY s3 (http://\\S+)");

    private final Process process;
    private final String endpoint;
    private final Path dir;

    private S3Server(Process process, String endpoint, Path dir) {
        this.process = process;
        this.endpoint = endpoint;
        this.dir = dir;
    }

    /** Starts a store keeping its buckets under {@code dir}; its output goes to {@code dir/s3.log}. */
    public static S3Server start(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path module = home().resolve("deploy/s3");
        Path classpathFile = module.resolve("target/runtime-classpath.txt");
        if (!Files.exists(classpathFile)) {
            throw new IllegalStateException(
                    classpathFile + " is missing: build deploy/s3 first (./mvnw package -pl deploy/s3 -am)");
        }
        String classpath = module.resolve("target/classes")
                + java.io.File.pathSeparator
                + Files.readString(classpathFile).strip();
        Process process = new ProcessBuilder(List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx256m",
                        "-cp",
                        classpath,
                        "dev.strata.s3.S3Main",
                        "--dir",
                        dir.resolve("buckets").toString(),
                        "--port",
                        "0",
                        "--bucket",
                        BUCKET,
                        "--access-key",
                        ACCESS_KEY,
                        "--secret-key",
                        SECRET_KEY))
                .redirectErrorStream(true)
                .start();
        Path log = dir.resolve("s3.log");
        CompletableFuture<String> ready = new CompletableFuture<>();
        Thread pump = new Thread(
                () -> {
                    try (BufferedReader in = new BufferedReader(
                                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                            var out = Files.newBufferedWriter(log)) {
                        for (String line = in.readLine(); line != null; line = in.readLine()) {
                            out.write(line);
                            out.newLine();
                            out.flush();
                            Matcher m = READY.matcher(line);
                            if (m.find()) {
                                ready.complete(m.group(1));
                            }
                        }
                        ready.completeExceptionally(new IllegalStateException("strata s3 ended; see " + log));
                    } catch (IOException e) {
                        ready.completeExceptionally(e);
                    }
                },
                "s3-server-output");
        pump.setDaemon(true);
        pump.start();
        try {
            return new S3Server(process, ready.get(60, TimeUnit.SECONDS), dir);
        } catch (Exception e) {
            process.destroyForcibly();
            throw new IllegalStateException("strata s3 did not start; see " + log, e);
        }
    }

    /** The repository's root: the first directory up from the working directory holding deploy/s3. */
    static Path home() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("deploy/s3/pom.xml"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new UncheckedIOException(new IOException("no deploy/s3 above " + System.getProperty("user.dir")));
        }
        return dir;
    }

    /** {@code http://127.0.0.1:PORT}. */
    public String endpoint() {
        return endpoint;
    }

    /** A warehouse in the test bucket: {@code s3://strata/<prefix>}. */
    public String warehouse(String prefix) {
        return "s3://" + BUCKET + "/" + prefix;
    }

    /** The directory the bucket's objects are files in. */
    public Path bucketDirectory() {
        return dir.resolve("buckets").resolve(BUCKET);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
