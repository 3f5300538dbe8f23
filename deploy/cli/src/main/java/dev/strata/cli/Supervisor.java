package dev.strata.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The local stack's supervisor: starts each component as its own JVM, in order, each once the one
 * before it is ready; prints the endpoints; restarts nothing silently. If a component dies, it says
 * so and stops the stack. On a stop request (Ctrl-C, SIGTERM) it stops the components in reverse
 * order and waits for every process to be gone.
 */
final class Supervisor {

    /**
     * A component to start: its arguments, the ports it will take, how to name its endpoint, the
     * name of its log ({@code logs/<name>.log}) and how it starts.
     */
    record Launch(
            Component component,
            List<String> args,
            String label,
            String host,
            List<Integer> ports,
            String name,
            Start start) {
        Launch(Component component, List<String> args, String label, String host, List<Integer> ports) {
            this(component, args, label, host, ports, component.id(), Start.READY);
        }
    }

    /** How a launch starts. */
    enum Start {
        /** Started once the launch before is ready; the next one waits until it is ready. */
        READY,
        /**
         * Started together with the launch after it, which then waits until both are ready: the
         * nodes of a Kafka cluster, none of which is ready before the others run.
         */
        WITH_NEXT,
        /** A step that says READY and exits 0 (a job submission); its exit does not stop the stack. */
        ONE_SHOT
    }

    static final Duration READY_TIMEOUT = Duration.ofSeconds(120);
    static final Duration STOP_GRACE = Duration.ofSeconds(20);

    private final Path home;
    private final Path dataDir;
    private final List<Launch> launches;
    private final PrintStream console;
    private final List<ComponentProcess> running = new ArrayList<>();
    /** Processes started with the one after them ({@link Start#WITH_NEXT}). */
    private final java.util.Set<ComponentProcess> startedTogether = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final CompletableFuture<Void> stopRequested = new CompletableFuture<>();
    private final CountDownLatch stopped = new CountDownLatch(1);

    Supervisor(Path home, Path dataDir, List<Launch> launches, PrintStream console) {
        this.home = home;
        this.dataDir = dataDir;
        this.launches = launches;
        this.console = console;
    }

