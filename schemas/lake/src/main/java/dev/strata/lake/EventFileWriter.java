package dev.strata.lake;

import dev.strata.schemas.Event;
import java.io.Closeable;
import java.io.Serializable;
import java.util.List;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.SerializableTable;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;

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

        /** The table written (a serializable copy). */
        public Table table() {
            return table;
        }

        /** The attempt the files' names carry. */
        public String attempt() {
            return attempt;
        }
    }

    private final GenericRecord row = GenericRecord.create(EventsTable.SCHEMA);
    private final PartitionedFiles files;
    private final long run;

    private EventFileWriter(Table table, long run, String attempt, int writer) {
        this.run = run;
        this.files =
                new PartitionedFiles(table, n -> String.format("run-%08d-%s-%d-%05d.parquet", run, attempt, writer, n));
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
        files.write(row);
    }

    private static long micros(long millis) {
        return millis * 1000;
    }

    /** Closes every file; returns them, each with its partition, row count and column statistics. */
    public List<DataFile> finish() {
        return files.finish();
    }

    @Override
    public void close() {
        finish();
    }
}
