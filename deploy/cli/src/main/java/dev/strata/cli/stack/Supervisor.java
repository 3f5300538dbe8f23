package dev.strata.cli.stack;

import dev.strata.schemas.net.LocalPorts;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a stack's components ({@link StackSpec#launches()}), each as its own JVM, in order, each
 * once the one before it is ready; restarts nothing silently. {@link #run} is {@code strata up}:
 * it prints the endpoints, and if a component dies it says so and stops the stack; on a stop
 * request (Ctrl-C, SIGTERM) it stops the components in reverse order and waits for every process
 * to be gone. {@link #start} and {@link #stop} are the same for benchmarks and the guarantee suite,
 * which also kill, restart and pause components by name.
 */
public final class Supervisor {

    /**
     * A component to start: its arguments, the ports it will take, how to name its endpoint, the
     * name of its log ({@code logs/<name>.log}) and how it starts.
     */
    public record Launch(
            Component component,
            List<String> args,
            String label,
            String host,
            List<Integer> ports,
            String name,
            Start start) {
        public Launch(Component component, List<String> args, String label, String host, List<Integer> ports) {
            this(component, args, label, host, ports, component.id(), Start.READY);
        }
    }

    /** How a launch starts. */
    public enum Start {
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

    /** Why the stack could not start, in one line. */
    public static final class StartupFailure extends Exception {
        private static final long serialVersionUID = 1L;

        StartupFailure(String message) {
            super(message);
        }
    }

    public static final Duration READY_TIMEOUT = Duration.ofSeconds(120);
    static final Duration STOP_GRACE = Duration.ofSeconds(20);

    private final Path home;
    private final Path dataDir;
    private final List<Launch> launches;
    private final PrintStream console;
    private final boolean echo;
    private final Duration readyTimeout;
    /** Running processes by name, in start order. */
    private final Map<String, ComponentProcess> running = new LinkedHashMap<>();
    /** Names of processes started with the one after them ({@link Start#WITH_NEXT}). */
    private final Set<String> startedTogether = ConcurrentHashMap.newKeySet();

    private final CompletableFuture<Void> stopRequested = new CompletableFuture<>();
    private final CountDownLatch stopped = new CountDownLatch(1);

    /**
     * @param console where the supervisor says what it does
     * @param echo whether the components' output goes to the console too (it always goes to their logs)
     */
    public Supervisor(
            Path home, Path dataDir, List<Launch> launches, PrintStream console, boolean echo, Duration readyTimeout) {
        this.home = home;
        this.dataDir = dataDir;
        this.launches = List.copyOf(launches);
        this.console = console;
        this.echo = echo;
        this.readyTimeout = readyTimeout;
    }

    /** The stack of {@code spec}, echoing its components' output to {@code console}. */
    public static Supervisor of(StackSpec spec, PrintStream console) throws IOException {
        return new Supervisor(spec.home(), spec.dataDir(), spec.launches(), console, true, READY_TIMEOUT);
    }

    /** Runs the stack until a stop is requested or a component dies; returns the exit code. */
    public int run() throws Exception {
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
            running.values().forEach(p -> watched.add(p.onExit()));
        }
        CompletableFuture.anyOf(watched.toArray(CompletableFuture[]::new)).get();
        if (stopRequested.isDone()) {
            return 0;
        }
        synchronized (running) {
            for (ComponentProcess p : running.values()) {
                if (!p.isAlive()) {
                    console.println("strata: " + p.name() + " exited unexpectedly (exit code "
                            + p.exitCode().orElse(-1) + "); see " + logOf(p.name())
                            + ". Stopping the stack.");
                }
            }
        }
        return 1;
    }

    /**
     * Starts every component in order, each once the one before is ready; returns the endpoint
     * lines. The caller stops the components ({@link #stop}) whatever happens.
     */
    public List<String> start() throws Exception {
        Files.createDirectories(dataDir.resolve("logs"));
        for (Launch launch : launches) {
            for (int port : launch.ports()) {
                Optional<String> busy = LocalPorts.inUse(launch.host(), port);
                if (busy.isPresent()) {
                    throw new StartupFailure("port " + port + " (" + launch.label() + ") is in use: " + busy.get()
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
                started.add(launch(l));
                if (l.start() == Start.WITH_NEXT) {
                    startedTogether.add(l.name());
                }
            }
            for (int i = 0; i < group.size(); i++) {
                endpoints.add(
                        String.format("  %-18s %s", group.get(i).label(), awaitReady(group.get(i), started.get(i))));
            }
            group.clear();
        }
        return endpoints;
    }

    private ComponentProcess launch(Launch l) throws IOException {
        console.println("strata: starting " + l.name());
        synchronized (running) {
            ComponentProcess process = ComponentProcess.start(
                    l.component(),
                    l.name(),
                    home,
                    l.args(),
                    dataDir.resolve("logs").resolve(l.name() + ".log"),
                    echo ? console : null);
            running.put(l.name(), process);
            return process;
        }
    }

    /** Waits for the READY line (and the exit of a one-shot step); returns the endpoint it announced. */
    private String awaitReady(Launch l, ComponentProcess process) throws StartupFailure, InterruptedException {
        try {
            String endpoint = process.awaitReady(readyTimeout);
            if (l.start() == Start.ONE_SHOT) {
                int code = process.awaitExit(readyTimeout);
                synchronized (running) {
                    running.remove(l.name());
                }
                if (code != 0) {
                    throw new IllegalStateException(l.name() + " exited with code " + code);
                }
            }
            return endpoint;
        } catch (IllegalStateException | TimeoutException e) {
            throw new StartupFailure(e.getMessage() + "; see " + logOf(l.name()) + ". Stopping the stack.");
        }
    }

    /** The names of the processes that run until stopped (one-shot steps are done). */
    public List<String> processes() {
        synchronized (running) {
            return List.copyOf(running.keySet());
        }
    }

    /** The process id of a running component, if it runs. */
    public Optional<Long> pid(String name) {
        synchronized (running) {
            ComponentProcess p = running.get(name);
            return p == null || !p.isAlive() ? Optional.empty() : Optional.of(p.pid());
        }
    }

    /** SIGKILL of a component's JVM; returns once it is gone. */
    public void kill(String name) throws InterruptedException {
        process(name).kill();
    }

    /** Starts a component again with the same command and waits until it is ready. */
    public void restart(String name) throws Exception {
        Launch launch = launches.stream()
                .filter(l -> l.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no component " + name));
        awaitReady(launch, launch(launch));
    }

    /** SIGSTOP of a component's JVM for {@code pause}, then SIGCONT. */
    public void pause(String name, Duration pause) throws IOException, InterruptedException {
        ComponentProcess process = process(name);
        process.signal("STOP");
        try {
            TimeUnit.MILLISECONDS.sleep(pause.toMillis());
        } finally {
            process.signal("CONT");
        }
    }

    private ComponentProcess process(String name) {
        synchronized (running) {
            ComponentProcess p = running.get(name);
            if (p == null) {
                throw new IllegalArgumentException(
                        "no running component " + name + " (running: " + running.keySet() + ")");
            }
            return p;
        }
    }

    /** Stops every component started, in reverse order. */
    public void stop() throws InterruptedException {
        stopAll();
    }

    /** Asks the stack to stop; {@link #run} stops every component and returns. */
    public void requestStop() {
        stopRequested.complete(null);
    }

    /** Waits until {@link #run} has stopped every component. */
    public boolean awaitStopped(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void stopAll() throws InterruptedException {
        List<ComponentProcess> toStop;
        synchronized (running) {
            toStop = new ArrayList<>(running.values());
            running.clear();
        }
        for (int i = toStop.size() - 1; i >= 0; i--) {
            ComponentProcess p = toStop.get(i);
            // Processes started together stop together: the last node of a Kafka cluster cannot
            // shut down cleanly once the others (its controller quorum) are gone.
            List<ComponentProcess> together = new ArrayList<>(List.of(p));
            while (i > 0 && startedTogether.contains(toStop.get(i - 1).name())) {
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
}
