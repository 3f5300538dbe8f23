package dev.strata.gateway.files;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.gateway.files.RowReader.Row;
import dev.strata.gateway.files.RowReader.Unreadable;
import dev.strata.schemas.lake.DatasetManifest;
import dev.strata.schemas.lake.DatasetManifest.Column;
import dev.strata.schemas.lake.DatasetManifest.ColumnType;
import dev.strata.schemas.lake.DatasetManifest.DataFile;
import dev.strata.schemas.lake.DatasetManifest.SchemaVersion;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.parquet.hadoop.ParquetWriter;

/**
 * Turns one file of the raw zone into Parquet of its dataset, in two streaming passes over the
 * original: the first infers each column's type from the first {@value #SAMPLE_ROWS} rows and
 * checks it against the dataset's current schema; the second writes every row that fits into
 * {@code lake/{dataset}/ingest_date=YYYY-MM-DD/part-{upload}.parquet} and every row that does not
 * into {@code lake/rejects/{dataset}/{upload}.rejects.ndjson} (line and reason). Then the dataset's
 * manifest is replaced by one listing the new file: that rename is the commit; a crash before it
 * leaves no trace readers see.
 *
 * <p>Schemas: a column is matched by name, ignoring case. A file may leave out columns (null in its
 * rows), add columns, or bring a long where the dataset has a double, or anything where it has a
 * string; a new column or a long column that now holds doubles makes a new schema version (the
 * older files' longs read as doubles). Anything else is a conflict: the file is refused, and the
 * message names the column and both types. Every column is nullable: a sample cannot prove that a
 * column is never empty. The caller holds the dataset's lock.
 */
final class FileConverter {

    static final int SAMPLE_ROWS = 1000;
    static final int FIRST_REJECTS = 10;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path lake;
    private final Clock clock;

    FileConverter(Path lake, Clock clock) {
        this.lake = lake;
        this.clock = clock;
    }

    /** A column as the sample saw it: its type (null: only nulls) and the value that made it so. */
    private static final class Sampled {
        final String name;
        int field;
        ColumnType type;
        long line;
        String example;

        Sampled(String name) {
            this.name = name;
        }
    }

    /** A file refused as a whole. */
    private static final class Refusal extends Exception {
        final int status;

        Refusal(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    Outcome convert(Upload upload) throws IOException {
        Path datasetDir = lake.resolve(upload.dataset());
        DatasetManifest manifest = DatasetManifest.read(datasetDir).orElse(DatasetManifest.empty(upload.dataset()));
        for (DataFile f : manifest.files()) {
            if (f.original().equals(upload.original())) {
                // Converted before a crash kept its outcome from being written.
                return added(
                        upload,
                        manifest,
                        f,
                        manifest.schemaVersions().get(manifest.schemaVersions().size() - 1),
                        false,
                        List.of());
            }
            if (upload.sha256().equals(f.sha256())) {
                return Outcome.duplicate(
                        upload,
                        "the same bytes were added before, from " + f.original() + ": nothing new was added",
                        upload.dataset() + "/" + f.path(),
                        clock.millis());
            }
        }
        try {
            LinkedHashMap<String, Sampled> sampled = sample(upload);
            Optional<SchemaVersion> current = manifest.current();
            List<Column> target = merge(upload.dataset(), current, sampled);
            boolean newVersion = current.isEmpty() || !current.get().columns().equals(target);
            SchemaVersion version = newVersion
                    ? new SchemaVersion(manifest.schemaVersions().size() + 1, target, clock.millis())
                    : current.get();
            return write(upload, manifest, version, newVersion);
        } catch (Refusal r) {
            return Outcome.refused(upload, r.status, r.getMessage(), clock.millis());
        }
    }

    private LinkedHashMap<String, Sampled> sample(Upload upload) throws IOException, Refusal {
        LinkedHashMap<String, Sampled> columns = new LinkedHashMap<>();
        long readable = 0;
        long rows = 0;
        try (RowReader reader = RowReader.open(upload.file(), upload.format())) {
            if (reader instanceof RowReader.Csv csv) {
                String[] header = csv.header();
                for (int i = 0; i < header.length; i++) {
                    String problem = badName(header[i]);
                    if (problem != null) {
                        throw new Refusal(
                                422,
                                "header field " + (i + 1) + " " + problem
                                        + ": every column needs a name; nothing was added");
                    }
                    Sampled column = new Sampled(header[i].strip());
                    column.field = i + 1;
                    Sampled previous = columns.putIfAbsent(key(header[i]), column);
                    if (previous != null) {
                        throw new Refusal(
                                422,
                                "the header names column '" + previous.name + "' twice (fields " + previous.field
                                        + " and " + (i + 1) + "); nothing was added");
                    }
                }
            }
            for (Row row = reader.next(); row != null && readable < SAMPLE_ROWS; row = reader.next()) {
                rows++;
                if (!row.readable()) {
                    continue;
                }
                readable++;
                for (int i = 0; i < row.names().length; i++) {
                    String name = row.names()[i];
                    if (badName(name) != null) {
                        continue; // the row is rejected in the second pass
                    }
                    Sampled column = columns.computeIfAbsent(key(name), k -> new Sampled(name));
                    ColumnType type = Values.typeOf(row.values()[i]);
                    if (type == null || type == column.type) {
                        continue;
                    }
                    ColumnType widened = column.type == null ? type : ColumnType.widen(column.type, type);
                    if (widened != column.type) {
                        column.type = widened;
                        column.line = row.line();
                        column.example = text(row.values()[i]);
                    }
                }
            }
        } catch (Unreadable e) {
            throw new Refusal(422, e.getMessage() + "; nothing was added");
        }
        if (rows == 0) {
            throw new Refusal(422, "the file has no rows; nothing was added");
        }
        if (columns.isEmpty() && readable > 0) {
            throw new Refusal(422, "the file's rows have no fields; nothing was added");
        }
        return columns;
    }

    /** The dataset's columns once this file is in, or a refusal naming the column and both types. */
    private static List<Column> merge(String dataset, Optional<SchemaVersion> current, Map<String, Sampled> sampled)
            throws Refusal {
        List<Column> target =
                new ArrayList<>(current.map(SchemaVersion::columns).orElse(List.of()));
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < target.size(); i++) {
            index.put(key(target.get(i).name()), i);
        }
        for (Map.Entry<String, Sampled> e : sampled.entrySet()) {
            Sampled s = e.getValue();
            Integer at = index.get(e.getKey());
            if (at == null) {
                index.put(e.getKey(), target.size());
                target.add(new Column(s.name, s.type == null ? ColumnType.STRING : s.type, true));
                continue;
            }
            Column existing = target.get(at);
            if (s.type == null
                    || s.type == existing.type()
                    || existing.type() == ColumnType.STRING
                    || (existing.type() == ColumnType.DOUBLE && s.type == ColumnType.LONG)) {
                continue;
            }
            if (existing.type() == ColumnType.LONG && s.type == ColumnType.DOUBLE) {
                target.set(at, new Column(existing.name(), ColumnType.DOUBLE, true));
                continue;
            }
            throw new Refusal(
                    409,
                    "column '" + existing.name() + "' is " + article(existing.type()) + " in dataset '" + dataset
                            + "' (schema version " + current.get().version() + ") but " + article(s.type)
                            + " in this file (line " + s.line
                            + ": '" + Values.abbreviate(s.example) + "'); nothing was added");
        }
        return List.copyOf(target);
    }

