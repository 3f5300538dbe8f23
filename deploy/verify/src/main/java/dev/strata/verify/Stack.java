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

    /**
     * One component: its command and, while it runs, its process (the CLI) and the component's JVM.
     * A one-shot part (the speed job's submission to a cluster) says READY and exits.
     */
    final class Part {
        final String name;
        final String command;
        final List<String> args;
        final boolean oneShot;
        Process cli;
        CompletableFuture<String> ready;

        Part(String name, String command, List<String> args, boolean oneShot) {
            this.name = name;
            this.command = command;
            this.args = args;
            this.oneShot = oneShot;
        }

        void start() throws IOException {
            List<String> command = new ArrayList<>(List.of(
                    java(), "-Dstrata.home=" + home, "-cp", cliClasspath, "dev.strata.cli.StrataCli", this.command));
            command.addAll(args);
            ProcessBuilder builder =
                    new ProcessBuilder(command).directory(home.toFile()).redirectErrorStream(true);
            cli = builder.start();
            CompletableFuture<String> readyNow = new CompletableFuture<>();
            ready = readyNow;
            Process process = cli;
            Thread pump = new Thread(
                    () -> {
                        String readyLine = "READY " + this.command + " ";
                        try (BufferedReader in = new BufferedReader(
                                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                                PrintWriter log = new PrintWriter(
                                        Files.newBufferedWriter(
                                                dataDir.resolve("logs").resolve(name + ".log"),
                                                StandardCharsets.UTF_8,
                                                StandardOpenOption.CREATE,
                                                StandardOpenOption.APPEND),
                                        true)) {
                            String line;
                            while ((line = in.readLine()) != null) {
                                log.println(line);
                                if (line.startsWith(readyLine)) {
                                    readyNow.complete(
                                            line.substring(readyLine.length()).trim());
                                }
                            }
                        } catch (IOException e) {
                            // the process went away
                        } finally {
                            readyNow.completeExceptionally(
                                    new IllegalStateException(name + " exited before it was ready"));
                        }
                    },
                    name + "-output");
            pump.setDaemon(true);
            pump.start();
        }

        String awaitReady() throws Exception {
            String endpoint = ready.get(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (oneShot && (!cli.waitFor(READY_TIMEOUT.toSeconds(), TimeUnit.SECONDS) || cli.exitValue() != 0)) {
                throw new IllegalStateException(name + " did not end with exit code 0");
            }
            return endpoint;
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
                if (!h.onExit()
                        .completeOnTimeout(h, 30, TimeUnit.SECONDS)
                        .join()
                        .isAlive()) {
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
    /** Cluster mode: three Kafka brokers and a Flink session cluster (JobManager, TaskManager) the jobs run on. */
    final boolean cluster;

    final List<Integer> kafkaPorts = new ArrayList<>();
    /** Cluster mode: the JobManager's REST URL. */
    String jobManagerUrl;
    /** Whether the lake is on a filesystem of its own (a small tmpfs), which the disk-full fault fills. */
    final boolean lakeMounted;

    final Path lake;
    final int kafkaPort;
    final int registryPort;
    final int httpPort;
    final int mqttPort;
    final int servingPort;

    Stack(Path home, Path dataDir, Duration bucket, Duration batchInterval, boolean cluster) throws IOException {
        this.home = home;
        this.dataDir = dataDir;
        this.cluster = cluster;
        Files.createDirectories(dataDir.resolve("logs"));
        Path classpath = home.resolve("deploy/cli/target/runtime-classpath.txt");
        this.cliClasspath = home.resolve("deploy/cli/target/classes")
                + java.io.File.pathSeparator
                + Files.readString(classpath, StandardCharsets.UTF_8).trim();
        kafkaPort = freePort();
        registryPort = freePort();
        httpPort = freePort();
        mqttPort = freePort();
        servingPort = freePort();
        String registry = "http://127.0.0.1:" + registryPort;
        this.lake = dataDir.resolve("lake");
        this.lakeMounted = mountSmallFilesystem(this.lake);
        String lake = this.lake.toString();
        if (cluster) {
            addKafkaCluster();
        } else {
            kafkaPorts.add(kafkaPort);
            add(
                    "kafka",
                    "--data",
                    dataDir.resolve("kafka").toString(),
                    "--port",
                    "" + kafkaPort,
                    "--controller-port",
                    "" + freePort());
        }
        String bootstrap = bootstrap();
        add("registry", "--bootstrap-servers", bootstrap, "--port", "" + registryPort);
        add(
                "gateway",
                "--bootstrap-servers",
                bootstrap,
                "--registry-url",
                registry,
                "--http-port",
                "" + httpPort,
                "--mqtt-port",
                "" + mqttPort,
                "--tokens",
                dataDir.resolve("gateway-tokens.yaml").toString(),
                "--create-token",
                tokenFile().toString());
        List<String> batch = new ArrayList<>(List.of(
                "scheduler",
                "--bootstrap-servers",
                bootstrap,
                "--registry-url",
                registry,
                "--lake",
                lake,
                "--interval",
                batchInterval.toString(),
                "--bucket",
                bucket.toString(),
                "--safety-margin",
                bucket.toString(),
                "--metrics-port",
                "0"));
        if (cluster) {
            String jobManager = addFlinkCluster();
            parts.put(
                    "speed",
                    new Part(
                            "speed",
                            "speed",
                            List.of(
                                    "--bootstrap-servers",
                                    bootstrap,
                                    "--registry-url",
                                    registry,
                                    "--bucket",
                                    bucket.toString(),
                                    "--checkpoint-interval",
                                    "PT5S",
                                    "submit",
                                    "--jobmanager",
                                    jobManager,
                                    "--from-checkpoints",
                                    dataDir.resolve("flink/checkpoints").toString()),
                            true));
            batch.addAll(List.of("--jobmanager", jobManager));
        } else {
            add(
                    "speed",
                    "--bootstrap-servers",
                    bootstrap,
                    "--registry-url",
                    registry,
                    "--data",
                    dataDir.resolve("speed").toString(),
                    "--web-port",
                    "" + freePort(),
                    "--metrics-port",
                    "" + freePort(),
                    "--bucket",
                    bucket.toString(),
                    "--checkpoint-interval",
                    "PT5S");
        }
        add("batch", batch.toArray(String[]::new));
        add(
                "serving",
                "--bootstrap-servers",
                bootstrap,
                "--lake",
                lake,
                "--data",
                dataDir.resolve("serving").toString(),
                "--port",
                "" + servingPort);
    }

    /** Three KRaft nodes (kafka-1…3), replication factor 3, min.insync.replicas 2. */
    private void addKafkaCluster() throws IOException {
        List<Integer> controllers = new ArrayList<>();
        List<String> voters = new ArrayList<>();
        for (int node = 1; node <= 3; node++) {
            kafkaPorts.add(node == 1 ? kafkaPort : freePort());
            controllers.add(freePort());
            voters.add(node + "@127.0.0.1:" + controllers.get(node - 1));
        }
        String clusterId = org.apache.kafka.common.Uuid.randomUuid().toString();
        for (int node = 1; node <= 3; node++) {
            String name = "kafka-" + node;
            parts.put(
                    name,
                    new Part(
                            name,
                            "kafka",
                            List.of(
                                    "--data",
                                    dataDir.resolve(name).toString(),
                                    "--port",
                                    "" + kafkaPorts.get(node - 1),
                                    "--controller-port",
                                    "" + controllers.get(node - 1),
                                    "--node-id",
                                    "" + node,
                                    "--controller-quorum-voters",
                                    String.join(",", voters),
                                    "--cluster-id",
                                    clusterId,
                                    "--replication-factor",
                                    "3"),
                            false));
        }
    }

    /** A Flink JobManager and a TaskManager from Flink's entry points; returns the JobManager's REST HOST:PORT. */
    private String addFlinkCluster() throws IOException {
        Path flink = dataDir.resolve("flink");
        for (String dir : List.of("checkpoints", "jobmanager-tmp", "taskmanager-1")) {
            Files.createDirectories(flink.resolve(dir));
        }
        int rest = freePort();
        List<String> common = List.of(
                "-Drest.port=" + rest,
                "-Djobmanager.rpc.port=" + freePort(),
                "-Dexecution.checkpointing.dir=" + flink.resolve("checkpoints").toUri());
        List<String> jobManager = new ArrayList<>(common);
        jobManager.addAll(List.of(
                "-Dmetrics.reporter.prom.port=" + freePort(), "-Dio.tmp.dirs=" + flink.resolve("jobmanager-tmp")));
        parts.put("flink-jobmanager", new Part("flink-jobmanager", "flink-jobmanager", jobManager, false));
        List<String> taskManager = new ArrayList<>(common);
        taskManager.addAll(List.of(
                "-Dmetrics.reporter.prom.port=" + freePort(),
                "-Dio.tmp.dirs=" + flink.resolve("taskmanager-1"),
                "-Dtaskmanager.resource-id=taskmanager-1"));
        parts.put("flink-taskmanager", new Part("flink-taskmanager", "flink-taskmanager", taskManager, false));
        jobManagerUrl = "http://127.0.0.1:" + rest;
        return "127.0.0.1:" + rest;
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
        parts.put(name, new Part(name, name, List.of(args), false));
    }

    Path tokenFile() {
        return dataDir.resolve("local.token");
    }

    String bootstrap() {
        return String.join(",", kafkaPorts.stream().map(p -> "127.0.0.1:" + p).toList());
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

    /**
     * Starts every component in order, each once the one before is ready; the nodes of a Kafka
     * cluster together (none is ready before a quorum runs).
     */
    void start() throws Exception {
        List<Part> kafka =
                parts.values().stream().filter(p -> p.command.equals("kafka")).toList();
        for (Part part : kafka) {
            part.start();
        }
        for (Part part : kafka) {
            part.awaitReady();
        }
        for (Part part : parts.values()) {
            if (!part.command.equals("kafka")) {
                part.start();
                part.awaitReady();
            }
        }
    }

    /** The parts that run until stopped (not a one-shot submission). */
    List<String> processes() {
        return parts.values().stream().filter(p -> !p.oneShot).map(p -> p.name).toList();
    }

    @Override
    public void close() throws InterruptedException {
        List<Part> reverse = new ArrayList<>(
                parts.values().stream().filter(p -> !p.command.equals("kafka")).toList());
        java.util.Collections.reverse(reverse);
        for (Part part : reverse) {
            part.stop();
        }
        // The Kafka nodes together: the last of a cluster cannot shut down cleanly once its quorum is gone.
        List<Thread> stopping = new ArrayList<>();
        for (Part part : parts.values()) {
            if (part.command.equals("kafka")) {
                Thread t = new Thread(
                        () -> {
                            try {
                                part.stop();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        "stop-" + part.name);
                t.start();
                stopping.add(t);
            }
        }
        for (Thread t : stopping) {
            t.join();
        }
        if (lakeMounted) {
            try {
                new ProcessBuilder("umount", lake.toString())
                        .inheritIO()
                        .start()
                        .waitFor(30, TimeUnit.SECONDS);
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
        int code = new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
                .inheritIO()
                .start()
                .waitFor();
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
