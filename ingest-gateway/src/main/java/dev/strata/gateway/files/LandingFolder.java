package dev.strata.gateway.files;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.strata.gateway.metrics.GatewayMetrics;
import dev.strata.lake.LakeFiles;
import dev.strata.schemas.lake.DatasetNames;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The landing folder ({@code landing/{dataset}/}): a file is taken once its size and time have
 * stayed the same for the settle time (a copy in progress is left alone); a file it cannot take
 * (a symbolic link, a folder that is not a dataset name, a type the gateway does not read) is
 * renamed {@code .refused} with its outcome beside it ({@code .refused.json}). Hidden files and
 * the suffixes of files still being written are skipped; links are never followed.
 */
final class LandingFolder {

    private static final Logger LOG = LoggerFactory.getLogger(LandingFolder.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final List<String> IN_PROGRESS_SUFFIXES =
            List.of(".tmp", ".part", ".partial", ".crdownload", ".refused", ".refused.json");

    /** Takes a settled file of a dataset into the lake; false when there is no room now (tried again). */
    @FunctionalInterface
    interface Intake {
        boolean take(String dataset, Path file, FileFormat format) throws IOException;
    }

    private record Seen(long size, long modified, long sinceMillis) {}

    private final Path root;
    private final Duration settle;
    private final Clock clock;
    private final GatewayMetrics metrics;
    private final LakeFiles files;
    private final Supplier<String> ids;
    private final Intake intake;
    private final Map<Path, Seen> seen = new HashMap<>();

    LandingFolder(
            Path root,
            Duration settle,
            Clock clock,
            GatewayMetrics metrics,
            LakeFiles files,
            Supplier<String> ids,
            Intake intake) {
        this.root = root;
        this.settle = settle;
        this.clock = clock;
        this.metrics = metrics;
        this.files = files;
        this.ids = ids;
        this.intake = intake;
    }

    /** Lists the folder once: takes each file that has settled, refuses what it cannot take. */
    void poll() {
        try {
            long now = clock.millis();
            Set<Path> present = new HashSet<>();
            // Links are never followed: a link in the landing folder would make whatever it points to a dataset.
            try (DirectoryStream<Path> datasets =
                    Files.newDirectoryStream(root, p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))) {
                for (Path dir : datasets) {
                    String dirName = dir.getFileName().toString();
                    if (dirName.startsWith(".") || dirName.startsWith("_")) {
                        continue;
                    }
                    try (DirectoryStream<Path> files = Files.newDirectoryStream(
                            dir, p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.isSymbolicLink(p))) {
                        for (Path f : files) {
                            String name = f.getFileName().toString();
                            if (name.startsWith(".")
                                    || IN_PROGRESS_SUFFIXES.stream().anyMatch(name::endsWith)) {
                                continue;
                            }
                            if (Files.isSymbolicLink(f)) {
                                refuseInPlace(
                                        f,
                                        dirName,
                                        "'" + name
                                                + "' is a symbolic link: the landing folder takes files, never what a"
                                                + " link points to");
                                metrics.file("landing", Outcome.Status.REFUSED.json(), "symbolic_link");
                                continue;
                            }
                            present.add(f);
                            BasicFileAttributes attrs =
                                    Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                            Seen before = seen.get(f);
                            if (before == null
                                    || before.size() != attrs.size()
                                    || before.modified()
                                            != attrs.lastModifiedTime().toMillis()) {
                                seen.put(
                                        f,
                                        new Seen(
                                                attrs.size(),
                                                attrs.lastModifiedTime().toMillis(),
                                                now));
                                continue;
                            }
                            if (now - before.sinceMillis() < settle.toMillis()) {
                                continue;
                            }
                            if (take(dirName, f)) {
                                seen.remove(f);
                                present.remove(f);
                            }
                        }
                    }
                }
            }
            seen.keySet().retainAll(present);
        } catch (Exception e) {
            LOG.warn("Listing the landing folder {} failed: {}", root, e.toString());
        }
    }

    /** Takes a settled landing file into the raw zone and converts it; false if there is no room now. */
    private boolean take(String dataset, Path file) throws IOException {
        String name = file.getFileName().toString();
        Optional<String> badName = DatasetNames.invalid(dataset);
        Optional<FileFormat> format = FileFormat.ofFileName(name);
        if (badName.isPresent() || format.isEmpty()) {
            String reason = badName.isPresent()
                    ? "folder '" + dataset + "' is not a dataset name: " + badName.get()
                    : "'" + name
                            + "' is not a file type the gateway reads: use .csv (with a header row), .ndjson or .jsonl, each optionally .gz";
            refuseInPlace(file, dataset, reason);
            metrics.file("landing", Outcome.Status.REFUSED.json(), badName.isPresent() ? "bad_dataset" : "unsupported");
            return true;
        }
        return intake.take(dataset, file, format.get());
    }

    private void refuseInPlace(Path file, String dataset, String reason) throws IOException {
        String name = file.getFileName().toString();
        LOG.warn("Refused landing file {}: {}", file, reason);
        Path refused = file.resolveSibling(name + ".refused");
        Files.move(file, refused, StandardCopyOption.ATOMIC_MOVE);
        Upload upload = new Upload(
                ids.get(),
                dataset,
                null,
                "landing:" + name,
                files,
                refused.toString(),
                Files.readAttributes(refused, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                        .size(),
                null,
                clock.millis());
        JSON.writeValue(
                file.resolveSibling(name + ".refused.json").toFile(),
                Outcome.refused(upload, 422, reason, clock.millis()));
    }
}
