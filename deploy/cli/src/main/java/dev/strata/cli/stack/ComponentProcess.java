package dev.strata.cli.stack;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One running component: its output is copied, line by line and prefixed with its name, to the
 * console and to its log file; the {@code READY} line it prints tells when it serves.
 */
final class ComponentProcess {

    private final Component component;
    private final String name;
    private final Process process;
    private final CompletableFuture<String> ready = new CompletableFuture<>();
    private final Thread pump;
    private volatile boolean stopping;

    private ComponentProcess(Component component, String name, Process process, Path logFile, PrintStream console) {
        this.component = component;
        this.name = name;
        this.process = process;
        this.pump = new Thread(() -> pump(logFile, console), name + "-output");
        this.pump.setDaemon(true);
        this.pump.start();
    }

    /** @param name the process's name in the console and its log: the component's id, or e.g. kafka-2 */
    static ComponentProcess start(
            Component component, String name, Path home, List<String> args, Path logFile, PrintStream console)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(component.command(home, args));
        builder.redirectErrorStream(true);
        builder.directory(home.toFile());
        // Flink's plugins (the S3 file system) where the module's build put them, unless set.
        Path plugins = home.resolve(component.module()).resolve("target/flink-plugins");
        if (Files.isDirectory(plugins) && !builder.environment().containsKey("FLINK_PLUGINS_DIR")) {
            builder.environment().put("FLINK_PLUGINS_DIR", plugins.toString());
        }
        return new ComponentProcess(component, name, builder.start(), logFile, console);
    }

    /** @param console where each line goes too, prefixed with the name; null: only to the log */
    private void pump(Path logFile, PrintStream console) {
        String prefix = String.format("[%-8s] ", name);
        String readyLine = Component.READY_PREFIX + component.id() + " ";
        try (BufferedReader in =
                        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                BufferedWriter log = Files.newBufferedWriter(
                        logFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            String line;
            while ((line = in.readLine()) != null) {
                log.write(line);
                log.newLine();
                log.flush();
                if (line.startsWith(readyLine)) {
                    ready.complete(line.substring(readyLine.length()).trim());
                } else if (console != null) {
                    console.println(prefix + line);
                }
            }
        } catch (IOException e) {
            if (!stopping && process.isAlive() && console != null) {
                console.println(prefix + "output lost: " + e);
            }
        } finally {
            ready.completeExceptionally(new IllegalStateException(name + " exited before it was ready"));
        }
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    CompletableFuture<Process> onExit() {
        return process.onExit();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Waits for the READY line; returns the endpoint the component announced. */
    String awaitReady(Duration timeout) throws InterruptedException, TimeoutException {
        try {
            return ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            waitForExit(Duration.ofSeconds(5));
            String code = process.isAlive() ? "still running" : "exit code " + process.exitValue();
            throw new IllegalStateException(name + " exited before it was ready (" + code + ")");
        } catch (TimeoutException e) {
            throw new TimeoutException(name + " was not ready within " + timeout.toSeconds() + " s");
        }
    }

    /** Waits for a step that ends by itself; returns its exit code. */
    int awaitExit(Duration timeout) throws InterruptedException, TimeoutException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException(name + " did not end within " + timeout.toSeconds() + " s");
        }
        pump.join(2_000);
        return process.exitValue();
    }

    /** SIGTERM, without waiting; a paused JVM is continued first (it could not stop). */
    void signalStop() {
        stopping = true;
        signalQuietly("CONT");
        process.destroy();
    }

    /** SIGKILL; returns once the process is gone. */
    void kill() throws InterruptedException {
        stopping = true;
        process.destroyForcibly();
        process.waitFor();
        pump.join(2_000);
    }

    /** Sends {@code kill -SIGNAL} to the process (STOP, CONT: what Java's Process cannot send). */
    void signal(String signal) throws IOException, InterruptedException {
        int code = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
                .inheritIO()
                .start()
                .waitFor();
        if (code != 0) {
            throw new IOException("kill -" + signal + " " + process.pid() + " exited " + code);
        }
    }

    private void signalQuietly(String signal) {
        try {
            signal(signal);
        } catch (IOException e) {
            // gone already
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGTERM, then SIGKILL after {@code grace}; waits for the process and its descendants. */
    void stop(Duration grace) throws InterruptedException {
        stopping = true;
        if (process.isAlive()) {
            signalQuietly("CONT");
        }
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroy();
        if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        for (ProcessHandle d : descendants) {
            d.destroyForcibly();
        }
        pump.join(2_000);
    }

    Optional<Integer> exitCode() {
        return process.isAlive() ? Optional.empty() : Optional.of(process.exitValue());
    }

    private void waitForExit(Duration timeout) throws InterruptedException {
        process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
