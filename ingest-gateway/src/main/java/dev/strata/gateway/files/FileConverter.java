package dev.strata.gateway.files;

import com.fasterxml.jackson.databind.JsonNode;
import dev.strata.gateway.files.RowReader.Row;
import dev.strata.gateway.files.RowReader.Unreadable;
import dev.strata.lake.DatasetTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeFiles;
import dev.strata.lake.PartitionedFiles;
import dev.strata.schemas.lake.ColumnType;
import dev.strata.schemas.lake.DatasetColumn;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.DataFile;

/**
 * Turns one file of the raw zone into rows of its dataset's Iceberg table ({@link DatasetTable}),
 * in two streaming passes over the original: the first infers each column's type from the first
 * {@value #SAMPLE_ROWS} rows and checks it against the table's current schema; the second writes
 * every row that fits into data files of the table (one, or for a large file one per core, each
 * written by a thread of its own: {@link PartWriters}) and every row that does not into
 * {@code rejects/{dataset}/{upload}.rejects.ndjson} of the lake (line and reason). Then the files are
 * committed as the upload's snapshot: that commit is what readers see; a crash before it leaves
 * nothing they see.
 *
 * <p>Schemas: a column is matched by name, ignoring case. A file may leave out columns (null in its
 * rows), add columns (Iceberg's schema evolution: a new schema id), or bring a long where the
 * dataset has a double, or anything where it has a string. Anything else is a conflict — a double
 * where the dataset has a long among them (Iceberg cannot widen a long column to double) —: the
 * file is refused, and the message names the column and both types. Every column is nullable: a
 * sample cannot prove that a column is never empty. Two processes converting into one dataset at
 * once are safe: the commit holds only if the table does not hold the upload or its bytes yet.
 */
final class FileConverter {

    static final int SAMPLE_ROWS = 1000;
    static final int FIRST_REJECTS = 10;
    /** Rejected rows kept in an upload's rejects file at most (with their reasons); the rest are counted. */
    static final int MAX_REJECTS_KEPT = RejectsWriter.MAX_KEPT;

    private final Lake lake;
    private final Clock clock;
    private final long bytesPerPart;

    FileConverter(Lake lake, Clock clock) {
        this(lake, clock, PartWriters.BYTES_PER_PART);
    }

    /** A converter that writes an original of {@code bytesPerPart} or more into several files at once. */
    FileConverter(Lake lake, Clock clock, long bytesPerPart) {
        this.lake = lake;
        this.clock = clock;
        this.bytesPerPart = bytesPerPart;
    }

    /** A column as the sample saw it: its type (null: only nulls) and the value that made it so. */
    private static final class Sampled {
        final String name;
        int field;
        ColumnType type;
        long line;
        String example;
        /** How many of the sample's values are not null, and how many of them differ. */
        int values;

        final Set<String> distinct = new HashSet<>();

        Sampled(String name) {
            this.name = name;
        }

        /** Whether the column's values hardly repeat: written without a dictionary. */
        boolean nearlyUnique() {
            return PartitionedFiles.nearlyUnique(distinct.size(), values);
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
        Optional<DatasetTable> existing = lake.dataset(upload.dataset());
        if (existing.isPresent()) {
            Optional<DatasetTable.Upload> there = existing.get().upload(upload.id(), upload.sha256());
            if (there.isPresent()) {
                return already(upload, existing.get(), there.get());
            }
        }
        try {
            LinkedHashMap<String, Sampled> sampled = sample(upload);
            List<DatasetColumn> current = existing.map(DatasetTable::columns).orElse(List.of());
            int currentSchema = existing.map(DatasetTable::schemaId).orElse(-1);
            List<DatasetColumn> target = merge(upload.dataset(), currentSchema, current, sampled);
            DatasetTable table = existing.orElseGet(() -> lake.createDataset(upload.dataset(), target));
            boolean newVersion = table.evolve(target) || existing.isEmpty();
            return write(upload, table, sampled, newVersion);
        } catch (Refusal r) {
            return Outcome.refused(upload, r.status, r.getMessage(), clock.millis());
        }
    }

    /** The outcome of an upload the table holds already: its own (a crash kept it from being written), or a duplicate. */
    private Outcome already(Upload upload, DatasetTable table, DatasetTable.Upload there) {
        if (there.id().equals(upload.id())) {
            return added(upload, table, there, false, List.of());
        }
        return Outcome.duplicate(
                upload,
                "the same bytes were added before, from " + there.original() + ": nothing new was added",
                there.file(),
                clock.millis());
    }

    /**
     * Most columns a dataset may have: a table of more is no dataset anyone reads, and every column
     * costs a writer's buffers (100,000 columns exhausted the heap).
     */
    public static final int MAX_COLUMNS = 1_000;

    private static Refusal tooManyColumns(String what, long count) {
        return new Refusal(
                422,
                what + " " + count + " columns, more than the " + MAX_COLUMNS
                        + " a dataset may have; nothing was added");
    }

