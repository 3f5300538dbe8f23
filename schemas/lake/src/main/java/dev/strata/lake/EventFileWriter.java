package dev.strata.lake;

import dev.strata.schemas.Event;
import java.io.Closeable;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * Writes rows of {@code events} into data files of the table, one open file per event-time hour,
 * where the rows are (a task of the archive job): Iceberg's own Parquet writer, so each file has
 * the table's field ids and the column statistics its commit records. {@link #close()} closes
 * every file and returns them, to be committed by the run (uncommitted files are never read).
 */
public final class EventFileWriter implements Closeable {

    /** What a task needs to write a run's files: a serializable copy of the table, the run and its attempt. */
    public static final class Factory implements Serializable {
        private static final long serialVersionUID = 1L;

        private final Table table;
        private final long run;
        private final String attempt;

        Factory(Table table, long run, String attempt) {
            this.table = SerializableTable.copyOf(table);
            this.run = run;
            this.attempt = attempt;
        }

        /** The writer of one task ({@code writer} numbers it: files of two tasks never share a name). */
        public EventFileWriter open(int writer) {
            return new EventFileWriter(table, run, attempt, writer);
        }
    }

    private final Table table;
    private final long run;
    private final String attempt;
    private final int writer;
    private final GenericRecord row = GenericRecord.create(EventsTable.SCHEMA);
    private final PartitionKey key;
    private final Map<PartitionKey, DataWriter<GenericRecord>> open = new HashMap<>();
    private int files;

    private EventFileWriter(Table table, long run, String attempt, int writer) {
        this.table = table;
        this.run = run;
        this.attempt = attempt;
        this.writer = writer;
        this.key = new PartitionKey(table.spec(), table.schema());
    }

    /** Writes an event, and where it was in Kafka, as a row of the run. */
    public void write(Event event, int kafkaPartition, long kafkaOffset, long appendTimeMillis) {
        row.set(0, event.getId());
        row.set(1, event.getSource());
        row.set(2, event.getType());
        row.set(3, micros(event.getTime().toEpochMilli()));
        row.set(4, event.getValue());
        row.set(5, event.getAttributes());
        row.set(6, micros(event.getIngestTime().toEpochMilli()));
        row.set(7, kafkaPartition);
        row.set(8, kafkaOffset);
        row.set(9, micros(appendTimeMillis));
        row.set(10, run);
        key.partition(row);
        DataWriter<GenericRecord> file = open.get(key);
        if (file == null) {
            PartitionKey partition = key.copy();
            file = newFile(partition);
            open.put(partition, file);
        }
        file.write(row);
    }

    private static long micros(long millis) {
        return millis * 1000;
    }

    private DataWriter<GenericRecord> newFile(PartitionKey partition) {
        String name = String.format("run-%08d-%s-%d-%05d.parquet", run, attempt, writer, files++);
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
            throw new UncheckedIOException("cannot open a data file of events at " + out.location(), e);
        }
    }

    /** Closes every file; returns them, each with its partition, row count and column statistics. */
    public List<DataFile> finish() {
        List<DataFile> done = new ArrayList<>();
        for (DataWriter<GenericRecord> file : open.values()) {
            try {
                file.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot close a data file of events", e);
            }
            done.add(file.toDataFile());
        }
        open.clear();
        return done;
    }

    @Override
    public void close() {
        finish();
    }
}
