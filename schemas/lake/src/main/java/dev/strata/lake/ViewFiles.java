package dev.strata.lake;

import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.AggregateCodec;
import dev.strata.schemas.views.Measure;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.InternalWriter;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;

/**
 * The data files of one {@code batch_views} commit, nothing committed: each view's cells in order of
 * window, up to {@link #CELLS_PER_FILE} a file, so each file covers a range of windows and a fold
 * rewrites only the files of the windows it touches ({@link ViewRewrite}).
 */
final class ViewFiles {

    /** Cells of a view per data file at most. */
    static final int CELLS_PER_FILE = 2048;

    /** A cell to write: its state to encode, or a row read from a file of the table, written again as it is. */
    private record Cell(ViewKey key, Aggregate state, Record copy) {}

    private static final Comparator<Cell> BY_WINDOW = Comparator.comparingLong(
                    (Cell c) -> c.key().windowStartMillis())
            .thenComparing(c -> String.join("\u0000", c.key().group()));

    private ViewFiles() {}

    /**
     * Writes the cells and the rows {@code copied} (read from the table's files), in files of one
     * view each, with the table's current schema.
     */
    static List<DataFile> write(
            Table table, ViewsTable.Contents contents, Map<ViewKey, Record> copied, String attempt) {
        Schema schema = table.schema(); // current: the caller added the missing columns, which refreshed it
        Map<String, List<Cell>> byView = new TreeMap<>();
        contents.cells()
                .forEach((k, a) ->
                        byView.computeIfAbsent(k.view(), v -> new ArrayList<>()).add(new Cell(k, a, null)));
        copied.forEach((k, r) ->
                byView.computeIfAbsent(k.view(), v -> new ArrayList<>()).add(new Cell(k, null, r)));
        Map<String, ViewDefinition> views = new HashMap<>();
        contents.views().forEach(v -> views.put(v.name(), v));
        List<DataFile> files = new ArrayList<>();
        PartitionKey key = new PartitionKey(table.spec(), schema);
        for (Map.Entry<String, List<Cell>> entry : byView.entrySet()) {
            ViewDefinition view = views.get(entry.getKey());
            if (view == null) {
                throw new IllegalArgumentException("cells of view " + entry.getKey() + ", which is not defined");
            }
            List<Cell> cells = entry.getValue();
            cells.sort(BY_WINDOW);
            for (int from = 0, part = 0; from < cells.size(); from += CELLS_PER_FILE, part++) {
                files.add(write(
                        table,
                        schema,
                        key,
                        view,
                        cells.subList(from, Math.min(cells.size(), from + CELLS_PER_FILE)),
                        String.format("v-%08d-%s-%s-%05d.parquet", contents.run(), attempt, view.name(), part)));
            }
        }
        return files;
    }

    private static DataFile write(
            Table table, Schema schema, PartitionKey key, ViewDefinition view, List<Cell> cells, String name) {
        GenericRecord row = GenericRecord.create(schema);
        row.setField("view", view.name());
        key.partition(row);
        OutputFile out = table.io().newOutputFile(table.locationProvider().newDataLocation(table.spec(), key, name));
        DataWriter<GenericRecord> writer;
        try {
            writer = Parquet.writeData(out)
                    .forTable(table)
                    .withSpec(table.spec())
                    .withPartition(key.copy())
                    .createWriterFunc(type -> InternalWriter.create(schema.asStruct(), type))
                    .overwrite()
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot open a data file of " + ViewsTable.NAME + " at " + out.location(), e);
        }
        try (writer) {
            long windowMicros = view.window().toMillis() * 1000;
            for (Cell cell : cells) {
                GenericRecord r = GenericRecord.create(schema);
                if (cell.copy() != null) {
                    for (Types.NestedField column : schema.columns()) {
                        r.setField(column.name(), cell.copy().getField(column.name()));
                    }
                    writer.write(r);
                    continue;
                }
                r.setField("view", view.name());
                r.setField("group_values", cell.key().group());
                long start = cell.key().windowStartMillis() * 1000;
                r.setField("window_start", start);
                r.setField("window_end", start + windowMicros);
                r.setField("state", ByteBuffer.wrap(AggregateCodec.encode(cell.state())));
                for (int i = 0; i < view.groupBy().size(); i++) {
                    r.setField(
                            ViewColumns.groupColumn(view.groupBy().get(i)),
                            cell.key().group().get(i));
                }
                Map<String, Double> measures = cell.state().measures();
                for (Measure m : view.measures()) {
                    Double v = measures.get(m.name());
                    if (v != null && schema.findField(ViewColumns.measureColumn(m)) != null) {
                        r.setField(
                                ViewColumns.measureColumn(m),
                                ViewColumns.measureType(m) == Types.LongType.get()
                                        ? (Object) Math.round(v)
                                        : (Object) v);
                    }
                }
                writer.write(r);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a data file of " + ViewsTable.NAME, e);
        }
        return writer.toDataFile();
    }
}
