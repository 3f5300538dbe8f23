package dev.strata.batch.transform;

import dev.strata.lake.PartitionedFiles;
import java.io.Serializable;
import java.util.List;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.SerializableTable;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;

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

    private final GenericRecord record;
    private final PartitionedFiles files;
    private long rows;

    private OutputWriter(Table table, String attempt, int task) {
        this.record = GenericRecord.create(table.schema());
        this.files = new PartitionedFiles(table, n -> String.format("transform-%s-%d-%05d.parquet", attempt, task, n));
    }

    /** Writes a result row whose fields are of {@code sqlTypes}. */
    void write(RowData row, List<LogicalType> sqlTypes) {
        for (int i = 0; i < sqlTypes.size(); i++) {
            record.set(i, LakeTypes.toIceberg(row, i, sqlTypes.get(i)));
        }
        files.write(record);
        rows++;
    }

    long rows() {
        return rows;
    }

    /** Closes every file; returns them with their partitions, row counts and column statistics. */
    List<DataFile> finish() {
        return files.finish();
    }
}
