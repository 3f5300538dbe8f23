package dev.strata.verify;

import dev.strata.cli.stack.StackPorts;
import dev.strata.cli.stack.StackSpec;
import dev.strata.cli.stack.Supervisor;
import dev.strata.schemas.views.CutSettings;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The stack under test: the one stack description {@code strata up} runs ({@link StackSpec}), on
 * free loopback ports, in a data directory of its own, each component with the command a user runs
 * in a JVM of its own; and the faults: SIGKILL of a component's JVM and a restart with the same
 * command, SIGSTOP/SIGCONT, the lake's disk filling up.
 */
final class Stack implements AutoCloseable {

    static final Duration READY_TIMEOUT = Duration.ofMinutes(3);
    static final String HOST = "127.0.0.1";

    final StackSpec spec;
    private final Supervisor supervisor;
    /** Whether the lake is on a filesystem of its own (a small tmpfs), which the disk-full fault fills. */
    final boolean lakeMounted;

    /**
     * The transform the batch scheduler runs beside the views (on the Flink cluster in cluster
     * mode): every event archived, once; {@link Checks#transformApplied} compares it with the oracle.
     */
    static final String TRANSFORM = "verify_events";

    static final String TRANSFORMS_YAML = """
            transforms:
              - name: %1$s
                sql: SELECT source, id, type FROM events
                output: {table: %1$s, partitionBy: []}
                mode: incremental
                trigger: {onNewInput: true}
            """.formatted(TRANSFORM);

    Stack(Path home, Path dataDir, Duration bucket, Duration batchInterval, boolean cluster, boolean objectStore)
            throws IOException {
        Path transforms = Files.writeString(dataDir.resolve("transforms.yaml"), TRANSFORMS_YAML);
        this.spec = StackSpec.builder(home, dataDir, StackPorts.free(HOST, cluster ? StackSpec.CLUSTER_BROKERS : 1))
                .host(HOST)
                .cluster(cluster)
                .files(false)
                .objectStore(objectStore)
                .cut(new CutSettings(bucket, CutSettings.DEFAULTS.dedupHorizon()), bucket)
                .batchInterval(batchInterval)
                .transforms(Optional.of(transforms))
                .speedCheckpointInterval(Duration.ofSeconds(5))
                .build();
        this.lakeMounted = mountSmallFilesystem(spec.lakeDirectory());
        this.supervisor = new Supervisor(home, dataDir, spec.launches(), System.out, false, READY_TIMEOUT);
    }

    /** Starts every component in order, each once the one before is ready. */
    void start() throws Exception {
        supervisor.start();
    }

    /** SIGKILL of a component's JVM, then, after {@code down}, the same command again, until it is ready. */
    void killAndRestart(String name, Duration down) throws Exception {
        supervisor.kill(name);
        TimeUnit.MILLISECONDS.sleep(down.toMillis());
        supervisor.restart(name);
    }

    /** SIGSTOP of a component's JVM for {@code pause}, then SIGCONT. */
    void pause(String name, Duration pause) throws Exception {
        supervisor.pause(name, pause);
    }

    /** Whether a component's JVM runs. */
    boolean running(String name) {
        return supervisor.pid(name).isPresent();
    }

    /** The components that run until stopped (not the one-shot submission of the speed job to a cluster). */
    List<String> processes() {
        return supervisor.processes();
    }

    /**
     * Mounts a 64 MiB tmpfs on {@code dir} (as root, where mounts are allowed), so the lake's disk can
     * be filled up without touching the machine's; false where that is not possible.
     */
    static boolean mountSmallFilesystem(Path dir) throws IOException {
        Files.createDirectories(dir);
        try {
            Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", dir.toString())
                    .redirectErrorStream(true)
                    .start();
            return mount.waitFor(30, TimeUnit.SECONDS) && mount.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Fills the lake's filesystem to the last byte; returns the filler to delete to give the space back. */
    Path fillLake() throws IOException {
        Path filler = spec.lakeDirectory().resolve("verify-filler");
        byte[] block = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(block);
            }
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("No space left")) {
                throw e;
            }
        }
        try (OutputStream out = Files.newOutputStream(spec.lakeDirectory().resolve("verify-filler-rest"))) {
            for (int i = 0; i < (1 << 20); i++) { // the last partial block
                out.write(0);
            }
        } catch (IOException e) {
            // full
        }
        return filler;
    }

    void freeLake(Path filler) throws IOException {
        Files.deleteIfExists(filler);
        Files.deleteIfExists(spec.lakeDirectory().resolve("verify-filler-rest"));
    }

    @Override
    public void close() throws InterruptedException {
        supervisor.stop();
        if (lakeMounted) {
            try {
                new ProcessBuilder("umount", spec.lakeDirectory().toString())
                        .inheritIO()
                        .start()
                        .waitFor(30, TimeUnit.SECONDS);
            } catch (IOException e) {
                // left mounted: the next run's data dir is another
            }
        }
    }
}
