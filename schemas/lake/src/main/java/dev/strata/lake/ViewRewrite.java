package dev.strata.lake;

import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionField;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.InternalReader;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.Types;

/**
 * What a fold changes in a batch snapshot: the files of the snapshot holding cells the folded rows
 * touch (their view's files whose window bounds cover a folded window) and the view's small files,
 * read and merged with the folded cells; every other file is kept as it is. So a fold reads and
 * writes about the cells it touches, not the whole history of the views. Files of views no longer
 * defined are dropped, as a full snapshot leaves their cells out.
 */
final class ViewRewrite {

    /** A view's file with fewer cells is merged into whatever the next fold of the view writes. */
    static final int SMALL_FILE_CELLS = ViewFiles.CELLS_PER_FILE / 4;

    /**
     * The files a fold replaces and the cells written in their place.
     *
     * @param replaced the snapshot's files the commit deletes
     * @param cells the folded cells, merged with the rewritten files' cells of the same keys
     * @param copied the rewritten files' other cells, as they were read: written again unchanged
     *     (their state is not decoded, nor their measures computed again)
     * @param keptCells the cells of the snapshot's files kept as they are
     */
    record Plan(List<DataFile> replaced, Map<ViewKey, Aggregate> cells, Map<ViewKey, Record> copied, long keptCells) {}

    private ViewRewrite() {}

    /**
     * Plans the fold of {@code folded} into snapshot {@code snapshotId}; empty when the snapshot has
     * delete files (not Strata's: the caller rewrites every cell instead).
     */
    static Optional<Plan> plan(
            Table table, long snapshotId, Map<String, ViewDefinition> views, Map<ViewKey, Aggregate> folded) {
        Map<String, NavigableSet<Long>> windows = new HashMap<>(); // microseconds, as the files' bounds
        folded.keySet()
                .forEach(k ->
                        windows.computeIfAbsent(k.view(), v -> new TreeSet<>()).add(k.windowStartMillis() * 1000));
        List<DataFile> replaced = new ArrayList<>();
        List<DataFile> read = new ArrayList<>();
        long keptCells = 0;
        Schema schema = table.schema(); // the table's field ids (Iceberg assigned them anew at creation, not SCHEMA's)
        int viewId = schema.findField("view").fieldId();
        int windowStartId = schema.findField("window_start").fieldId();
        try (CloseableIterable<FileScanTask> tasks =
                table.newScan().useSnapshot(snapshotId).includeColumnStats().planFiles()) {
            for (FileScanTask task : tasks) {
                if (!task.deletes().isEmpty()) {
                    return Optional.empty();
                }
                DataFile file = task.file();
                String view = viewOf(table, file, viewId);
                if (view != null && !views.containsKey(view)) {
                    replaced.add(file);
                } else if (view == null
                        || (windows.containsKey(view)
                                && (file.recordCount() < SMALL_FILE_CELLS
                                        || covers(file, windowStartId, windows.get(view))))) {
                    replaced.add(file);
                    read.add(file);
                } else {
                    keptCells += file.recordCount();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<ViewKey, Aggregate> cells = new HashMap<>();
        Map<ViewKey, Record> copied = new HashMap<>();
        for (DataFile file : read) {
            try (CloseableIterable<Record> rows = Parquet.read(table.io().newInputFile(file.location()))
                    .project(schema)
                    .createReaderFunc(fileSchema -> InternalReader.create(schema, fileSchema))
                    .build()) {
                for (Record row : rows) {
                    ViewDefinition view = views.get(row.getField("view").toString());
                    if (view == null) {
                        continue; // a view no longer defined: left out, as a full snapshot leaves it
                    }
                    ViewKey key = ViewsTable.key(
                            view, row.getField("group_values"), (Long) row.getField("window_start") / 1000);
                    Aggregate add = folded.get(key);
                    if (add == null) {
                        copied.put(key, row);
                    } else {
                        cells.put(
                                key,
                                ViewsTable.state(view, row.getField("state")).merge(add));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file.location() + " of " + ViewsTable.NAME, e);
            }
        }
        folded.forEach(cells::putIfAbsent);
        return Optional.of(new Plan(replaced, cells, copied, keptCells));
    }

    /** The view a file holds (its partition), or null if the file's spec does not say. */
    private static String viewOf(Table table, DataFile file, int viewId) {
        List<PartitionField> fields = table.specs().get(file.specId()).fields();
        for (int i = 0; i < fields.size(); i++) {
            PartitionField f = fields.get(i);
            if (f.sourceId() == viewId && f.transform().isIdentity()) {
                return file.partition().get(i, String.class);
            }
        }
        return null;
    }

    /** Whether a file's window bounds cover one of {@code windows} (true if it has no bounds). */
    private static boolean covers(DataFile file, int id, NavigableSet<Long> windows) {
        ByteBuffer lower =
                file.lowerBounds() == null ? null : file.lowerBounds().get(id);
        ByteBuffer upper =
                file.upperBounds() == null ? null : file.upperBounds().get(id);
        if (lower == null || upper == null) {
            return true;
        }
        Long first = windows.ceiling(Conversions.<Long>fromByteBuffer(Types.TimestampType.withZone(), lower));
        return first != null && first <= Conversions.<Long>fromByteBuffer(Types.TimestampType.withZone(), upper);
    }
}
