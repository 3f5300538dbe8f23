package dev.strata.schemas.lake;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The record of an uploaded dataset, {@code lake/{dataset}/_dataset.json}: its schema versions and
 * its Parquet files, each with the version it was written with. The file converter writes it (whole,
 * renamed into place: a reader sees the old or the new version, never a part) after the file's
 * Parquet is in place; the catalog and SQL read only the files it lists.
 */
public record DatasetManifest(int format, String name, List<SchemaVersion> schemaVersions, List<DataFile> files) {

    public static final int FORMAT = 1;
    public static final String FILE_NAME = "_dataset.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A column: its name, its type ({@link ColumnType}) and whether it may be null. */
    public record Column(String name, ColumnType type, boolean nullable) {}

    /** One schema of the dataset; a later version extends the one before (more columns, wider types). */
    public record SchemaVersion(int version, List<Column> columns, long createdMillis) {}

    /**
     * A Parquet file of the dataset (path relative to the dataset's directory), the original it came
     * from (relative to the lake) and that original's SHA-256 (a second upload of the same bytes adds
     * nothing), its rows, rejected rows and the rejects file (relative to the lake; null if none).
     */
    public record DataFile(
            String path,
            int schemaVersion,
            long rows,
            long rejected,
            long bytes,
            String original,
            String rejects,
            long addedMillis,
            String sha256) {}

    /** The types a column of an uploaded dataset can have, narrowest first. */
    public enum ColumnType {
        BOOLEAN,
        LONG,
        DOUBLE,
        TIMESTAMP,
        STRING;

        /** The type both values fit, or empty when there is none but a string. */
        public static ColumnType widen(ColumnType a, ColumnType b) {
            if (a == b) {
                return a;
            }
            if ((a == LONG && b == DOUBLE) || (a == DOUBLE && b == LONG)) {
                return DOUBLE;
            }
            return STRING;
        }
    }

    public static DatasetManifest empty(String name) {
        return new DatasetManifest(FORMAT, name, List.of(), List.of());
    }

    public Optional<SchemaVersion> current() {
        return schemaVersions.isEmpty() ? Optional.empty() : Optional.of(schemaVersions.get(schemaVersions.size() - 1));
    }

    public long rows() {
        return files.stream().mapToLong(DataFile::rows).sum();
    }

    public long bytes() {
        return files.stream().mapToLong(DataFile::bytes).sum();
    }

    public DatasetManifest with(Optional<SchemaVersion> newVersion, DataFile file) {
        List<SchemaVersion> versions = new ArrayList<>(schemaVersions);
        newVersion.ifPresent(versions::add);
        List<DataFile> all = new ArrayList<>(files);
        all.add(file);
        return new DatasetManifest(FORMAT, name, versions, all);
    }

    /** The dataset's manifest in {@code datasetDir}, if it has one. */
    public static Optional<DatasetManifest> read(Path datasetDir) throws IOException {
        Path file = datasetDir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        DatasetManifest manifest = JSON.readValue(file.toFile(), DatasetManifest.class);
        if (manifest.format() != FORMAT) {
            throw new IOException(file + " has format " + manifest.format() + "; this build reads " + FORMAT);
        }
        return Optional.of(manifest);
    }

    /** Writes the manifest whole and renames it into place. */
    public void write(Path datasetDir) throws IOException {
        Files.createDirectories(datasetDir);
        Path tmp = datasetDir.resolve("." + FILE_NAME + ".tmp");
        JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), this);
        try {
            Files.move(
                    tmp,
                    datasetDir.resolve(FILE_NAME),
                    StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, datasetDir.resolve(FILE_NAME), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** A dataset name: lower-case letters, digits and underscores, starting with a letter; not a name the lake uses. */
    public static Optional<String> invalidName(String name) {
        if (name == null || !name.matches("[a-z][a-z0-9_]{0,62}")) {
            return Optional.of(
                    "a dataset name is 1-63 lower-case letters, digits or underscores, starting with a letter");
        }
        if (RESERVED.contains(name)) {
            return Optional.of("'" + name + "' is a name the lake uses itself; reserved: " + RESERVED);
        }
        return Optional.empty();
    }

    /** Directories of the lake that are not uploaded datasets. */
    public static final List<String> RESERVED = List.of("events", "views", "raw", "rejects", "landing");
}
