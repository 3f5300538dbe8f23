package dev.strata.batch.transform;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.SerializableTable;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.parquet.InternalWriter;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.parquet.Parquet;

/**
 * One task's rows of a transform's result written into the output table's data files, a file per
 * partition; nothing is committed here (the client commits every task's files as one snapshot).
 */
final class OutputWriter {

    /** What a task needs: a serializable copy of the output table and the run's attempt id. */
    static final class Factory implements Serializable {
        private static final long serialVersionUID = 1L;

        private final Table table;
        private final String attempt;

        Factory(Table table, String attempt) {
            this.table = SerializableTable.copyOf(table);
            this.attempt = attempt;
        }

        OutputWriter open(int task) {
            return new OutputWriter(table, attempt, task);
        }
    }

    private final Table table;
    private final String attempt;
    private final int task;
    private final GenericRecord record;
    private final PartitionKey key;
    private final Map<PartitionKey, DataWriter<GenericRecord>> open = new HashMap<>();
    private int files;
    private long rows;

    private OutputWriter(Table table, String attempt, int task) {
        this.table = table;
        this.attempt = attempt;
        this.task = task;
        this.record = GenericRecord.create(table.schema());
        this.key = new PartitionKey(table.spec(), table.schema());
    }

    /** Writes a result row whose fields are of {@code sqlTypes}. */
    void write(RowData row, List<LogicalType> sqlTypes) {
        for (int i = 0; i < sqlTypes.size(); i++) {
            record.set(i, LakeTypes.toIceberg(row, i, sqlTypes.get(i)));
        }
        key.partition(record);
        DataWriter<GenericRecord> file = open.get(key);
        if (file == null) {
            PartitionKey partition = key.copy();
            file = newFile(partition);
            open.put(partition, file);
        }
        file.write(record);
        rows++;
    }

    long rows() {
        return rows;
    }

    private DataWriter<GenericRecord> newFile(PartitionKey partition) {
        String name = String.format("transform-%s-%d-%05d.parquet", attempt, task, files++);
        OutputFile out =
                table.io().newOutputFile(table.locationProvider().newDataLocation(table.spec(), partition, name));
        try {
            return Parquet.writeData(out)
                    .forTable(table)
                    .withSpec(table.spec())
                    .withPartition(partition)
                    .createWriterFunc(
                            type -> InternalWriter.create(table.schema().asStruct(), type))
                    .overwrite()
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a data file of " + table.name() + " at " + out.location(), e);
        }
    }

    /** Closes every file; returns them with their partitions, row counts and column statistics. */
    List<DataFile> finish() {
        List<DataFile> done = new ArrayList<>();
        for (DataWriter<GenericRecord> file : open.values()) {
            try {
                file.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot close a data file of " + table.name(), e);
            }
            done.add(file.toDataFile());
        }
        open.clear();
        return done;
    }
}
