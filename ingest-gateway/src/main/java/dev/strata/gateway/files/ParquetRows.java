package dev.strata.gateway.files;

import dev.strata.schemas.lake.DatasetManifest.Column;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;
import org.apache.parquet.schema.Types;

/**
 * Rows of an uploaded dataset as Parquet: one optional column per dataset column (boolean, int64,
 * double, timestamp as int64 microseconds adjusted to UTC, string as UTF-8 binary), ZSTD, row
 * groups of {@link #ROW_GROUP_BYTES} so the writer's buffers stay bounded whatever the file's size.
 * A row is an {@code Object[]} in the columns' order, as {@link Values#convert} makes its values.
 */
final class ParquetRows {

    static final long ROW_GROUP_BYTES = 8L << 20;
    static final int PAGE_BYTES = 1 << 20;

    private ParquetRows() {}

    static MessageType schema(List<Column> columns) {
        Types.MessageTypeBuilder builder = Types.buildMessage();
        for (Column c : columns) {
            Type type = switch (c.type()) {
                case BOOLEAN -> Types.optional(PrimitiveTypeName.BOOLEAN).named(c.name());
                case LONG -> Types.optional(PrimitiveTypeName.INT64).named(c.name());
                case DOUBLE -> Types.optional(PrimitiveTypeName.DOUBLE).named(c.name());
                case TIMESTAMP ->
                    Types.optional(PrimitiveTypeName.INT64)
                            .as(LogicalTypeAnnotation.timestampType(true, LogicalTypeAnnotation.TimeUnit.MICROS))
                            .named(c.name());
                case STRING ->
                    Types.optional(PrimitiveTypeName.BINARY)
                            .as(LogicalTypeAnnotation.stringType())
                            .named(c.name());
            };
            builder.addField(type);
        }
        return builder.named("strata_dataset");
    }

    static ParquetWriter<Object[]> writer(Path file, List<Column> columns, Map<String, String> metadata)
            throws IOException {
        return new Builder(new LocalOutputFile(file), schema(columns), columns, metadata)
                .withConf(new PlainParquetConfiguration())
                .withWriteMode(ParquetFileWriter.Mode.CREATE)
                .withCompressionCodec(CompressionCodecName.ZSTD)
                .withRowGroupSize(ROW_GROUP_BYTES)
                .withPageSize(PAGE_BYTES)
                .withDictionaryPageSize(PAGE_BYTES)
                .build();
    }

    private static final class Builder extends ParquetWriter.Builder<Object[], Builder> {
        private final MessageType schema;
        private final List<Column> columns;
        private final Map<String, String> metadata;

        Builder(LocalOutputFile file, MessageType schema, List<Column> columns, Map<String, String> metadata) {
            super(file);
            this.schema = schema;
            this.columns = columns;
            this.metadata = metadata;
        }

        @Override
        protected Builder self() {
            return this;
        }

        @Override
        protected WriteSupport<Object[]> getWriteSupport(Configuration conf) {
            return new RowWriteSupport(schema, columns, metadata);
        }

        @Override
        protected WriteSupport<Object[]> getWriteSupport(ParquetConfiguration conf) {
            return new RowWriteSupport(schema, columns, metadata);
        }
    }

    private static final class RowWriteSupport extends WriteSupport<Object[]> {
        private final MessageType schema;
        private final List<Column> columns;
        private final Map<String, String> metadata;
        private RecordConsumer consumer;

        RowWriteSupport(MessageType schema, List<Column> columns, Map<String, String> metadata) {
            this.schema = schema;
            this.columns = columns;
            this.metadata = metadata;
        }

        @Override
        public WriteContext init(Configuration configuration) {
            return new WriteContext(schema, new HashMap<>(metadata));
        }

        @Override
        public WriteContext init(ParquetConfiguration configuration) {
            return new WriteContext(schema, new HashMap<>(metadata));
        }

        @Override
        public void prepareForWrite(RecordConsumer recordConsumer) {
            this.consumer = recordConsumer;
        }

        @Override
        public void write(Object[] row) {
            consumer.startMessage();
            for (int i = 0; i < row.length; i++) {
                Object value = row[i];
                if (value == null) {
                    continue;
                }
                Column column = columns.get(i);
                consumer.startField(column.name(), i);
                switch (column.type()) {
                    case BOOLEAN -> consumer.addBoolean((Boolean) value);
                    case LONG, TIMESTAMP -> consumer.addLong((Long) value);
                    case DOUBLE -> consumer.addDouble((Double) value);
                    case STRING -> consumer.addBinary(Binary.fromString((String) value));
                }
                consumer.endField(column.name(), i);
            }
            consumer.endMessage();
        }
    }
}
