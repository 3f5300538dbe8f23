package dev.strata.batch.engine;

import dev.strata.schemas.Event;
import java.io.Serializable;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.java.typeutils.GenericTypeInfo;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.core.fs.Path;
import org.apache.flink.formats.parquet.ParquetColumnarRowInputFormat;
import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.MapData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.binary.BinaryStringData;
import org.apache.flink.table.types.logical.BigIntType;
import org.apache.flink.table.types.logical.DoubleType;
import org.apache.flink.table.types.logical.IntType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.MapType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.VarCharType;
import org.apache.hadoop.conf.Configuration;

/**
 * Some columns of the lake's rows, read with flink-parquet's vectorized reader: only the column
 * chunks asked for are decoded, a batch at a time, into column vectors ({@link RowData} views over
 * them), instead of assembling every column of every row into a record. The recompute reads the
 * lake twice (retries, then the fold), each time a few of its columns. Timestamps are read as their
 * INT64 epoch microseconds (Iceberg's {@code timestamptz}).
 */
final class LakeColumns implements Serializable {

    /** Rows per batch of column vectors (flink-parquet's default). */
    private static final int BATCH_ROWS = 2048;

    private final RowType type;

    private LakeColumns(RowType type) {
        this.type = type;
    }

    /** The named columns of the lake's {@code events} table, in this order. */
    static LakeColumns of(List<String> names) {
        LogicalType[] types = names.stream().map(LakeColumns::typeOf).toArray(LogicalType[]::new);
        return new LakeColumns(RowType.of(types, names.toArray(String[]::new)));
    }

    private static LogicalType typeOf(String column) {
        return switch (column) {
            case "id", "source", "type" -> new VarCharType(false, VarCharType.MAX_LENGTH);
            case "time", "ingest_time", "append_time", "kafka_offset", "run" -> new BigIntType(false);
            case "kafka_partition" -> new IntType(false);
            case "value" -> new DoubleType(true);
            case "attributes" ->
                new MapType(
                        false,
                        new VarCharType(false, VarCharType.MAX_LENGTH),
                        new VarCharType(false, VarCharType.MAX_LENGTH));
            default -> throw new IllegalArgumentException("no lake column '" + column + "'");
        };
    }

    /** The position of a column in the rows read. */
    int index(String column) {
        int i = type.getFieldIndex(column);
        if (i < 0) {
            throw new IllegalArgumentException("column '" + column + "' is not read (" + type.getFieldNames() + ")");
        }
        return i;
    }

    /**
     * A bounded source of these columns of the data files at {@code locations}. The rows are reused
     * views of a column batch: the operator chained to the source (object reuse on) must take what
     * it needs before the next row; they are never shipped between tasks.
     */
    FileSource<RowData> source(List<String> locations) {
        ParquetColumnarRowInputFormat<FileSourceSplit> format = new ParquetColumnarRowInputFormat<>(
                new Configuration(), type, new GenericTypeInfo<>(RowData.class), BATCH_ROWS, true, true);
        return FileSource.forBulkFileFormat(
                        format, locations.stream().map(Path::new).toArray(Path[]::new))
                .build();
    }

    /** A timestamp column's value (microseconds) as epoch milliseconds. */
    static long millis(long micros) {
        return Math.floorDiv(micros, 1000);
    }

    /** A row's place in Kafka as one number: partition in the top 16 bits, offset below. */
    static long position(int partition, long offset) {
        return ((long) partition << 48) | offset;
    }

    /** The attributes of a map column (a fresh map). */
    static Map<String, String> attributes(MapData map) {
        Map<String, String> out = new HashMap<>(Math.max(4, map.size() * 2));
        ArrayData keys = map.keyArray();
        ArrayData values = map.valueArray();
        for (int i = 0; i < map.size(); i++) {
            out.put(keys.getString(i).toString(), values.getString(i).toString());
        }
        return out;
    }

    /**
     * Builds events from rows of the columns the views read; the id and the ingest time are not read.
     * Sources and types repeat: each distinct one is decoded from UTF-8 once (up to a bound).
     */
    static final class Events implements Serializable {
        private static final int MAX_INTERNED = 16_384;
        private final int source;
        private final int type;
        private final int time;
        private final int value;
        private final int attributes;
        private transient Map<StringData, String> interned;

        Events(LakeColumns columns, boolean withAttributes) {
            source = columns.index("source");
            type = columns.index("type");
            time = columns.index("time");
            value = columns.index("value");
            attributes = withAttributes ? columns.index("attributes") : -1;
        }

        /** The columns an event is built from. */
        static List<String> columns(boolean withAttributes) {
            return withAttributes
                    ? List.of("source", "type", "time", "value", "attributes")
                    : List.of("source", "type", "time", "value");
        }

        Event of(RowData row) {
            Instant eventTime = Instant.ofEpochMilli(millis(row.getLong(time)));
            return new Event(
                    "",
                    string(row.getString(source)),
                    string(row.getString(type)),
                    eventTime,
                    row.isNullAt(value) ? null : row.getDouble(value),
                    attributes < 0 ? Map.of() : attributes(row.getMap(attributes)),
                    eventTime);
        }

        private String string(StringData data) {
            if (interned == null) {
                interned = new HashMap<>();
            }
            String s = interned.get(data);
            if (s == null) {
                s = data.toString();
                if (interned.size() < MAX_INTERNED) {
                    // The row's bytes belong to a column batch that is refilled: keep a copy as the key.
                    interned.put(((BinaryStringData) data).copy(), s);
                }
            }
            return s;
        }
    }
}