    private LinkedHashMap<String, Sampled> sample(Upload upload) throws IOException, Refusal {
        LinkedHashMap<String, Sampled> columns = new LinkedHashMap<>();
        long readable = 0;
        long rows = 0;
        try (RowReader reader = open(upload)) {
            if (reader instanceof RowReader.Csv csv) {
                String[] header = csv.header();
                if (header.length > MAX_COLUMNS) {
                    throw tooManyColumns("the header names", header.length);
                }
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
                    if (columns.size() > MAX_COLUMNS) {
                        throw new Refusal(
                                422,
                                "the rows name more than " + MAX_COLUMNS
                                        + " distinct columns, the most a dataset may have; nothing was added");
                    }
                    if (row.values()[i] != null) {
                        column.values++;
                        column.distinct.add(text(row.values()[i]));
                    }
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
    private static List<DatasetColumn> merge(
            String dataset, int schemaId, List<DatasetColumn> current, Map<String, Sampled> sampled) throws Refusal {
        List<DatasetColumn> target = new ArrayList<>(current);
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < target.size(); i++) {
            index.put(key(target.get(i).name()), i);
        }
        for (Map.Entry<String, Sampled> e : sampled.entrySet()) {
            Sampled s = e.getValue();
            if (DatasetTable.reserved(s.name)) {
                throw new Refusal(
                        422,
                        "column '" + s.name + "' is a name the lake sets itself (" + DatasetTable.INGESTED_AT + ", "
                                + DatasetTable.UPLOAD + "); nothing was added");
            }
            Integer at = index.get(e.getKey());
            if (at == null) {
                index.put(e.getKey(), target.size());
                target.add(new DatasetColumn(s.name, s.type == null ? ColumnType.STRING : s.type, true));
                continue;
            }
            DatasetColumn existing = target.get(at);
            if (s.type == null
                    || s.type == existing.type()
                    || existing.type() == ColumnType.STRING
                    || (existing.type() == ColumnType.DOUBLE && s.type == ColumnType.LONG)) {
                continue;
            }
            throw new Refusal(
                    409,
                    "column '" + existing.name() + "' is " + article(existing.type()) + " in dataset '" + dataset
                            + "' (schema " + schemaId + ") but " + article(s.type)
                            + " in this file (line " + s.line
                            + ": '" + Values.abbreviate(s.example) + "')"
                            + (existing.type() == ColumnType.LONG && s.type == ColumnType.DOUBLE
                                    ? " (the lake's tables cannot widen a long column to double)"
                                    : "")
                            + "; nothing was added");
        }
        return List.copyOf(target);
    }

    private Outcome write(Upload upload, DatasetTable table, Map<String, Sampled> sampled, boolean newVersion)
            throws IOException, Refusal {
        String rejectsRelative = "rejects/" + upload.dataset() + "/" + upload.id() + ".rejects.ndjson";
        LakeFiles files = lake.files();
        files.delete(rejectsRelative);
        long rows = 0;
        long rejected = 0;
        List<Outcome.Reject> firstRejects = new ArrayList<>();
        Set<String> plain = new HashSet<>();
        for (DatasetColumn column : table.columns()) {
            Sampled s = sampled.get(key(column.name()));
            if (s != null && s.nearlyUnique()) {
                plain.add(column.name());
            }
        }
        PartWriters writer = new PartWriters(
                table, upload.id(), upload.receivedMillis(), PartWriters.parts(upload.bytes(), bytesPerPart), plain);
        List<DatasetColumn> columns = writer.columns();
        // Another process may have added one of this file's columns with another type since the merge.
        merge(upload.dataset(), writer.schemaId(), columns, sampled);
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < columns.size(); i++) {
            index.put(key(columns.get(i).name()), i);
        }
        try (RejectsWriter rejects = new RejectsWriter(files, rejectsRelative);
                RowReader reader = open(upload)) {
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
                writer.write(out);
                rows++;
            }
        } catch (Unreadable e) {
            writer.abandon();
            throw new Refusal(422, e.getMessage() + "; nothing was added");
        } catch (IOException | RuntimeException e) {
            writer.abandon();
            throw e;
        }
        if (rows == 0) {
            writer.abandon();
            throw new Refusal(
                    422,
                    "no row of the file fits: " + rejected + " rejected (first: line "
                            + firstRejects.get(0).line() + ": "
                            + firstRejects.get(0).reason() + "; all in " + rejectsRelative + "); nothing was added");
        }
        List<DataFile> written;
        try {
            written = writer.finish();
        } catch (IOException | RuntimeException e) {
            writer.abandon();
            throw e;
        }
        try {
            DatasetTable.Upload committed = table.commit(
                    written,
                    writer.schemaId(),
                    new DatasetTable.Adding(
                            upload.id(),
                            upload.sha256(),
                            upload.original(),
                            rows,
                            rejected,
                            rejected > 0 ? rejectsRelative : null));
            return added(upload, table, committed, newVersion, firstRejects);
        } catch (DatasetTable.AlreadyThere e) {
            return already(upload, table, e.upload());
        }
    }

    private static RowReader open(Upload upload) throws IOException {
        return RowReader.open(upload.open(), upload.original(), upload.format());
    }

    private Outcome added(
            Upload upload,
            DatasetTable table,
            DatasetTable.Upload f,
            boolean newVersion,
            List<Outcome.Reject> firstRejects) {
        String message = f.rows() + " row(s) added to dataset '" + upload.dataset() + "'"
                + (f.rejected() > 0 ? ", " + f.rejected() + " rejected (see " + f.rejects() + ")" : "")
                + (newVersion ? "; schema " + f.schemaId() + (f.schemaId() == 0 ? " created" : " added") : "");
        return Outcome.added(
                upload,
                message,
                new Outcome.Added(
                        f.rows(),
                        f.rejected(),
                        f.rejects(),
                        firstRejects.isEmpty() ? null : firstRejects,
                        f.file(),
                        f.parts(),
                        f.schemaId(),
                        newVersion,
                        table.columns(f.schemaId())),
                clock.millis());
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
}
