package dev.strata.lake;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.hadoop.HadoopConfigurable;
import org.apache.iceberg.io.DelegateFileIO;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.io.PositionOutputStream;
import org.apache.iceberg.io.ResolvingFileIO;
import org.apache.iceberg.io.SeekableInputStream;
import org.apache.iceberg.util.SerializableSupplier;

/**
 * The lake's file I/O: Iceberg's {@link ResolvingFileIO} (S3 and the other object stores, listing,
 * bulk deletes), except that a local file is read and written by the JDK through Iceberg's own
 * local files ({@link org.apache.iceberg.Files}) instead of Hadoop's local file system. Hadoop's
 * creates every file with a permission, and without Hadoop's native library (not on Maven Central)
 * it sets it by starting a {@code chmod} process, then writes a {@code .crc} file beside it the
 * same way: 20 ms a file measured here, against 0.1 ms for the JDK; a transform run writes five
 * files, a batch cycle one per hour partition. Locations keep the form they were asked in
 * ({@code file:/…} or {@code /…}), so what tables record does not change.
 */
public final class LakeFileIO implements DelegateFileIO, HadoopConfigurable {
    private static final long serialVersionUID = 1L;
    /** What a write gathers before a system call: Parquet and Avro write headers a few bytes at a time. */
    private static final int BUFFER = 64 * 1024;

    private final ResolvingFileIO delegate = new ResolvingFileIO();

    /** The local path of {@code location}, or empty for an object store's (or another scheme's) location. */
    static Optional<Path> local(String location) {
        String path = OrphanFiles.normalize(location);
        return path.startsWith("/") ? Optional.of(Path.of(path)) : Optional.empty();
    }

    @Override
    public InputFile newInputFile(String location) {
        return local(location)
                .<InputFile>map(p -> new LocalInput(location, p))
                .orElseGet(() -> delegate.newInputFile(location));
    }

    @Override
    public InputFile newInputFile(String location, long length) {
        return local(location).isPresent() ? newInputFile(location) : delegate.newInputFile(location, length);
    }

    @Override
    public OutputFile newOutputFile(String location) {
        return local(location)
                .<OutputFile>map(p -> new LocalOutput(location, p))
                .orElseGet(() -> delegate.newOutputFile(location));
    }

    @Override
    public void deleteFile(String location) {
        Optional<Path> path = local(location);
        if (path.isEmpty()) {
            delegate.deleteFile(location);
            return;
        }
        try {
            Files.deleteIfExists(path.get());
            // The checksum Hadoop's local file system wrote beside a file it created (before this class).
            Files.deleteIfExists(path.get().resolveSibling("." + path.get().getFileName() + ".crc"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + location, e);
        }
    }

    @Override
    public Iterable<FileInfo> listPrefix(String prefix) {
        return delegate.listPrefix(prefix);
    }

    @Override
    public void deletePrefix(String prefix) {
        delegate.deletePrefix(prefix);
    }

    @Override
    public void deleteFiles(Iterable<String> locations) {
        delegate.deleteFiles(locations);
    }

    @Override
    public void initialize(Map<String, String> properties) {
        delegate.initialize(properties);
    }

    @Override
    public Map<String, String> properties() {
        return delegate.properties();
    }

    @Override
    public void close() {
        delegate.close();
    }

    @Override
    public void serializeConfWith(Function<Configuration, SerializableSupplier<Configuration>> confSerializer) {
        delegate.serializeConfWith(confSerializer);
    }

    @Override
    public void setConf(Configuration conf) {
        delegate.setConf(conf);
    }

    @Override
    public Configuration getConf() {
        return delegate.getConf();
    }

    /** A local file to read: Iceberg's, under the location it was asked for. */
    private record LocalInput(String location, Path path) implements InputFile {
        @Override
        public long getLength() {
            return org.apache.iceberg.Files.localInput(path.toFile()).getLength();
        }

        @Override
        public SeekableInputStream newStream() {
            return org.apache.iceberg.Files.localInput(path.toFile()).newStream();
        }

        @Override
        public boolean exists() {
            return Files.exists(path);
        }
    }

    /** A local file to write, created only if absent (atomically: the file system's create-new). */
    private record LocalOutput(String location, Path path) implements OutputFile {
        @Override
        public PositionOutputStream create() {
            return open(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        }

        @Override
        public PositionOutputStream createOrOverwrite() {
            return open(StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        }

        private PositionOutputStream open(StandardOpenOption... options) {
            try {
                Files.createDirectories(path.getParent());
                OutputStream out = Files.newOutputStream(path, options);
                return new Counting(new BufferedOutputStream(out, BUFFER));
            } catch (FileAlreadyExistsException e) {
                throw new AlreadyExistsException("File already exists: %s", location);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + location, e);
            }
        }

        @Override
        public InputFile toInputFile() {
            return new LocalInput(location, path);
        }
    }

    /** A buffered stream that knows its position (Parquet records its pages' offsets from it). */
    private static final class Counting extends PositionOutputStream {
        private final OutputStream out;
        private long position;

        Counting(OutputStream out) {
            this.out = out;
        }

        @Override
        public long getPos() {
            return position;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            position++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            position += len;
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }
}
