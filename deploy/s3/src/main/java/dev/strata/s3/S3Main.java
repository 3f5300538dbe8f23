package dev.strata.s3;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code strata s3}: an S3-compatible object store on a local directory (S3Proxy with its
 * filesystem store: a bucket is a directory, an object a file), for a lake on object storage on one
 * machine and for the tests that run the lake on S3. Requests are signed (AWS signature v2 or v4)
 * with one key pair; path-style addressing.
 */
@Command(
        name = "s3",
        mixinStandardHelpOptions = true,
        description = "Runs an S3-compatible object store (S3Proxy) on a local directory.")
public final class S3Main implements Callable<Integer> {

    public static final String DEFAULT_ACCESS_KEY = "strata";
    public static final String DEFAULT_SECRET_KEY = "strata-local-secret";

    @Option(names = "--dir", defaultValue = "data/s3", description = "Where the buckets are. Default: ${DEFAULT-VALUE}")
    Path dir;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Default: ${DEFAULT-VALUE}")
    String host;

    @Option(names = "--port", defaultValue = "9000", description = "0: any free port. Default: ${DEFAULT-VALUE}")
    int port;

    @Option(
            names = "--bucket",
            defaultValue = "strata",
            split = ",",
            description = "Buckets to create if missing. Default: ${DEFAULT-VALUE}")
    List<String> buckets;

    @Option(
            names = "--access-key",
            defaultValue = "${env:AWS_ACCESS_KEY_ID:-" + DEFAULT_ACCESS_KEY + "}",
            description = "The access key clients sign with (env AWS_ACCESS_KEY_ID). Default: " + DEFAULT_ACCESS_KEY)
    String accessKey;

    @Option(
            names = "--secret-key",
            defaultValue = "${env:AWS_SECRET_ACCESS_KEY:-" + DEFAULT_SECRET_KEY + "}",
            description = "Its secret key (env AWS_SECRET_ACCESS_KEY).")
    String secretKey;

    @Override
    public Integer call() throws Exception {
        Path base = dir.toAbsolutePath().normalize();
        Files.createDirectories(base);
        for (String bucket : buckets) {
            Files.createDirectories(base.resolve(bucket));
        }
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(new FilesystemNio2BlobStore(base.toString()))
                .endpoint(URI.create("http://" + host + ":" + port))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                .build();
        proxy.start();
        while (!proxy.getState().equals("STARTED")) {
            Thread.sleep(10);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            try {
                                proxy.stop();
                            } catch (Exception e) {
                                // stopping anyway
                            }
                            stopped.countDown();
                        },
                        "s3-shutdown"));
        System.out.println("READY s3 http://" + host + ":" + proxy.getPort() + " buckets " + buckets + " in " + base);
        System.out.flush();
        stopped.await();
        return 0;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new S3Main()).execute(args));
    }
}
