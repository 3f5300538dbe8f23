package dev.strata.schemas;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Finds a module's shaded Flink job jar ({@code <module>/target/*-job.jar}) under {@code strata.home}. */
public final class JobJar {

    private JobJar() {}

    /** @throws IllegalStateException naming the build command when the jar is not built */
    public static Path of(String module) throws IOException {
        Path target =
                Path.of(System.getProperty("strata.home", ".")).resolve(module).resolve("target");
        String missing = "no job jar in " + target + ": run ./mvnw package -DskipTests";
        try (Stream<Path> files = Files.list(target)) {
            return files.filter(p -> p.getFileName().toString().endsWith("-job.jar"))
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException(missing));
        } catch (NoSuchFileException e) {
            throw new IllegalStateException(missing, e);
        }
    }
}
