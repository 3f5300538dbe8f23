package dev.strata.batch.transform;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.util.Utf8;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.MapData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.BigIntType;
import org.apache.flink.table.types.logical.BooleanType;
import org.apache.flink.table.types.logical.DateType;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.DoubleType;
import org.apache.flink.table.types.logical.FloatType;
import org.apache.flink.table.types.logical.IntType;
import org.apache.flink.table.types.logical.LocalZonedTimestampType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.MapType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.TimestampType;
import org.apache.flink.table.types.logical.VarBinaryType;
import org.apache.flink.table.types.logical.VarCharType;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Between the lake's Iceberg types and Flink SQL's: the columns of an input table as flink-parquet's
 * vectorized reader gives them to SQL (its internal rows, timestamps from their INT64 microseconds),
 * and a query's result (SQL's internal rows) as an output table's schema and Iceberg's values.
 */
final class LakeTypes {

    private LakeTypes() {}

    /** The columns of an input table a query may use: read from Parquet straight into SQL's rows. */
    record InputColumns(List<String> names, RowType type) implements Serializable {}

    /**
     * The columns of {@code schema} SQL can read, of those in {@code used} (all for null): a query
     * only decodes the column chunks it names.
     */
    static InputColumns input(Schema schema, Set<String> used) {
        List<String> names = new ArrayList<>();
        List<LogicalType> types = new ArrayList<>();
        for (Types.NestedField field : schema.columns()) {
            LogicalType type = sqlType(field.type());
            if (type == null || (used != null && !used.contains(field.name().toLowerCase(Locale.ROOT)))) {
                continue; // a type SQL here cannot read, or a column the query never names
            }
            names.add(field.name());
            types.add(type);
        }
        return new InputColumns(
                List.copyOf(names), RowType.of(types.toArray(LogicalType[]::new), names.toArray(String[]::new)));
    }

    private static LogicalType sqlType(Type type) {
        return switch (type.typeId()) {
            case STRING -> new VarCharType(true, VarCharType.MAX_LENGTH);
            case INTEGER -> new IntType(true);
            case DATE -> new DateType(true);
            case LONG -> new BigIntType(true);
            case TIMESTAMP ->
                ((Types.TimestampType) type).shouldAdjustToUTC()
                        ? new LocalZonedTimestampType(true, 6)
                        : new TimestampType(true, 6);
            case DOUBLE -> new DoubleType(true);
            case FLOAT -> new FloatType(true);
            case BOOLEAN -> new BooleanType(true);
            case BINARY -> new VarBinaryType(true, VarBinaryType.MAX_LENGTH);
            case DECIMAL -> {
                Types.DecimalType d = (Types.DecimalType) type;
                yield new DecimalType(true, d.precision(), d.scale());
            }
            case MAP -> {
                Types.MapType m = type.asMapType();
                yield m.keyType().typeId() == Type.TypeID.STRING
                                && m.valueType().typeId() == Type.TypeID.STRING
                        ? new MapType(
                                true,
                                new VarCharType(false, VarCharType.MAX_LENGTH),
                                new VarCharType(true, VarCharType.MAX_LENGTH))
                        : null;
            }
            case LIST ->
                type.asListType().elementType().typeId() == Type.TypeID.STRING
                        ? new ArrayType(true, new VarCharType(true, VarCharType.MAX_LENGTH))
                        : null;
            default -> null;
        };
    }

    /**
     * The lowercase words of a query: the columns it may use. Null (every column) when it could use
     * columns without naming them: a {@code *} other than {@code count(*)}'s, or a {@code NATURAL} join.
     */
    static Set<String> named(String sql) {
        String text = sql.replaceAll("\\(\\s*\\*\\s*\\)", "()");
        if (text.contains("*")
                || Pattern.compile("(?i)\\bnatural\\b").matcher(text).find()) {
            return null;
        }
        Set<String> words = new HashSet<>();
        Matcher m = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*").matcher(text);
        while (m.find()) {
            words.add(m.group().toLowerCase(Locale.ROOT));
        }
        return words;
    }

