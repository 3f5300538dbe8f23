package dev.strata.serving.lake;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.InputFile;

/**
 * Local copies of a lake's data files on object storage, for DuckDB, which reads local files only
 * here (its S3 support is an extension it cannot download offline). A committed data file never
 * changes, so a copy is keyed by the file's location and stays valid; copies are fetched when a
 * query needs them, and the least recently used ones no query is reading are deleted once the
 * copies exceed their budget in bytes. A query whose files alone exceed the budget is refused,
 * naming it. A local lake needs none of this: its files are read where they are.
 */
final class LakeFileCache {

    /** The files a query reads, held until it is done so no other query's fetch deletes them. */
    final class Lease implements AutoCloseable {
        private final List<Path> paths;

        private Lease(List<Path> paths) {
            this.paths = paths;
        }

        /** The local copies, in the order the locations were given. */
        List<Path> paths() {
            return paths;
        }

        @Override
        public void close() {
            release(paths);
        }
    }

    /** The query's files do not fit in the cache's budget. */
    static final class TooLarge extends Exception {
        private static final long serialVersionUID = 1L;

        TooLarge(String message) {
            super(message);
        }
    }

    private final FileIO io;
    private final Path dir;
    private final long budgetBytes;
    /** Copies present, least recently used first, with their sizes. */
    private final LinkedHashMap<Path, Long> copies = new LinkedHashMap<>(16, 0.75f, true);

    private final Map<Path, Integer> readers = new HashMap<>();
    private long bytes;

    LakeFileCache(FileIO io, Path dir, long budgetBytes) throws IOException {
        this.io = io;
        this.dir = dir.toAbsolutePath().normalize();
        this.budgetBytes = budgetBytes;
        Files.createDirectories(this.dir);
        try (Stream<Path> present = Files.list(this.dir)) {
            for (Path p : present.toList()) {
                if (p.getFileName().toString().endsWith(".partial")) {
                    Files.deleteIfExists(p); // a fetch that did not finish
                } else {
                    long size = Files.size(p);
                    copies.put(p, size);
                    bytes += size;
                }
            }
        }
    }

    /** The directory of the copies: every file SQL may read is under it. */
    Path directory() {
        return dir;
    }

    long bytes() {
        synchronized (this) {
            return bytes;
        }
    }

    /**
     * Local copies of the files at {@code locations} of {@code sizes} bytes, fetched where missing;
     * held until the lease is closed.
     */
    Lease fetch(List<String> locations, List<Long> sizes) throws IOException, TooLarge {
        long needed = sizes.stream().mapToLong(Long::longValue).sum();
        if (needed > budgetBytes) {
            throw new TooLarge("the query's tables are " + needed + " bytes of files on object storage, more than"
                    + " the serving layer's local copies may hold (--sql-lake-cache-bytes " + budgetBytes + ")");
        }
        List<Path> paths = new ArrayList<>(locations.size());
        for (String location : locations) {
            paths.add(dir.resolve(key(location)));
        }
        synchronized (this) {
            for (Path p : paths) {
                readers.merge(p, 1, Integer::sum);
            }
        }
        boolean held = false;
        try {
            for (int i = 0; i < paths.size(); i++) {
                Path path = paths.get(i);
                synchronized (this) {
                    if (copies.get(path) != null) {
                        continue; // get() marks it recently used
                    }
                }
                long size = copy(locations.get(i), path);
                synchronized (this) {
                    if (copies.put(path, size) == null) {
                        bytes += size;
                    }
                    evict();
                }
            }
            held = true;
            return new Lease(paths);
        } finally {
            if (!held) {
                release(paths);
            }
        }
    }

    private long copy(String location, Path path) throws IOException {
        InputFile in = io.newInputFile(location);
        Path partial = Files.createTempFile(dir, "fetch", ".partial");
        try {
            try (InputStream stream = in.newStream()) {
                Files.copy(stream, partial, StandardCopyOption.REPLACE_EXISTING);
            }
            long size = Files.size(partial);
            // Another query may have fetched the same file meanwhile: same bytes, either copy will do.
            Files.move(partial, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return size;
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    private synchronized void release(Collection<Path> paths) {
        for (Path p : paths) {
            readers.computeIfPresent(p, (k, n) -> n == 1 ? null : n - 1);
        }
        evict();
    }

    /** Deletes the least recently used copies no query reads until the copies fit in the budget. */
    private void evict() {
        var it = copies.entrySet().iterator();
        while (bytes > budgetBytes && it.hasNext()) {
            Map.Entry<Path, Long> oldest = it.next();
            if (readers.containsKey(oldest.getKey())) {
                continue;
            }
            try {
                Files.deleteIfExists(oldest.getKey());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            bytes -= oldest.getValue();
            it.remove();
        }
    }

    /** A file name for a location: its hash (locations are long and hold slashes), keeping the suffix. */
    static String key(String location) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(location.getBytes(StandardCharsets.UTF_8));
            int dot = location.lastIndexOf('.');
            String suffix = dot > location.lastIndexOf('/') ? location.substring(dot) : "";
            return HexFormat.of().formatHex(hash, 0, 16) + suffix;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
