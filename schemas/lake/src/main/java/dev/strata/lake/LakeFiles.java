package dev.strata.lake;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.SupportsPrefixOperations;

/**
 * The lake's files that are not a table's: the raw zone of uploaded originals and their outcomes
 * ({@code raw/{dataset}/}) and the rejected rows ({@code rejects/{dataset}/}), by paths relative to
 * the lake. On a local lake they are files under its directory, each written whole (a hidden
 * temporary file renamed into place); on an object store, objects under its prefix through the
 * lake's Iceberg {@link FileIO} (a PUT is whole).
 */
public final class LakeFiles {

    /** A file: its name (in its directory), size and last change. */
    public record Entry(String name, long size, long modifiedMillis) {}

    private final String root;
    private final Optional<Path> local;
    private final FileIO io;

    LakeFiles(LakeConfig config, FileIO io) {
        this.local = config.localWarehouse() ? Optional.of(config.localDirectory()) : Optional.empty();
        this.root = config.warehouse().replaceAll("/+$", "");
        this.io = io;
    }

    /** The lake's directory when it is a local one. */
    public Optional<Path> localRoot() {
        return local;
    }

    /** The location (path or URI) of a file of the lake. */
    public String location(String relative) {
        return local.map(dir -> dir.resolve(relative).toString()).orElse(root + "/" + relative);
    }

    private Path path(String relative) {
        Path dir = local.orElseThrow();
        Path p = dir.resolve(relative).normalize();
        if (!p.startsWith(dir)) {
            throw new IllegalArgumentException(relative + " is outside the lake");
        }
        return p;
    }

    public boolean exists(String relative) {
        if (local.isPresent()) {
            return Files.exists(path(relative));
        }
        return io.newInputFile(location(relative)).exists();
    }

    /** Reads a file of the lake; a symbolic link is not followed (reading it fails). */
    public InputStream open(String relative) throws IOException {
        if (local.isPresent()) {
            return Files.newInputStream(path(relative), LinkOption.NOFOLLOW_LINKS);
        }
        InputFile in = io.newInputFile(location(relative));
        if (!in.exists()) {
            throw new NoSuchFileException(location(relative));
        }
        return in.newStream();
    }

    /** Writes a file whole: a reader sees the old one or the new one, never a part. */
    public void write(String relative, byte[] bytes) throws IOException {
        if (local.isPresent()) {
            Path target = path(relative);
            Files.createDirectories(target.getParent());
            Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
            Files.write(tmp, bytes);
            move(tmp, target);
            return;
        }
        try (OutputStream out = io.newOutputFile(location(relative)).createOrOverwrite()) {
            out.write(bytes);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** A stream writing a new file (not atomic on a local lake: for files only read after a commit names them). */
    public OutputStream create(String relative) throws IOException {
        if (local.isPresent()) {
            Path target = path(relative);
            Files.createDirectories(target.getParent());
            return Files.newOutputStream(target);
        }
        return io.newOutputFile(location(relative)).createOrOverwrite();
    }

    /**
     * Puts a local file into the lake as {@code relative}, whole: on a local lake it is moved
     * (renamed when on the same file system), on an object store uploaded and then deleted here.
     *
     * @throws IOException for a symbolic link: what it points to is never read into the lake
     */
    public void put(Path file, String relative) throws IOException {
        if (Files.isSymbolicLink(file)) {
            throw new FileSystemException(file.toString(), null, "a symbolic link, not a file");
        }
        if (local.isPresent()) {
            Path target = path(relative);
            Files.createDirectories(target.getParent());
            try {
                Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
                Files.copy(file, tmp, StandardCopyOption.REPLACE_EXISTING);
                move(tmp, target);
                Files.delete(file);
            }
            return;
        }
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS);
                OutputStream out = io.newOutputFile(location(relative)).createOrOverwrite()) {
            in.transferTo(out);
        }
        Files.delete(file);
    }

    /** Makes a file of a local lake durable (its bytes on the disk); on object storage a PUT already is. */
    public void sync(String relative) throws IOException {
        if (local.isPresent()) {
            try (FileChannel channel = FileChannel.open(path(relative), StandardOpenOption.READ)) {
                channel.force(true);
            }
        }
    }

    public void delete(String relative) throws IOException {
        if (local.isPresent()) {
            Files.deleteIfExists(path(relative));
            return;
        }
        io.deleteFile(location(relative));
    }

    /** The files directly in a directory of the lake (none if there is no such directory), sorted by name. */
    public List<Entry> list(String relativeDir) throws IOException {
        List<Entry> entries = new ArrayList<>();
        if (local.isPresent()) {
            Path dir = path(relativeDir);
            if (!Files.isDirectory(dir)) {
                return List.of();
            }
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, Files::isRegularFile)) {
                for (Path f : files) {
                    entries.add(new Entry(
                            f.getFileName().toString(),
                            Files.size(f),
                            Files.getLastModifiedTime(f).toMillis()));
                }
            }
        } else {
            String prefix = location(relativeDir).replaceAll("/+$", "") + "/";
            for (FileInfo f : ((SupportsPrefixOperations) io).listPrefix(prefix)) {
                String rest = f.location().substring(prefix.length());
                if (!rest.contains("/")) {
                    entries.add(new Entry(rest, f.size(), f.createdAtMillis()));
                }
            }
        }
        entries.sort(Comparator.comparing(Entry::name));
        return entries;
    }

    /** The directories directly in a directory of the lake. */
    public List<String> directories(String relativeDir) throws IOException {
        List<String> dirs = new ArrayList<>();
        if (local.isPresent()) {
            Path dir = path(relativeDir);
            if (!Files.isDirectory(dir)) {
                return List.of();
            }
            try (DirectoryStream<Path> children = Files.newDirectoryStream(dir, Files::isDirectory)) {
                children.forEach(c -> dirs.add(c.getFileName().toString()));
            }
        } else {
            String prefix = location(relativeDir).replaceAll("/+$", "") + "/";
            for (FileInfo f : ((SupportsPrefixOperations) io).listPrefix(prefix)) {
                String rest = f.location().substring(prefix.length());
                int slash = rest.indexOf('/');
                if (slash > 0 && !dirs.contains(rest.substring(0, slash))) {
                    dirs.add(rest.substring(0, slash));
                }
            }
        }
        dirs.sort(Comparator.naturalOrder());
        return dirs;
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
