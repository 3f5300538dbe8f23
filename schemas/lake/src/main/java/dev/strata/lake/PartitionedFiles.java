package dev.strata.lake;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.parquet.InternalWriter;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.parquet.Parquet;

/**
 * Rows of one writer (a task) into data files of a table, one open file per partition, written with
 * Iceberg's own Parquet writer; nothing is committed here (the caller commits the files finished).
 */
public final class PartitionedFiles {

    private final Table table;
    private final IntFunction<String> names;
    private final PartitionKey key;
    private final Map<PartitionKey, DataWriter<GenericRecord>> open = new HashMap<>();
    private int files;

    /** Files named {@code names.apply(n)} for the n-th file this writer opens (names must never repeat). */
    public PartitionedFiles(Table table, IntFunction<String> names) {
        this.table = table;
        this.names = names;
        this.key = new PartitionKey(table.spec(), table.schema());
    }

    /** Writes a row of the table's schema into its partition's file. */
    public void write(GenericRecord row) {
        key.partition(row);
        DataWriter<GenericRecord> file = open.get(key);
        if (file == null) {
            PartitionKey partition = key.copy();
            file = newFile(partition);
            open.put(partition, file);
        }
        file.write(row);
    }

    private DataWriter<GenericRecord> newFile(PartitionKey partition) {
        OutputFile out = table.io()
                .newOutputFile(table.locationProvider().newDataLocation(table.spec(), partition, names.apply(files++)));
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

    /** Closes every file; returns them, each with its partition, row count and column statistics. */
    public List<DataFile> finish() {
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
