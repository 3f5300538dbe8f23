package dev.strata.lake;

import static org.apache.iceberg.types.Types.NestedField.optional;
import static org.apache.iceberg.types.Types.NestedField.required;

import dev.strata.schemas.lake.ColumnType;
import dev.strata.schemas.lake.DatasetColumn;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An uploaded dataset: an Iceberg table of the {@code strata} namespace named after it. Its columns
 * are the uploads' (all nullable; a later upload may add columns: Iceberg's schema evolution, each
 * change a new schema id) plus two the lake sets itself, {@code _ingested_at} (when the upload was
 * received; the table is partitioned by its day) and {@code _upload} (the upload's id). Each upload
 * is one snapshot, whose summary records the upload (id, SHA-256 of its bytes, original, rows,
 * rejected rows, rejects file): the same bytes are never added twice, and an upload converted
 * before a crash kept its outcome from being written is recognised.
 */
public final class DatasetTable {

    private static final Logger LOG = LoggerFactory.getLogger(DatasetTable.class);

    public static final String INGESTED_AT = "_ingested_at";
    public static final String UPLOAD = "_upload";

    public static final String UPLOAD_ID = "strata.upload.id";
    public static final String UPLOAD_SHA256 = "strata.upload.sha256";
    public static final String UPLOAD_ORIGINAL = "strata.upload.original";
    public static final String UPLOAD_ROWS = "strata.upload.rows";
    public static final String UPLOAD_REJECTED = "strata.upload.rejected";
    public static final String UPLOAD_REJECTS = "strata.upload.rejects";
    public static final String UPLOAD_FILE = "strata.upload.file";
    /** How many data files the upload was written into (the first is {@link #UPLOAD_FILE}). */
    public static final String UPLOAD_FILES = "strata.upload.files";

    static final Map<String, String> PROPERTIES = Map.of(
            "format-version", "2",
            "write.parquet.compression-codec", "zstd",
            // Bounded writer memory whatever an upload's size.
            "write.parquet.row-group-size-bytes", Long.toString(8L << 20),
            "write.metadata.delete-after-commit.enabled", "true",
            "write.metadata.previous-versions-max", "100");

    /**
     * An upload the table holds: its snapshot, rows, rejected rows, rejects file, data files (the
     * first, and how many: the others are named after it, {@link #parts}) and schema id.
     */
    public record Upload(
            String id,
            String sha256,
            String original,
            long rows,
            long rejected,
            String rejects,
            String file,
            int files,
            int schemaId,
            long snapshotId) {

        /** Every data file of the upload: {@code part-<upload>.parquet}, then {@code part-<upload>-<n>.parquet}. */
        public List<String> parts() {
            List<String> parts = new ArrayList<>(List.of(file));
            String stem = file.substring(0, file.length() - ".parquet".length());
            for (int n = 1; n < files; n++) {
                parts.add(stem + "-" + n + ".parquet");
            }
            return parts;
        }
    }

    private final String name;
    private final Table table;

    DatasetTable(String name, Table table) {
        this.name = name;
        this.table = table;
    }

    public String name() {
        return name;
    }

    public Table table() {
        return table;
    }

    /** A new dataset's first schema: its columns, then the two the lake sets. */
    static Schema initialSchema(List<DatasetColumn> columns) {
        List<Types.NestedField> fields = new ArrayList<>();
        int id = 1;
        for (DatasetColumn c : columns) {
            fields.add(optional(id++, c.name(), icebergType(c.type())));
        }
        fields.add(required(id++, INGESTED_AT, Types.TimestampType.withZone()));
        fields.add(required(id, UPLOAD, Types.StringType.get()));
        return new Schema(fields);
    }

    static PartitionSpec spec(Schema schema) {
        return PartitionSpec.builderFor(schema).day(INGESTED_AT).build();
    }

    /** Whether a column name is one the lake sets itself. */
    public static boolean reserved(String column) {
        String lower = column.strip().toLowerCase(Locale.ROOT);
        return lower.equals(INGESTED_AT) || lower.equals(UPLOAD);
    }

    static Type icebergType(ColumnType type) {
        return switch (type) {
            case BOOLEAN -> Types.BooleanType.get();
            case LONG -> Types.LongType.get();
            case DOUBLE -> Types.DoubleType.get();
            case TIMESTAMP -> Types.TimestampType.withZone();
            case STRING -> Types.StringType.get();
        };
    }

    /** The column type of an Iceberg type; empty for one an upload cannot hold (a change by another engine). */
    static Optional<ColumnType> columnType(Type type) {
        return switch (type.typeId()) {
            case BOOLEAN -> Optional.of(ColumnType.BOOLEAN);
            case INTEGER, LONG -> Optional.of(ColumnType.LONG);
            case FLOAT, DOUBLE -> Optional.of(ColumnType.DOUBLE);
            case TIMESTAMP -> Optional.of(ColumnType.TIMESTAMP);
            case STRING -> Optional.of(ColumnType.STRING);
            default -> Optional.empty();
        };
    }

    /** The table's current schema id (its metadata read again). */
    public int schemaId() {
        table.refresh();
        return table.schema().schemaId();
    }

    /**
     * The uploads' columns of the current schema, in order.
     *
     * @throws IllegalStateException for a column whose type no upload can hold (another engine changed it)
     */
    public List<DatasetColumn> columns() {
        table.refresh();
        return columns(table.schema());
    }

    /** The uploads' columns of one schema of the table (by its id). */
    public List<DatasetColumn> columns(int schemaId) {
        Schema schema = table.schemas().get(schemaId);
        if (schema == null) {
            table.refresh();
            schema = table.schemas().get(schemaId);
        }
        return schema == null ? List.of() : columns(schema);
    }

    List<DatasetColumn> columns(Schema schema) {
        List<DatasetColumn> columns = new ArrayList<>();
        for (Types.NestedField f : schema.columns()) {
            if (reserved(f.name())) {
                continue;
            }
            ColumnType type = columnType(f.type())
                    .orElseThrow(() -> new IllegalStateException("column '" + f.name() + "' of dataset '" + name
                            + "' is " + f.type() + ", which uploads cannot hold"));
            columns.add(new DatasetColumn(f.name(), type, f.isOptional()));
        }
        return columns;
    }

    /** The upload with this id or these bytes (its SHA-256), if the table's snapshots hold it. */
    public Optional<Upload> upload(String id, String sha256) {
        table.refresh();
        return upload(
                ((org.apache.iceberg.HasTableOperations) table).operations().current(), id, sha256);
    }

    private static Optional<Upload> upload(TableMetadata metadata, String id, String sha256) {
        for (Snapshot s : metadata.snapshots()) {
            Map<String, String> summary = s.summary();
            if (id.equals(summary.get(UPLOAD_ID)) || sha256.equals(summary.get(UPLOAD_SHA256))) {
                return Optional.of(new Upload(
                        summary.get(UPLOAD_ID),
                        summary.get(UPLOAD_SHA256),
                        summary.get(UPLOAD_ORIGINAL),
                        Long.parseLong(summary.getOrDefault(UPLOAD_ROWS, "0")),
                        Long.parseLong(summary.getOrDefault(UPLOAD_REJECTED, "0")),
                        summary.get(UPLOAD_REJECTS),
                        summary.get(UPLOAD_FILE),
                        Integer.parseInt(summary.getOrDefault(UPLOAD_FILES, "1")),
                        s.schemaId() == null ? metadata.currentSchemaId() : s.schemaId(),
                        s.snapshotId()));
            }
        }
        return Optional.empty();
    }

    /**
     * Makes the table's schema hold {@code target}'s columns: the missing ones are added (each
     * nullable), a long column becomes a double one only where Iceberg allows it (never: the caller
     * refuses such a file first). Another process adding the same column at once is fine.
     *
     * @return whether the schema changed
     */
    public boolean evolve(List<DatasetColumn> target) {
        for (int attempt = 1; ; attempt++) {
            table.refresh();
            Schema schema = table.schema();
            Map<String, DatasetColumn> missing = new LinkedHashMap<>();
            for (DatasetColumn c : target) {
                if (schema.caseInsensitiveFindField(c.name()) == null) {
                    missing.put(c.name(), c);
                }
            }
            if (missing.isEmpty()) {
                return false;
            }
            try {
                UpdateSchema update = table.updateSchema();
                missing.values().forEach(c -> update.addColumn(c.name(), icebergType(c.type())));
                update.commit();
                LOG.info("{}: columns {} added", name, missing.keySet());
                return true;
            } catch (IllegalArgumentException | CommitFailedException e) {
                if (attempt == 5) {
                    throw e;
                }
                LOG.info("{}: another process changed the schema first ({}); checking again", name, e.getMessage());
            }
        }
    }

    /** A writer of one upload's rows (received at {@code receivedMillis}) with the table's current schema. */
    public DatasetWriter writer(String uploadId, long receivedMillis) {
        return writers(uploadId, receivedMillis, 1).get(0);
    }

    /**
     * Writers of {@code parts} data files of one upload, all with the table's current schema: rows
     * written into several files at once (a thread each), committed together as the upload's snapshot.
     */
    public List<DatasetWriter> writers(String uploadId, long receivedMillis, int parts) {
        return writers(uploadId, receivedMillis, parts, Set.of());
    }

    /**
     * The same, with {@code plain} columns written without a dictionary: for columns whose values
     * hardly repeat, Parquet's writer would hash every value into a dictionary it then cannot use.
     */
    public List<DatasetWriter> writers(String uploadId, long receivedMillis, int parts, Set<String> plain) {
        table.refresh();
        Schema schema = table.schema();
        List<DatasetWriter> writers = new ArrayList<>();
        for (int part = 0; part < parts; part++) {
            writers.add(new DatasetWriter(this, schema, uploadId, receivedMillis, part, plain));
        }
        return writers;
    }

    /** What an upload adds, as its snapshot records it. */
    public record Adding(String id, String sha256, String original, long rows, long rejected, String rejects) {}

    /** The upload (or the same bytes) was committed by another process or an earlier attempt. */
    public static final class AlreadyThere extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient Upload upload;

        AlreadyThere(Upload upload) {
            super("upload " + upload.id() + " (" + upload.original() + ") already holds these bytes");
            this.upload = upload;
        }

        public Upload upload() {
            return upload;
        }
    }

    /**
     * Commits a written file as the upload's snapshot, unless the table already holds this upload
     * or the same bytes (checked on the version of the table the commit is made on: two processes
     * converting the same bytes at once add them once).
     *
     * @throws AlreadyThere if it does (the file is deleted)
     */
    public Upload commit(DataFile file, int schemaId, Adding adding) throws AlreadyThere {
        return commit(List.of(file), schemaId, adding);
    }

    /**
     * Commits the written parts of an upload as its snapshot, as {@link #commit(DataFile, int, Adding)};
     * the upload's record names the first file and how many there are.
     *
     * @throws AlreadyThere if the table holds the upload or its bytes already (the files are deleted)
     */
    public Upload commit(List<DataFile> files, int schemaId, Adding adding) throws AlreadyThere {
        DataFile file = files.get(0);
        Snapshot snapshot;
        try {
            snapshot = PinnedCommit.commit(
                    table,
                    current -> {
                        Optional<Upload> there = upload(current, adding.id(), adding.sha256());
                        if (there.isPresent()) {
                            throw new AlreadyThere(there.get());
                        }
                    },
                    tx -> {
                        AppendFiles append = tx.newAppend();
                        files.forEach(append::appendFile);
                        append.set(UPLOAD_ID, adding.id())
                                .set(UPLOAD_SHA256, adding.sha256())
                                .set(UPLOAD_ORIGINAL, adding.original())
                                .set(UPLOAD_ROWS, Long.toString(adding.rows()))
                                .set(UPLOAD_REJECTED, Long.toString(adding.rejected()))
                                .set(UPLOAD_FILE, file.location())
                                .set(UPLOAD_FILES, Integer.toString(files.size()));
                        if (adding.rejects() != null) {
                            append.set(UPLOAD_REJECTS, adding.rejects());
                        }
                        append.commit();
                    },
                    UPLOAD_ID,
                    adding.id());
        } catch (AlreadyThere e) {
            files.forEach(f -> table.io().deleteFile(f.location()));
            throw e;
        }
        return new Upload(
                adding.id(),
                adding.sha256(),
                adding.original(),
                adding.rows(),
                adding.rejected(),
                adding.rejects(),
                file.location(),
                files.size(),
                schemaId,
                snapshot.snapshotId());
    }
}
