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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.parquet.InternalWriter;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;

/** The data files of one {@code batch_views} commit: a Parquet file per view, nothing committed. */
final class ViewFiles {

    private ViewFiles() {}

    /** Writes the cells, one file per view, with the table's current schema. */
    static List<DataFile> write(Table table, ViewsTable.Contents contents, String attempt) {
        table.refresh();
        Schema schema = table.schema();
        Map<String, List<Map.Entry<ViewKey, Aggregate>>> byView = new TreeMap<>();
        contents.cells()
                .entrySet()
                .forEach(e -> byView.computeIfAbsent(e.getKey().view(), v -> new ArrayList<>())
                        .add(e));
        Map<String, ViewDefinition> views = new HashMap<>();
        contents.views().forEach(v -> views.put(v.name(), v));
        List<DataFile> files = new ArrayList<>();
        PartitionKey key = new PartitionKey(table.spec(), schema);
        for (Map.Entry<String, List<Map.Entry<ViewKey, Aggregate>>> entry : byView.entrySet()) {
            ViewDefinition view = views.get(entry.getKey());
            if (view == null) {
                throw new IllegalArgumentException("cells of view " + entry.getKey() + ", which is not defined");
            }
            GenericRecord row = GenericRecord.create(schema);
            row.setField("view", view.name());
            key.partition(row);
            String name = String.format("v-%08d-%s-%s.parquet", contents.run(), attempt, view.name());
            OutputFile out =
                    table.io().newOutputFile(table.locationProvider().newDataLocation(table.spec(), key, name));
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
                for (Map.Entry<ViewKey, Aggregate> cell : entry.getValue()) {
                    GenericRecord r = GenericRecord.create(schema);
                    r.setField("view", view.name());
                    r.setField("group_values", cell.getKey().group());
                    long start = cell.getKey().windowStartMillis() * 1000;
                    r.setField("window_start", start);
                    r.setField("window_end", start + windowMicros);
                    r.setField("state", ByteBuffer.wrap(AggregateCodec.encode(cell.getValue())));
                    for (int i = 0; i < view.groupBy().size(); i++) {
                        r.setField(
                                ViewColumns.groupColumn(view.groupBy().get(i)),
                                cell.getKey().group().get(i));
                    }
                    Map<String, Double> measures = cell.getValue().measures();
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
            files.add(writer.toDataFile());
        }
        return files;
    }
}
