package dev.strata.verify;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The stack under test: each component started with the command a user runs
 * ({@code strata <component> …}: the CLI, which starts the component in a JVM of its own), on free
 * loopback ports, in a data directory of its own; and the faults: SIGKILL of a component's JVM and
 * a restart with the same command, SIGSTOP/SIGCONT.
 */
final class Stack implements AutoCloseable {

    static final Duration READY_TIMEOUT = Duration.ofMinutes(3);

    /** One component: its command and, while it runs, its process (the CLI) and the component's JVM. */
    final class Part {
        final String name;
        final List<String> args;
        Process cli;
        CompletableFuture<String> ready;

        Part(String name, List<String> args) {
            this.name = name;
            this.args = args;
        }

        void start() throws IOException {
            List<String> command = new ArrayList<>(List.of(java(), "-Dstrata.home=" + home, "-cp", cliClasspath,
                    "dev.strata.cli.StrataCli", name));
            command.addAll(args);
            ProcessBuilder builder = new ProcessBuilder(command).directory(home.toFile()).redirectErrorStream(true);
            cli = builder.start();
            CompletableFuture<String> readyNow = new CompletableFuture<>();
            ready = readyNow;
            Process process = cli;
            Thread pump = new Thread(() -> {
                String readyLine = "READY " + name + " ";
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                        PrintWriter log = new PrintWriter(Files.newBufferedWriter(dataDir.resolve("logs").resolve(name + ".log"),
                                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND), true)) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        log.println(line);
                        if (line.startsWith(readyLine)) {
                            readyNow.complete(line.substring(readyLine.length()).trim());
                        }
                    }
                } catch (IOException e) {
                    // the process went away
                } finally {
                    readyNow.completeExceptionally(new IllegalStateException(name + " exited before it was ready"));
                }
            }, name + "-output");
            pump.setDaemon(true);
            pump.start();
        }

        String awaitReady() throws Exception {
            return ready.get(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }

        /** The component's own JVM (the CLI's child), if it runs. */
        Optional<ProcessHandle> jvm() {
            return cli == null ? Optional.empty() : cli.toHandle().children().findFirst();
        }

        /** SIGKILL of the component's JVM (the CLI then exits), then the same command again. */
        void killAndRestart(Duration down) throws Exception {
            Optional<ProcessHandle> jvm = jvm();
            jvm.ifPresent(ProcessHandle::destroyForcibly);
            jvm.ifPresent(h -> h.onExit().join());
            cli.waitFor(30, TimeUnit.SECONDS);
            TimeUnit.MILLISECONDS.sleep(down.toMillis());
            start();
            awaitReady();
        }

        /** SIGSTOP of the component's JVM for {@code pause}, then SIGCONT. */
        void pause(Duration pause) throws Exception {
            Optional<ProcessHandle> jvm = jvm();
            if (jvm.isEmpty()) {
                return;
            }
            signal("STOP", jvm.get().pid());
            try {
                TimeUnit.MILLISECONDS.sleep(pause.toMillis());
            } finally {
                signal("CONT", jvm.get().pid());
            }
        }

        void stop() throws InterruptedException {
            if (cli == null) {
                return;
            }
            List<ProcessHandle> jvms = cli.toHandle().descendants().toList();
            jvms.forEach(h -> signalQuietly("CONT", h.pid())); // a paused JVM cannot stop
            cli.destroy();
            if (!cli.waitFor(30, TimeUnit.SECONDS)) {
                cli.destroyForcibly();
            }
            for (ProcessHandle h : jvms) {
                if (!h.onExit().completeOnTimeout(h, 30, TimeUnit.SECONDS).join().isAlive()) {
                    continue;
                }
                h.destroyForcibly();
            }
        }
    }

    private final Path home;
    private final Path dataDir;
    private final String cliClasspath;
    private final Map<String, Part> parts = new LinkedHashMap<>();
    /** Whether the lake is on a filesystem of its own (a small tmpfs), which the disk-full fault fills. */
    final boolean lakeMounted;
    final Path lake;
    final int kafkaPort;
    final int registryPort;
    final int httpPort;
    final int mqttPort;
    final int servingPort;

    Stack(Path home, Path dataDir, Duration bucket, Duration batchInterval) throws IOException {
        this.home = home;
        this.dataDir = dataDir;
        Files.createDirectories(dataDir.resolve("logs"));
        Path classpath = home.resolve("deploy/cli/target/runtime-classpath.txt");
        this.cliClasspath = home.resolve("deploy/cli/target/classes") + java.io.File.pathSeparator
                + Files.readString(classpath, StandardCharsets.UTF_8).trim();
        kafkaPort = freePort();
        registryPort = freePort();
        httpPort = freePort();
        mqttPort = freePort();
        servingPort = freePort();
        String bootstrap = "127.0.0.1:" + kafkaPort;
        String registry = "http://127.0.0.1:" + registryPort;
        this.lake = dataDir.resolve("lake");
        this.lakeMounted = mountSmallFilesystem(this.lake);
        String lake = this.lake.toString();
        add("kafka", "--data", dataDir.resolve("kafka").toString(), "--port", "" + kafkaPort, "--controller-port", "" + freePort());
        add("registry", "--bootstrap-servers", bootstrap, "--port", "" + registryPort);
        add("gateway", "--bootstrap-servers", bootstrap, "--registry-url", registry, "--http-port", "" + httpPort,
                "--mqtt-port", "" + mqttPort, "--tokens", dataDir.resolve("gateway-tokens.yaml").toString(),
                "--create-token", tokenFile().toString());
        add("speed", "--bootstrap-servers", bootstrap, "--registry-url", registry, "--data", dataDir.resolve("speed").toString(),
                "--web-port", "" + freePort(), "--metrics-port", "" + freePort(), "--bucket", bucket.toString(), "--checkpoint-interval", "PT5S");
        add("batch", "scheduler", "--bootstrap-servers", bootstrap, "--registry-url", registry, "--lake", lake,
                "--interval", batchInterval.toString(), "--bucket", bucket.toString(), "--safety-margin", bucket.toString(),
                "--metrics-port", "0");
        add("serving", "--bootstrap-servers", bootstrap, "--lake", lake, "--data", dataDir.resolve("serving").toString(),
                "--port", "" + servingPort);
    }

    /**
     * Mounts a 64 MiB tmpfs on {@code dir} (as root, where mounts are allowed), so the lake's disk can
     * be filled up without touching the machine's; false where that is not possible.
     */
    static boolean mountSmallFilesystem(Path dir) throws IOException {
        Files.createDirectories(dir);
        try {
            Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", dir.toString())
                    .redirectErrorStream(true).start();
            return mount.waitFor(30, TimeUnit.SECONDS) && mount.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Fills the lake's filesystem to the last byte; returns the filler to delete to give the space back. */
    Path fillLake() throws IOException {
        Path filler = lake.resolve("verify-filler");
        byte[] block = new byte[1 << 20];
        try (var out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(block);
            }
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("No space left")) {
                throw e;
            }
        }
        try (var out = Files.newOutputStream(lake.resolve("verify-filler-rest"))) { // the last partial block
            for (int i = 0; i < (1 << 20); i++) {
                out.write(0);
            }
        } catch (IOException e) {
            // full
        }
        return filler;
    }

    void freeLake(Path filler) throws IOException {
        Files.deleteIfExists(filler);
        Files.deleteIfExists(lake.resolve("verify-filler-rest"));
    }

    private void add(String name, String... args) {
        parts.put(name, new Part(name, List.of(args)));
    }

    Path tokenFile() {
        return dataDir.resolve("local.token");
    }

    String bootstrap() {
        return "127.0.0.1:" + kafkaPort;
    }

    String registryUrl() {
        return "http://127.0.0.1:" + registryPort;
    }

    String servingUrl() {
        return "http://127.0.0.1:" + servingPort;
    }

    String gatewayUrl() {
        return "http://127.0.0.1:" + httpPort;
    }

    Part part(String name) {
        return parts.get(name);
    }

    List<String> names() {
        return List.copyOf(parts.keySet());
    }

    /** Starts every component in order, each once the one before is ready. */
    void start() throws Exception {
        for (Part part : parts.values()) {
            part.start();
            part.awaitReady();
        }
    }

    @Override
    public void close() throws InterruptedException {
        List<Part> reverse = new ArrayList<>(parts.values());
        java.util.Collections.reverse(reverse);
        for (Part part : reverse) {
            part.stop();
        }
        if (lakeMounted) {
            try {
                new ProcessBuilder("umount", lake.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
            } catch (IOException e) {
                // left mounted: the next run's data dir is another
            }
        }
    }

    /** The lines of a component's log. */
    List<String> log(String name) throws IOException {
        return Files.readAllLines(dataDir.resolve("logs").resolve(name + ".log"), StandardCharsets.UTF_8);
    }

    static void signal(String signal, long pid) throws IOException, InterruptedException {
        int code = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start().waitFor();
        if (code != 0) {
            throw new IOException("kill -" + signal + " " + pid + " exited " + code);
        }
    }

    static void signalQuietly(String signal, long pid) {
        try {
            signal(signal, pid);
        } catch (IOException e) {
            // gone already
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