    /** Runs the stack until a stop is requested or a component dies; returns the exit code. */
    int run() throws Exception {
        Files.createDirectories(dataDir.resolve("logs"));
        try (FileChannel lockFile = FileChannel.open(
                        dataDir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = lockFile.tryLock()) {
            if (lock == null) {
                console.println("strata: another stack is running on " + dataDir + ": stop it, or pass --data DIR");
                return 1;
            }
            return supervise();
        } finally {
            stopAll();
            stopped.countDown();
        }
    }

    private int supervise() throws Exception {
        List<String> endpoints;
        try {
            endpoints = start();
        } catch (StartupFailure e) {
            if (!stopRequested.isDone()) {
                console.println("strata: " + e.getMessage());
                return 1;
            }
            return 0;
        }
        console.println("");
        console.println("Strata is up (data in " + dataDir + "):");
        endpoints.forEach(console::println);
        Path token = dataDir.resolve("local.token");
        if (Files.exists(token)) {
            console.println("  Gateway token      " + Files.readString(token).trim() + "   (in " + token + ")");
        }
        if (Files.isDirectory(dataDir.resolve("landing"))) {
            console.println("  Files              POST a CSV or NDJSON to <gateway>/v1/files/{dataset}, or drop it in "
                    + dataDir.resolve("landing") + "/{dataset}/");
        }
        console.println("Logs in " + dataDir.resolve("logs") + ". Ctrl-C stops everything.");
        console.println("");

        List<CompletableFuture<?>> watched = new ArrayList<>();
        watched.add(stopRequested);
        synchronized (running) {
            running.forEach(p -> watched.add(p.onExit()));
        }
        CompletableFuture.anyOf(watched.toArray(CompletableFuture[]::new)).get();
        if (stopRequested.isDone()) {
            return 0;
        }
        synchronized (running) {
            for (ComponentProcess p : running) {
                if (!p.isAlive()) {
                    console.println("strata: " + p.name() + " exited unexpectedly (exit code "
                            + p.exitCode().orElse(-1) + "); see " + logOf(p.name())
                            + ". Stopping the stack.");
                }
            }
        }
        return 1;
    }

    /** Why the stack could not start, in one line. */
    static final class StartupFailure extends Exception {
        private static final long serialVersionUID = 1L;

        StartupFailure(String message) {
            super(message);
        }
    }

    /**
     * Starts every component in order, each once the one before is ready; returns the endpoint
     * lines. The caller stops the components ({@link #stop}) whatever happens.
     */
    List<String> start() throws Exception {
        Files.createDirectories(dataDir.resolve("logs"));
        for (Launch launch : launches) {
            for (int port : launch.ports()) {
                String busy = portInUse(launch.host(), port);
                if (busy != null) {
                    throw new StartupFailure("port " + port + " (" + launch.label() + ") is in use: " + busy
                            + "; free it or choose another port (see ./strata up --help)");
                }
            }
        }
        List<String> endpoints = new ArrayList<>();
        List<Launch> group = new ArrayList<>();
        for (Launch launch : launches) {
            group.add(launch);
            if (launch.start() == Start.WITH_NEXT) {
                continue;
            }
            if (stopRequested.isDone()) {
                throw new StartupFailure("stopped while starting");
            }
            List<ComponentProcess> started = new ArrayList<>();
            for (Launch l : group) {
                console.println("strata: starting " + l.name());
                synchronized (running) {
                    ComponentProcess process = ComponentProcess.start(
                            l.component(),
                            l.name(),
                            home,
                            l.args(),
                            dataDir.resolve("logs").resolve(l.name() + ".log"),
                            console);
                    running.add(process);
                    started.add(process);
                    if (l.start() == Start.WITH_NEXT) {
                        startedTogether.add(process);
                    }
                }
            }
            for (int i = 0; i < group.size(); i++) {
                Launch l = group.get(i);
                ComponentProcess process = started.get(i);
                try {
                    String endpoint = process.awaitReady(READY_TIMEOUT);
                    endpoints.add(String.format("  %-18s %s", l.label(), endpoint));
                    if (l.start() == Start.ONE_SHOT) {
                        int code = process.awaitExit(READY_TIMEOUT);
                        synchronized (running) {
                            running.remove(process);
                        }
                        if (code != 0) {
                            throw new IllegalStateException(l.name() + " exited with code " + code);
                        }
                    }
                } catch (IllegalStateException | java.util.concurrent.TimeoutException e) {
                    throw new StartupFailure(e.getMessage() + "; see " + logOf(l.name()) + ". Stopping the stack.");
                }
            }
            group.clear();
        }
        return endpoints;
    }

    /** Stops every component started, in reverse order. */
    void stop() throws InterruptedException {
        stopAll();
    }

    /** Asks the stack to stop; {@link #run} stops every component and returns. */
    void requestStop() {
        stopRequested.complete(null);
    }

    /** Waits until {@link #run} has stopped every component. */
    boolean awaitStopped(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void stopAll() throws InterruptedException {
        List<ComponentProcess> toStop;
        synchronized (running) {
            toStop = new ArrayList<>(running);
            running.clear();
        }
        for (int i = toStop.size() - 1; i >= 0; i--) {
            ComponentProcess p = toStop.get(i);
            // Processes started together stop together: the last node of a Kafka cluster cannot
            // shut down cleanly once the others (its controller quorum) are gone.
            List<ComponentProcess> together = new ArrayList<>(List.of(p));
            while (i > 0 && startedTogether.contains(toStop.get(i - 1))) {
                together.add(toStop.get(--i));
            }
            for (ComponentProcess q : together) {
                if (q.isAlive()) {
                    console.println("strata: stopping " + q.name());
                    q.signalStop();
                }
            }
            for (ComponentProcess q : together) {
                q.stop(STOP_GRACE);
            }
        }
        if (!toStop.isEmpty()) {
            console.println("strata: stopped");
        }
    }

    private Path logOf(String name) {
        return dataDir.resolve("logs").resolve(name + ".log");
    }

    /** Null if {@code host:port} can be bound, else why not. */
    static String portInUse(String host, int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new java.net.InetSocketAddress(InetAddress.getByName(host), port));
            return null;
        } catch (IOException e) {
            return e.getMessage();
        }
    }
}
