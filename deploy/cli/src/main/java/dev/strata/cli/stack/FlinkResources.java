package dev.strata.cli.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Flink process's JVM flags and memory settings, derived from its configuration by Flink's
 * {@code BashJavaUtils} exactly as Flink's {@code jobmanager.sh} and {@code taskmanager.sh} do:
 * {@code -Xmx}, {@code -Xms}, {@code -XX:MaxDirectMemorySize}, {@code -XX:MaxMetaspaceSize} for the
 * JVM, and the memory pools as {@code -D} properties for the entry point.
 */
record FlinkResources(List<String> jvmOptions, List<String> dynamicProperties) {

    static final String RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:";

    /**
     * Runs {@code BashJavaUtils command --configDir DIR -D…} on the given classpath.
     *
     * @param command {@code GET_JM_RESOURCE_PARAMS} or {@code GET_TM_RESOURCE_PARAMS}
     * @param args the process's own arguments ({@code --configDir} and {@code -D} properties)
     */
    static FlinkResources compute(String classpath, String command, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(
                Component.javaExecutable(),
                "-cp",
                classpath,
                "org.apache.flink.runtime.util.bash.BashJavaUtils",
                command));
        cmd.addAll(args);
        try {
            Process process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException(
                        "Flink's BashJavaUtils " + command + " failed (a wrong memory setting?):\n" + output);
            }
            List<String> results = output.lines()
                    .filter(l -> l.startsWith(RESULT_PREFIX))
                    .map(l -> l.substring(RESULT_PREFIX.length()).trim())
                    .toList();
            if (results.size() < 2) {
                throw new IllegalStateException("Flink's BashJavaUtils " + command + " printed no result:\n" + output);
            }
            return new FlinkResources(words(results.get(results.size() - 2)), words(results.get(results.size() - 1)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** The arguments with {@code --configDir} added when missing (Strata's cluster config). */
    static List<String> withConfigDir(Path home, List<String> args) {
        if (args.contains("--configDir") || args.contains("-c")) {
            return args;
        }
        List<String> all = new ArrayList<>(
                List.of("--configDir", home.resolve("deploy/cluster/conf").toString()));
        all.addAll(args);
        return all;
    }

    private static List<String> words(String line) {
        return line.isBlank()
                ? List.of()
                : Arrays.stream(line.trim().split("\\s+")).toList();
    }
}