    /**
     * The output table's schema for a query's result: every column optional, named as the query
     * names it.
     *
     * @throws IllegalArgumentException naming a column whose type a lake table cannot hold
     */
    static Schema output(ResolvedSchema result) {
        List<Types.NestedField> fields = new ArrayList<>();
        int id = 1;
        for (Column column : result.getColumns()) {
            LogicalType type = column.getDataType().getLogicalType();
            Type iceberg = icebergType(type, id + result.getColumnCount());
            if (iceberg == null) {
                throw new IllegalArgumentException("column '" + column.getName() + "' is " + type.asSummaryString()
                        + ", which a lake table cannot hold (CAST it to STRING, BIGINT, DOUBLE, BOOLEAN, DATE,"
                        + " TIMESTAMP_LTZ or DECIMAL)");
            }
            fields.add(Types.NestedField.optional(id++, column.getName(), iceberg));
        }
        return new Schema(fields);
    }

    private static Type icebergType(LogicalType type, int nestedId) {
        return switch (type.getTypeRoot()) {
            case CHAR, VARCHAR -> Types.StringType.get();
            case BOOLEAN -> Types.BooleanType.get();
            case TINYINT, SMALLINT, INTEGER -> Types.IntegerType.get();
            case BIGINT -> Types.LongType.get();
            case FLOAT -> Types.FloatType.get();
            case DOUBLE -> Types.DoubleType.get();
            case DECIMAL -> {
                DecimalType d = (DecimalType) type;
                yield Types.DecimalType.of(d.getPrecision(), d.getScale());
            }
            case DATE -> Types.DateType.get();
            case TIMESTAMP_WITHOUT_TIME_ZONE -> Types.TimestampType.withoutZone();
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE -> Types.TimestampType.withZone();
            case BINARY, VARBINARY -> Types.BinaryType.get();
            case MAP -> {
                MapType m = (MapType) type;
                yield isString(m.getKeyType()) && isString(m.getValueType())
                        ? Types.MapType.ofOptional(
                                nestedId, nestedId + 1000, Types.StringType.get(), Types.StringType.get())
                        : null;
            }
            default -> null;
        };
    }

    private static boolean isString(LogicalType type) {
        return switch (type.getTypeRoot()) {
            case CHAR, VARCHAR -> true;
            default -> false;
        };
    }

    /** A result's field as Iceberg's writers hold it (timestamps in microseconds, dates in days). */
    static Object toIceberg(RowData row, int i, LogicalType type) {
        if (row.isNullAt(i)) {
            return null;
        }
        return switch (type.getTypeRoot()) {
            // Its UTF-8 bytes as they are: Iceberg's Parquet writer takes an Avro Utf8 without
            // decoding it into a String and encoding it again.
            case CHAR, VARCHAR -> new Utf8(row.getString(i).toBytes());
            case BOOLEAN -> row.getBoolean(i);
            case TINYINT -> (int) row.getByte(i);
            case SMALLINT -> (int) row.getShort(i);
            case INTEGER, DATE -> row.getInt(i);
            case BIGINT -> row.getLong(i);
            case FLOAT -> row.getFloat(i);
            case DOUBLE -> row.getDouble(i);
            case DECIMAL -> {
                DecimalType d = (DecimalType) type;
                yield row.getDecimal(i, d.getPrecision(), d.getScale()).toBigDecimal();
            }
            case TIMESTAMP_WITHOUT_TIME_ZONE, TIMESTAMP_WITH_LOCAL_TIME_ZONE -> {
                TimestampData t = row.getTimestamp(i, precision(type));
                yield Math.addExact(Math.multiplyExact(t.getMillisecond(), 1_000L), t.getNanoOfMillisecond() / 1_000L);
            }
            case BINARY, VARBINARY -> ByteBuffer.wrap(row.getBinary(i));
            case MAP -> {
                MapData map = row.getMap(i);
                ArrayData keys = map.keyArray();
                ArrayData values = map.valueArray();
                Map<String, String> m = new HashMap<>(Math.max(4, map.size() * 2));
                for (int k = 0; k < map.size(); k++) {
                    m.put(
                            keys.getString(k).toString(),
                            values.isNullAt(k) ? null : values.getString(k).toString());
                }
                yield m;
            }
            default -> throw new IllegalStateException(type.asSummaryString());
        };
    }

    private static int precision(LogicalType type) {
        return type instanceof TimestampType t ? t.getPrecision() : ((LocalZonedTimestampType) type).getPrecision();
    }
}
