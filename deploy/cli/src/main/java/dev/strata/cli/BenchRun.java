package dev.strata.cli;

import dev.strata.cli.stack.Component;
import dev.strata.cli.stack.StackPorts;
import dev.strata.cli.stack.StackSpec;
import dev.strata.cli.stack.Supervisor;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.apache.commons.io.FileUtils;

/** Where one benchmark run keeps its stack's data (deleted afterwards) and writes its report. */
record BenchRun(Path home, Path dataDir, Path reportFile) {
    static BenchRun of(String bench, Path report) {
        Path home = StrataCli.home();
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        return new BenchRun(
                home,
                home.resolve("data/bench/stack-" + stamp),
                report != null ? report : home.resolve("data/bench/" + bench + "-" + stamp + ".md"));
    }

    /** Attempts to start the bench's stack, each on new free ports. */
    static final int START_ATTEMPTS = 3;

    /**
     * Starts the stack {@code configure} describes (on free loopback ports, in this run's data
     * directory; again on new ports if a port was taken before its component bound it), runs the
     * {@code driver} against it with {@code args} and the report file, then stops the stack and
     * deletes its data, whatever happens (Ctrl-C included).
     */
    int against(UnaryOperator<StackSpec.Builder> configure, Component driver, Function<StackSpec, List<String>> args)
            throws Exception {
        AtomicReference<Supervisor> current = new AtomicReference<>();
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            try {
                                if (current.get() != null) {
                                    current.get().stop();
                                }
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        "bench-shutdown"));
        try {
            for (int attempt = 1; ; attempt++) {
                StackSpec stack = configure
                        .apply(StackSpec.builder(home, dataDir, StackPorts.free(BenchCommand.HOST, 1))
                                .host(BenchCommand.HOST))
                        .build();
                Supervisor supervisor = Supervisor.of(stack, System.err);
                current.set(supervisor);
                try {
                    supervisor.start();
                    return drive(driver, args.apply(stack));
                } catch (Supervisor.StartupFailure e) {
                    supervisor.stop();
                    if (attempt == START_ATTEMPTS) {
                        throw e;
                    }
                    System.err.println("strata: " + e.getMessage() + " Again on new ports.");
                    FileUtils.deleteDirectory(dataDir.toFile());
                } finally {
                    supervisor.stop();
                }
            }
        } catch (Supervisor.StartupFailure e) {
            System.err.println("strata: " + e.getMessage());
            return 1;
        } finally {
            FileUtils.deleteDirectory(dataDir.toFile());
        }
    }

    private int drive(Component driver, List<String> args) throws Exception {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of("--report", reportFile.toString()));
        int code = new ProcessBuilder(driver.command(home, all))
                .inheritIO()
                .start()
                .waitFor();
        if (code == 0) {
            System.err.println("strata: report written to " + reportFile);
        }
        return code;
    }
}
