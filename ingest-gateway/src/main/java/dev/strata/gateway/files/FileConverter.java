package dev.strata.gateway.files;

import dev.strata.gateway.files.RowReader.Row;
import dev.strata.gateway.files.RowReader.Unreadable;
import dev.strata.lake.DatasetTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeFiles;
import dev.strata.schemas.lake.DatasetColumn;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
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

    Outcome convert(Upload upload) throws IOException {
        Optional<DatasetTable> existing = lake.dataset(upload.dataset());
        if (existing.isPresent()) {
            Optional<DatasetTable.Upload> there = existing.get().upload(upload.id(), upload.sha256());
            if (there.isPresent()) {
                return already(upload, existing.get(), there.get());
            }
        }
        try {
            LinkedHashMap<String, FileSchema.Sampled> sampled = FileSchema.sample(upload);
            List<DatasetColumn> current = existing.map(DatasetTable::columns).orElse(List.of());
            int currentSchema = existing.map(DatasetTable::schemaId).orElse(-1);
            List<DatasetColumn> target = FileSchema.merge(upload.dataset(), currentSchema, current, sampled);
            DatasetTable table = existing.orElseGet(() -> lake.createDataset(upload.dataset(), target));
            boolean newVersion = table.evolve(target) || existing.isEmpty();
            return write(upload, table, sampled, newVersion);
        } catch (FileSchema.Refusal r) {
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

    private Outcome write(
            Upload upload, DatasetTable table, Map<String, FileSchema.Sampled> sampled, boolean newVersion)
            throws IOException, FileSchema.Refusal {
        String rejectsRelative = "rejects/" + upload.dataset() + "/" + upload.id() + ".rejects.ndjson";
        LakeFiles files = lake.files();
        files.delete(rejectsRelative);
        long rows = 0;
        long rejected = 0;
        List<Outcome.Reject> firstRejects = new ArrayList<>();
        Set<String> plain = new HashSet<>();
        for (DatasetColumn column : table.columns()) {
            FileSchema.Sampled s = sampled.get(FileSchema.key(column.name()));
            if (s != null && s.nearlyUnique()) {
                plain.add(column.name());
            }
        }
        PartWriters writer = new PartWriters(
                table, upload.id(), upload.receivedMillis(), PartWriters.parts(upload.bytes(), bytesPerPart), plain);
        List<DatasetColumn> columns = writer.columns();
        // Another process may have added one of this file's columns with another type since the merge.
        FileSchema.merge(upload.dataset(), writer.schemaId(), columns, sampled);
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < columns.size(); i++) {
            index.put(FileSchema.key(columns.get(i).name()), i);
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
                            reason = FileSchema.badName(name) != null
                                    ? "a field name " + FileSchema.badName(name)
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
            throw new FileSchema.Refusal(422, e.getMessage() + "; nothing was added");
        } catch (IOException | RuntimeException e) {
            writer.abandon();
            throw e;
        }
        if (rows == 0) {
            writer.abandon();
            throw new FileSchema.Refusal(
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

    static RowReader open(Upload upload) throws IOException {
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
            mapping[i] = index.getOrDefault(FileSchema.key(names[i]), -1);
        }
        return mapping;
    }
}
