package dev.strata.lake;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionField;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.parquet.InternalWriter;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.transforms.Transform;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Rows of one writer (a task) into data files of a table, one open file per partition, written with
 * Iceberg's own Parquet writer; nothing is committed here (the caller commits the files finished).
 */
public final class PartitionedFiles {

    private final Table table;
    private final IntFunction<String> names;
    private final Set<String> plain;
    private final PartitionKey key;
    /** Per partition field, the top-level column it is computed from, or null: {@link #key} computes all. */
    private final int[] source;
    /** Per partition field, its function of the column's value (time buckets computed by division). */
    private final List<Function<Object, Object>> transforms = new ArrayList<>();

    private final Map<PartitionKey, DataWriter<GenericRecord>> open = new HashMap<>();
    private int files;

    /**
     * The share of distinct values (in a sample of a column's values that are not null) from which
     * a column is written without a dictionary: Parquet's writer would otherwise build a dictionary
     * of nearly every value only to find it no smaller than the values, and give it up.
     */
    public static final double UNIQUE_SHARE = 0.9;

    /** Whether a column with {@code distinct} values among {@code values} sampled is to be written plain. */
    public static boolean nearlyUnique(int distinct, int values) {
        return values > 0 && distinct >= UNIQUE_SHARE * values;
    }

    /** Files named {@code names.apply(n)} for the n-th file this writer opens (names must never repeat). */
    public PartitionedFiles(Table table, IntFunction<String> names) {
        this(table, names, Set.of());
    }

    /**
     * The same, with the {@code plain} columns written without a dictionary: for columns whose values
     * hardly repeat, where Parquet's writer would build a dictionary only to give it up.
     */
    public PartitionedFiles(Table table, IntFunction<String> names, Set<String> plain) {
        this.table = table;
        this.names = names;
        this.plain = Set.copyOf(plain);
        this.key = new PartitionKey(table.spec(), table.schema());
        this.source = sources(table.schema(), table.spec());
        if (source != null) {
            for (PartitionField field : table.spec().fields()) {
                transforms.add(transform(field, table.schema().findType(field.sourceId())));
            }
        }
    }

    /** The position of each field's source column, or null where one is not a top-level column. */
    private static int[] sources(Schema schema, PartitionSpec spec) {
        int[] positions = new int[spec.fields().size()];
        List<Types.NestedField> columns = schema.columns();
        Map<Integer, Integer> byId = new HashMap<>();
        for (int c = 0; c < columns.size(); c++) {
            byId.put(columns.get(c).fieldId(), c);
        }
        for (int i = 0; i < positions.length; i++) {
            Integer position = byId.get(spec.fields().get(i).sourceId());
            if (position == null) {
                return null;
            }
            positions[i] = position;
        }
        return positions;
    }

    /**
     * Iceberg's transform of a field, except {@code day} and {@code hour} of a timestamp: whole days
     * and hours since the epoch, which Iceberg computes through a date-time object per row and a
     * floored division does alike (times before 1970 included).
     */
    @SuppressWarnings("unchecked")
    static Function<Object, Object> transform(PartitionField field, Type type) {
        if (type.typeId() == Type.TypeID.TIMESTAMP) {
            long unit = switch (field.transform().toString()) {
                case "day" -> 86_400_000_000L;
                case "hour" -> 3_600_000_000L;
                default -> 0L;
            };
            if (unit > 0) {
                return micros -> micros == null ? null : (int) Math.floorDiv((Long) micros, unit);
            }
        }
        return (Function<Object, Object>) ((Transform<Object, Object>) field.transform()).bind(type);
    }

    /** Writes a row of the table's schema into its partition's file. */
    public void write(GenericRecord row) {
        partition(row);
        DataWriter<GenericRecord> file = open.get(key);
        if (file == null) {
            PartitionKey partition = key.copy();
            file = newFile(partition);
            open.put(partition, file);
        }
        file.write(row);
    }

    /** Sets {@link #key} to the row's partition. */
    private void partition(GenericRecord row) {
        if (source == null) {
            key.partition(row);
            return;
        }
        for (int i = 0; i < source.length; i++) {
            key.set(i, transforms.get(i).apply(row.get(source[i])));
        }
    }

    private DataWriter<GenericRecord> newFile(PartitionKey partition) {
        OutputFile out = table.io()
                .newOutputFile(table.locationProvider().newDataLocation(table.spec(), partition, names.apply(files++)));
        try {
            Parquet.DataWriteBuilder builder = Parquet.writeData(out).forTable(table);
            for (String column : plain) {
                builder.set(TableProperties.PARQUET_DICT_ENCODING_ENABLED_COLUMN_PREFIX + column, "false");
            }
            return builder.withSpec(table.spec())
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
