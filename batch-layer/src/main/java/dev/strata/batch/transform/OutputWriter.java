package dev.strata.batch.transform;

import dev.strata.batch.engine.HandBack;
import dev.strata.lake.PartitionedFiles;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SerializableTable;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.types.Types;

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
        private final HandBack handBack;

        Factory(Table table, String attempt) {
            this(table, attempt, HandBack.INLINE_UP_TO);
        }

        /** With the tasks' files handed back inline up to {@code inlineUpTo} bytes (see {@link HandBack}). */
        Factory(Table table, String attempt, int inlineUpTo) {
            this.table = SerializableTable.copyOf(table);
            this.attempt = attempt;
            this.handBack = new HandBack(this.table, attempt, inlineUpTo);
        }

        OutputWriter open(int task) {
            return new OutputWriter(table, attempt, task);
        }

        /** How the tasks hand their files back to the client. */
        HandBack handBack() {
            return handBack;
        }
    }

    /** Rows held before the first file opens, to choose the columns written without a dictionary. */
    static final int SAMPLE = 1_000;

    private final Table table;
    private final String attempt;
    private final int task;
    private final List<GenericRecord> sample = new ArrayList<>();
    private PartitionedFiles files;
    private GenericRecord reused;
    private long rows;

    private OutputWriter(Table table, String attempt, int task) {
        this.table = table;
        this.attempt = attempt;
        this.task = task;
    }

    /** Writes a result row whose fields are of {@code sqlTypes}. */
    void write(RowData row, List<LogicalType> sqlTypes) {
        // A new record per row while sampling (the sample keeps them), one record after.
        GenericRecord record = files == null ? GenericRecord.create(table.schema()) : reused;
        for (int i = 0; i < sqlTypes.size(); i++) {
            record.set(i, LakeTypes.toIceberg(row, i, sqlTypes.get(i)));
        }
        rows++;
        if (files != null) {
            files.write(record);
            return;
        }
        sample.add(record);
        if (sample.size() == SAMPLE) {
            open();
        }
    }

    /** Opens the files with the sample's nearly unique columns written plain, and writes the sample. */
    private void open() {
        files = new PartitionedFiles(
                table,
                n -> String.format("transform-%s-%d-%05d.parquet", attempt, task, n),
                plainColumns(table.schema(), sample));
        sample.forEach(files::write);
        sample.clear();
        reused = GenericRecord.create(table.schema());
    }

    /** The primitive columns whose values in {@code sample} hardly repeat. */
    static Set<String> plainColumns(Schema schema, List<GenericRecord> sample) {
        Set<String> plain = new HashSet<>();
        List<Types.NestedField> columns = schema.columns();
        for (int c = 0; c < columns.size(); c++) {
            if (!columns.get(c).type().isPrimitiveType()) {
                continue;
            }
            Set<Object> distinct = new HashSet<>();
            int values = 0;
            for (GenericRecord record : sample) {
                Object value = record.get(c);
                if (value != null) {
                    values++;
                    distinct.add(value);
                }
            }
            if (PartitionedFiles.nearlyUnique(distinct.size(), values)) {
                plain.add(columns.get(c).name());
            }
        }
        return plain;
    }

    long rows() {
        return rows;
    }

    /** Closes every file; returns them with their partitions, row counts and column statistics. */
    List<DataFile> finish() {
        if (files == null) {
            open();
        }
        return files.finish();
    }
}
