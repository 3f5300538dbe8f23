package dev.strata.batch.lake;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * The lake's file operations, through Flink's file systems: the lake may be a local directory,
 * {@code hdfs://…} or {@code s3://…} (with Flink's S3 plugin), and the batch jobs, the manifest and
 * the snapshots all see the same storage.
 */
public final class LakeFs {

    private LakeFs() {}

    /** A lake location: a URI with a scheme ({@code s3://bucket/lake}) or a local directory. */
    public static Path root(String location) {
        if (location.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:/.*")) {
            return new Path(location);
        }
        return new Path(
                java.nio.file.Path.of(location).toAbsolutePath().normalize().toUri());
    }

    public static boolean exists(Path path) throws IOException {
        return path.getFileSystem().exists(path);
    }

    /** The entries of a directory (empty when it does not exist), sorted by name. */
    public static List<FileStatus> list(Path dir) throws IOException {
        FileSystem fs = dir.getFileSystem();
        if (!fs.exists(dir)) {
            return List.of();
        }
        FileStatus[] entries = fs.listStatus(dir);
        List<FileStatus> sorted = new ArrayList<>(entries == null ? List.of() : List.of(entries));
        sorted.sort(Comparator.comparing(s -> s.getPath().getName()));
        return sorted;
    }

    /** Every visible file under {@code dir} (names not starting with '.' or '_'), relative to it. */
    public static List<String> filesUnder(Path dir) throws IOException {
        List<String> files = new ArrayList<>();
        collect(dir, "", files);
        return files;
    }

    private static void collect(Path dir, String prefix, List<String> files) throws IOException {
        for (FileStatus s : list(dir)) {
            String name = s.getPath().getName();
            if (name.startsWith(".") || name.startsWith("_")) {
                continue;
            }
            if (s.isDir()) {
                collect(s.getPath(), prefix + name + "/", files);
            } else {
                files.add(prefix + name);
            }
        }
    }

    /**
     * Writes a file whole: to a hidden temporary file, synced, then renamed into place, so a reader
     * or a crash sees either nothing or the complete file (an object store's single PUT is atomic).
     */
    public static void writeAtomically(Path target, byte[] bytes) throws IOException {
        FileSystem fs = target.getFileSystem();
        Path temp = new Path(target.getParent(), "." + target.getName() + ".tmp");
        fs.mkdirs(target.getParent());
        try (FSDataOutputStream out = fs.create(temp, FileSystem.WriteMode.OVERWRITE)) {
            out.write(bytes);
            out.sync();
        }
        move(temp, target);
    }

    public static byte[] read(Path path) throws IOException {
        try (InputStream in = path.getFileSystem().open(path)) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            in.transferTo(bytes);
            return bytes.toByteArray();
        }
    }

    /** Renames {@code from} to {@code to} (replacing it), creating the parent directory. */
    public static void move(Path from, Path to) throws IOException {
        FileSystem fs = from.getFileSystem();
        fs.mkdirs(to.getParent());
        if (!fs.rename(from, to)) {
            throw new IOException("could not rename " + from + " to " + to);
        }
    }

    public static void delete(Path path, boolean recursive) throws IOException {
        FileSystem fs = path.getFileSystem();
        if (fs.exists(path) && !fs.delete(path, recursive)) {
            throw new IOException("could not delete " + path);
        }
    }
}
