package dev.strata.lake;

import dev.strata.schemas.lake.DatasetColumn;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.parquet.InternalWriter;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;

/**
 * Writes rows of one upload into one data file of a {@link DatasetTable} (one of its parts), with
 * the table's schema when the writer opened; nothing is committed here.
 */
public final class DatasetWriter implements AutoCloseable {
    private final Table table;
    private final String name;
    private final Schema schema;
    private final List<DatasetColumn> columns;
    private final int[] positions;
    private final GenericRecord row;
    private final DataWriter<GenericRecord> writer;
    private final String uploadId;
    private final long ingestedMicros;
    private boolean closed;

    DatasetWriter(
            DatasetTable dataset, Schema schema, String uploadId, long receivedMillis, int part, Set<String> plain) {
        this.table = dataset.table();
        this.name = dataset.name();
        this.schema = schema;
        this.columns = dataset.columns(schema);
        this.positions = new int[columns.size()];
        List<Types.NestedField> fields = schema.columns();
        for (int i = 0; i < columns.size(); i++) {
            for (int p = 0; p < fields.size(); p++) {
                if (fields.get(p).name().equals(columns.get(i).name())) {
                    positions[i] = p;
                }
            }
        }
        this.row = GenericRecord.create(schema);
        this.uploadId = uploadId;
        this.ingestedMicros = receivedMillis * 1000;
        row.setField(DatasetTable.INGESTED_AT, ingestedMicros);
        row.setField(DatasetTable.UPLOAD, uploadId);
        PartitionKey key = new PartitionKey(table.spec(), schema);
        key.partition(row);
        OutputFile out = table.io()
                .newOutputFile(table.locationProvider()
                        .newDataLocation(
                                table.spec(), key, "part-" + uploadId + (part == 0 ? "" : "-" + part) + ".parquet"));
        try {
            Parquet.DataWriteBuilder builder = Parquet.writeData(out)
                    .forTable(table)
                    .withSpec(table.spec())
                    .withPartition(key)
                    .createWriterFunc(type -> InternalWriter.create(schema.asStruct(), type))
                    .overwrite();
            for (String column : plain) {
                builder.set(TableProperties.PARQUET_DICT_ENCODING_ENABLED_COLUMN_PREFIX + column, "false");
            }
            this.writer = builder.build();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a data file of dataset " + name, e);
        }
    }

    /** The columns a row's values are in, in order. */
    public List<DatasetColumn> columns() {
        return columns;
    }

    public int schemaId() {
        return schema.schemaId();
    }

    /**
     * Writes a row: {@code values} in the order of {@link #columns()}, each null or as the
     * column's type holds it (Boolean, Long, Double, Long microseconds since the epoch, String).
     */
    public void write(Object[] values) {
        for (int i = 0; i < positions.length; i++) {
            row.set(positions[i], i < values.length ? values[i] : null);
        }
        writer.write(row);
    }

    /** Closes the file; returns it. */
    public DataFile finish() {
        close();
        return writer.toDataFile();
    }

    /** Closes the file and deletes it (nothing of it is committed). */
    public void abandon() {
        close();
        table.io().deleteFile(writer.toDataFile().location());
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            writer.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close a data file of dataset " + name, e);
        }
    }
}
