package dev.strata.lake;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ReachableFileUtil;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.SupportsPrefixOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Maintenance's sweep of orphan files: what no snapshot, manifest or metadata file of a table names. */
final class OrphanFiles {

    private static final Logger LOG = LoggerFactory.getLogger(OrphanFiles.class);

    private OrphanFiles() {}

    /**
     * Deletes the files under the table's location that none of its snapshots, manifests or metadata
     * files name and that are older than the orphan age: leftovers of crashed writers. A write in
     * progress is younger than the age, so it is never taken for one.
     */
    static int remove(Table table, long olderThan, List<String> notes) {
        FileIO io = table.io();
        if (!(io instanceof SupportsPrefixOperations prefixes)) {
            notes.add(table.name() + ": its file I/O cannot list files; orphan files left");
            return 0;
        }
        table.refresh();
        Set<String> referenced = new HashSet<>();
        TableMetadata metadata = ((HasTableOperations) table).operations().current();
        referenced.addAll(normalized(ReachableFileUtil.metadataFileLocations(table, true)));
        referenced.add(normalize(metadata.metadataFileLocation()));
        referenced.add(normalize(ReachableFileUtil.versionHintLocation(table)));
        referenced.addAll(normalized(ReachableFileUtil.statisticsFilesLocations(table)));
        for (Snapshot snapshot : table.snapshots()) {
            if (snapshot.manifestListLocation() != null) {
                referenced.add(normalize(snapshot.manifestListLocation()));
            }
            for (ManifestFile manifest : snapshot.allManifests(io)) {
                referenced.add(normalize(manifest.path()));
                try (CloseableIterable<String> paths = ManifestFiles.readPaths(manifest, io, table.specs())) {
                    paths.forEach(p -> referenced.add(normalize(p)));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        List<String> orphans = new ArrayList<>();
        for (FileInfo file : list(prefixes, table.location())) {
            // An identity index is kept while its data file is (IdentityIndex: derived, beside the file).
            String owner = IdentityIndex.dataFileOf(file.location()).orElse(file.location());
            if (file.createdAtMillis() < olderThan && !referenced.contains(normalize(owner))) {
                orphans.add(file.location());
            }
        }
        // Listed after the references were read: a file committed meanwhile is younger than the age.
        for (String orphan : orphans) {
            io.deleteFile(orphan);
        }
        if (!orphans.isEmpty()) {
            LOG.info("{}: removed {} orphan file(s)", table.name(), orphans.size());
        }
        return orphans.size();
    }

    /**
     * The files under {@code location}. A local directory is walked by the JDK, skipping a file that
     * another writer removes meanwhile (Hadoop's listing fails on it: racing maintenance runs and
     * writers cleaning up do remove files); an object store is listed by its file I/O.
     */
    private static List<FileInfo> list(SupportsPrefixOperations prefixes, String location) {
        String normalized = normalize(location);
        if (!normalized.startsWith("/")) {
            List<FileInfo> files = new ArrayList<>();
            prefixes.listPrefix(location).forEach(files::add);
            return files;
        }
        List<FileInfo> files = new ArrayList<>();
        Path root = Path.of(normalized);
        if (!Files.isDirectory(root)) {
            return files;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    // Hadoop's checksum files are its own, not the table's (its listing leaves them out too).
                    if (attrs.isRegularFile() && !file.getFileName().toString().endsWith(".crc")) {
                        files.add(new FileInfo(
                                "file:" + file,
                                attrs.size(),
                                attrs.lastModifiedTime().toMillis()));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE; // removed meanwhile
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    private static List<String> normalized(Iterable<String> locations) {
        List<String> out = new ArrayList<>();
        locations.forEach(l -> out.add(normalize(l)));
        return out;
    }

    /** {@code file:/x}, {@code file:///x} and {@code /x} name the same local file. */
    static String normalize(String location) {
        if (location.startsWith("file:")) {
            String rest = location.substring("file:".length());
            while (rest.startsWith("//")) {
                rest = rest.substring(1);
            }
            return rest;
        }
        return location;
    }
}
