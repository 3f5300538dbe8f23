package dev.strata.batch.transform;

import java.io.Serializable;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.MapData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.BigIntType;
import org.apache.flink.table.types.logical.BooleanType;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.DoubleType;
import org.apache.flink.table.types.logical.FloatType;
import org.apache.flink.table.types.logical.IntType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.MapType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.VarBinaryType;
import org.apache.flink.table.types.logical.VarCharType;
import org.apache.flink.types.Row;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Between the lake's Iceberg types and Flink SQL's: the columns of an input table as Flink reads
 * them from Parquet (timestamps as their INT64 microseconds, turned into {@link Instant}s for SQL),
 * and a query's result as an output table's schema and rows.
 */
final class LakeTypes {

    private LakeTypes() {}

    /** The columns of an input table transforms can read, as read from Parquet and as SQL sees them. */
    record InputColumns(List<String> names, List<Type> types, RowType parquet, RowTypeInfo sql)
            implements Serializable {}

    static InputColumns input(Schema schema) {
        List<String> names = new ArrayList<>();
        List<Type> types = new ArrayList<>();
        List<LogicalType> parquet = new ArrayList<>();
        List<TypeInformation<?>> sql = new ArrayList<>();
        for (Types.NestedField field : schema.columns()) {
            LogicalType read = parquetType(field.type());
            if (read == null) {
                continue; // a type SQL here cannot read: the column is not offered
            }
            names.add(field.name());
            types.add(field.type());
            parquet.add(read);
            sql.add(sqlType(field.type()));
        }
        return new InputColumns(
                List.copyOf(names),
                List.copyOf(types),
                RowType.of(parquet.toArray(LogicalType[]::new), names.toArray(String[]::new)),
                new RowTypeInfo(sql.toArray(TypeInformation[]::new), names.toArray(String[]::new)));
    }

    private static LogicalType parquetType(Type type) {
        return switch (type.typeId()) {
            case STRING -> new VarCharType(true, VarCharType.MAX_LENGTH);
            case INTEGER, DATE -> new IntType(true);
            case LONG, TIMESTAMP -> new BigIntType(true);
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

    private static TypeInformation<?> sqlType(Type type) {
        return switch (type.typeId()) {
            case STRING -> org.apache.flink.api.common.typeinfo.Types.STRING;
            case INTEGER -> org.apache.flink.api.common.typeinfo.Types.INT;
            case DATE -> org.apache.flink.api.common.typeinfo.Types.LOCAL_DATE;
            case LONG -> org.apache.flink.api.common.typeinfo.Types.LONG;
            case TIMESTAMP ->
                ((Types.TimestampType) type).shouldAdjustToUTC()
                        ? org.apache.flink.api.common.typeinfo.Types.INSTANT
                        : org.apache.flink.api.common.typeinfo.Types.LOCAL_DATE_TIME;
            case DOUBLE -> org.apache.flink.api.common.typeinfo.Types.DOUBLE;
            case FLOAT -> org.apache.flink.api.common.typeinfo.Types.FLOAT;
            case BOOLEAN -> org.apache.flink.api.common.typeinfo.Types.BOOLEAN;
            case BINARY ->
                org.apache.flink.api.common.typeinfo.Types.PRIMITIVE_ARRAY(
                        org.apache.flink.api.common.typeinfo.Types.BYTE);
            case DECIMAL -> org.apache.flink.api.common.typeinfo.Types.BIG_DEC;
            case MAP ->
                org.apache.flink.api.common.typeinfo.Types.MAP(
                        org.apache.flink.api.common.typeinfo.Types.STRING,
                        org.apache.flink.api.common.typeinfo.Types.STRING);
            case LIST ->
                org.apache.flink.api.common.typeinfo.Types.OBJECT_ARRAY(
                        org.apache.flink.api.common.typeinfo.Types.STRING);
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    /** A row read from Parquet (a reused view of a column batch) as a fresh row for SQL. */
    static Row toRow(RowData in, InputColumns columns) {
        int n = columns.names().size();
        Row out = new Row(n);
        for (int i = 0; i < n; i++) {
            if (in.isNullAt(i)) {
                continue;
            }
            Type type = columns.types().get(i);
            out.setField(
                    i,
                    switch (type.typeId()) {
                        case STRING -> in.getString(i).toString();
                        case INTEGER -> in.getInt(i);
                        case DATE -> LocalDate.ofEpochDay(in.getInt(i));
                        case LONG -> in.getLong(i);
                        case TIMESTAMP -> {
                            long micros = in.getLong(i);
                            Instant instant = Instant.ofEpochSecond(
                                    Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
                            yield ((Types.TimestampType) type).shouldAdjustToUTC()
                                    ? instant
                                    : LocalDateTime.ofInstant(instant, ZoneOffset.UTC);
                        }
                        case DOUBLE -> in.getDouble(i);
                        case FLOAT -> in.getFloat(i);
                        case BOOLEAN -> in.getBoolean(i);
                        case BINARY -> in.getBinary(i);
                        case DECIMAL -> {
                            Types.DecimalType d = (Types.DecimalType) type;
                            yield in.getDecimal(i, d.precision(), d.scale()).toBigDecimal();
                        }
                        case MAP -> {
                            MapData map = in.getMap(i);
                            ArrayData keys = map.keyArray();
                            ArrayData values = map.valueArray();
                            Map<String, String> m = new HashMap<>(Math.max(4, map.size() * 2));
                            for (int k = 0; k < map.size(); k++) {
                                m.put(
                                        keys.getString(k).toString(),
                                        values.isNullAt(k)
                                                ? null
                                                : values.getString(k).toString());
                            }
                            yield m;
                        }
                        case LIST -> {
                            ArrayData array = in.getArray(i);
                            String[] a = new String[array.size()];
                            for (int k = 0; k < a.length; k++) {
                                a[k] = array.isNullAt(k)
                                        ? null
                                        : array.getString(k).toString();
                            }
                            yield a;
                        }
                        default -> throw new IllegalStateException(type.toString());
                    });
        }
        return out;
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

    /** A result's value as Iceberg's writers hold it (timestamps in microseconds, dates in days). */
    static Object toIceberg(Object value, Type type) {
        if (value == null) {
            return null;
        }
        return switch (type.typeId()) {
            case INTEGER -> ((Number) value).intValue();
            case LONG -> ((Number) value).longValue();
            case FLOAT -> ((Number) value).floatValue();
            case DOUBLE -> ((Number) value).doubleValue();
            case DATE -> (int) ((LocalDate) value).toEpochDay();
            case TIMESTAMP -> {
                Instant i = value instanceof LocalDateTime t ? t.toInstant(ZoneOffset.UTC) : (Instant) value;
                yield Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000L), i.getNano() / 1_000L);
            }
            case BINARY -> ByteBuffer.wrap((byte[]) value);
            case DECIMAL -> ((BigDecimal) value).setScale(((Types.DecimalType) type).scale());
            case STRING -> value.toString();
            default -> value;
        };
    }
}