    private Outcome write(Upload upload, DatasetManifest manifest, SchemaVersion version, boolean newVersion)
            throws IOException, Refusal {
        List<Column> columns = version.columns();
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < columns.size(); i++) {
            index.put(key(columns.get(i).name()), i);
        }
        Path datasetDir = lake.resolve(upload.dataset());
        String partition = "ingest_date="
                + Instant.ofEpochMilli(upload.receivedMillis())
                        .atZone(ZoneOffset.UTC)
                        .toLocalDate();
        String fileName = "part-" + upload.id() + ".parquet";
        Path dir = datasetDir.resolve(partition);
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + fileName + ".tmp");
        Files.deleteIfExists(tmp);
        String rejectsRelative = "rejects/" + upload.dataset() + "/" + upload.id() + ".rejects.ndjson";
        Path rejectsFile = lake.resolve(rejectsRelative);
        Files.deleteIfExists(rejectsFile);
        long rows = 0;
        long rejected = 0;
        List<Outcome.Reject> firstRejects = new ArrayList<>();
        RejectsWriter rejects = new RejectsWriter(rejectsFile);
        ParquetWriter<Object[]> writer = null;
        Map<String, String> metadata = Map.of(
                "strata.dataset",
                upload.dataset(),
                "strata.upload",
                upload.id(),
                "strata.original",
                upload.original(),
                "strata.schema_version",
                Integer.toString(version.version()));
        try (rejects;
                RowReader reader = RowReader.open(upload.file(), upload.format())) {
            String[] lastNames = null;
            int[] lastMapping = null;
            for (Row row = reader.next(); row != null; row = reader.next()) {
                String reason = row.problem();
                Object[] out = null;
                if (reason == null) {
                    if (row.names() != lastNames) {
                        lastNames = row.names();
                        lastMapping = mapping(lastNames, index);
                    }
                    out = new Object[columns.size()];
                    boolean[] seen = new boolean[columns.size()];
                    for (int i = 0; i < lastMapping.length && reason == null; i++) {
                        int at = lastMapping[i];
                        if (at < 0) {
                            String name = row.names()[i];
                            reason = badName(name) != null
                                    ? "a field name " + badName(name)
                                    : "field '" + Values.abbreviate(name) + "' is not a column of dataset '"
                                            + upload.dataset() + "' (none of the file's first " + SAMPLE_ROWS
                                            + " rows has it)";
                            continue;
                        }
                        if (seen[at]) {
                            reason = "two fields name column '"
                                    + columns.get(at).name() + "' (names differ only in case)";
                            continue;
                        }
                        seen[at] = true;
                        try {
                            out[at] = Values.convert(
                                    row.values()[i], columns.get(at).type());
                        } catch (Values.BadValue e) {
                            reason = "column '" + columns.get(at).name() + "': " + e.getMessage();
                        }
                    }
                }
                if (reason != null) {
                    rejected++;
                    if (firstRejects.size() < FIRST_REJECTS) {
                        firstRejects.add(new Outcome.Reject(row.line(), reason));
                    }
                    rejects.write(row, reason);
                    continue;
                }
                if (writer == null) {
                    writer = ParquetRows.writer(tmp, columns, metadata);
                }
                writer.write(out);
                rows++;
            }
            if (writer != null) {
                writer.close();
            }
        } catch (Unreadable e) {
            closeQuietly(writer);
            Files.deleteIfExists(tmp);
            throw new Refusal(422, e.getMessage() + "; nothing was added");
        } catch (IOException | RuntimeException e) {
            closeQuietly(writer);
            Files.deleteIfExists(tmp);
            throw e;
        }
        if (rows == 0) {
            Files.deleteIfExists(tmp);
            throw new Refusal(
                    422,
                    "no row of the file fits: " + rejected + " rejected (first: line "
                            + firstRejects.get(0).line() + ": "
                            + firstRejects.get(0).reason() + "; all in " + rejectsRelative + "); nothing was added");
        }
        Path file = dir.resolve(fileName);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        DataFile dataFile = new DataFile(
                partition + "/" + fileName,
                version.version(),
                rows,
                rejected,
                Files.size(file),
                upload.original(),
                rejected > 0 ? rejectsRelative : null,
                clock.millis(),
                upload.sha256());
        DatasetManifest updated = manifest.with(newVersion ? Optional.of(version) : Optional.empty(), dataFile);
        updated.write(datasetDir);
        return added(upload, updated, dataFile, version, newVersion, firstRejects);
    }

    private Outcome added(
            Upload upload,
            DatasetManifest manifest,
            DataFile f,
            SchemaVersion version,
            boolean newVersion,
            List<Outcome.Reject> firstRejects) {
        String message = f.rows() + " row(s) added to dataset '" + upload.dataset() + "'"
                + (f.rejected() > 0 ? ", " + f.rejected() + " rejected (see " + f.rejects() + ")" : "")
                + (newVersion
                        ? "; schema version " + version.version() + (version.version() == 1 ? " created" : " added")
                        : "");
        return Outcome.added(
                upload,
                message,
                new Outcome.Added(
                        f.rows(),
                        f.rejected(),
                        f.rejects(),
                        firstRejects.isEmpty() ? null : firstRejects,
                        upload.dataset() + "/" + f.path(),
                        f.schemaVersion(),
                        newVersion,
                        manifest.schemaVersions().get(f.schemaVersion() - 1).columns()),
                clock.millis());
    }

    private static void closeQuietly(ParquetWriter<Object[]> writer) {
        if (writer != null) {
            try {
                writer.close();
            } catch (IOException | RuntimeException ignored) {
                // the file is deleted: what it holds does not matter
            }
        }
    }

    private static int[] mapping(String[] names, Map<String, Integer> index) {
        int[] mapping = new int[names.length];
        for (int i = 0; i < names.length; i++) {
            mapping[i] = index.getOrDefault(key(names[i]), -1);
        }
        return mapping;
    }

    static String key(String name) {
        return name.strip().toLowerCase(Locale.ROOT);
    }

    /** Why a column name is not one, or null. */
    static String badName(String name) {
        if (name == null || name.isBlank()) {
            return "is empty";
        }
        if (name.length() > 255) {
            return "is longer than 255 characters";
        }
        if (name.chars().anyMatch(Character::isISOControl)) {
            return "holds a control character";
        }
        return null;
    }

    private static String article(ColumnType type) {
        return "a " + Values.name(type);
    }

    private static String text(Object raw) {
        return raw instanceof JsonNode node
                ? (node.isTextual() ? node.textValue() : node.toString())
                : String.valueOf(raw);
    }

    /** The rejects file, created at the first rejected row: one JSON object a line. */
    private static final class RejectsWriter implements AutoCloseable {
        private final Path file;
        private OutputStream out;
        private JsonGenerator json;

        RejectsWriter(Path file) {
            this.file = file;
        }

        void write(Row row, String reason) throws IOException {
            if (json == null) {
                Files.createDirectories(file.getParent());
                out = Files.newOutputStream(file);
                json = JSON.createGenerator(out);
                json.setRootValueSeparator(new SerializedString("\n"));
            }
            json.writeStartObject();
            json.writeNumberField("line", row.line());
            json.writeStringField("reason", reason);
            if (row.original() instanceof String[] fields) {
                json.writeArrayFieldStart("fields");
                for (String f : fields) {
                    json.writeString(f);
                }
                json.writeEndArray();
            } else if (row.original() instanceof JsonNode node) {
                json.writeFieldName("record");
                json.writeTree(node);
            } else if (row.original() instanceof String text) {
                json.writeStringField("text", text);
            }
            json.writeEndObject();
        }

        @Override
        public void close() throws IOException {
            if (json != null) {
                json.writeRaw('\n');
                json.close();
                out.close();
            }
        }
    }
}
