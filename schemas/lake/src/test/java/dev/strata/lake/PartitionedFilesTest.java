package dev.strata.lake;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Function;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionField;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.transforms.Transform;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PartitionedFilesTest {

    @TempDir
    Path dir;

    private static final Schema SCHEMA = new Schema(
            Types.NestedField.required(1, "time", Types.TimestampType.withZone()),
            Types.NestedField.required(2, "local", Types.TimestampType.withoutZone()),
            Types.NestedField.optional(3, "source", Types.StringType.get()),
            Types.NestedField.required(4, "other", Types.TimestampType.withZone()));

    /** The day and hour computed by division equal Iceberg's own transforms, before 1970 included. */
    @Test
    void timeBucketsByDivisionEqualIcebergsTransforms() {
        PartitionSpec spec = PartitionSpec.builderFor(SCHEMA)
                .day("time")
                .hour("local")
                .month("other")
                .identity("source")
                .build();
        SplittableRandom random = new SplittableRandom(7);
        long[] edges = {0L, -1L, 1L, -86_400_000_000L, 86_400_000_000L - 1, -3_600_000_000L - 1, 3_600_000_000L};
        for (PartitionField field : spec.fields()) {
            Type type = SCHEMA.findType(field.sourceId());
            Function<Object, Object> ours = PartitionedFiles.transform(field, type);
            @SuppressWarnings("unchecked")
            Function<Object, Object> iceberg =
                    (Function<Object, Object>) ((Transform<Object, Object>) field.transform()).bind(type);
            if (type.typeId() != Type.TypeID.TIMESTAMP) {
                assertEquals(iceberg.apply("a"), ours.apply("a"), field.name());
                continue;
            }
            for (long edge : edges) {
                assertEquals(iceberg.apply(edge), ours.apply(edge), field.name() + " of " + edge);
            }
            for (int i = 0; i < 200_000; i++) {
                long micros = random.nextLong(-4_000_000_000_000_000L, 4_000_000_000_000_000L);
                assertEquals(iceberg.apply(micros), ours.apply(micros), field.name() + " of " + micros);
            }
            assertEquals(null, ours.apply(null), field.name() + " of null");
        }
    }

    /**
     * A plain column is written without a dictionary, the others keep theirs; rows land in their
     * day's file (as Parquet's footers and DuckDB read them).
     */
    @Test
    void plainColumnsHaveNoDictionaryAndRowsLandInTheirDay() throws Exception {
        try (Lake lake = Lake.open(LakeConfig.local(dir))) {
            Schema schema = new Schema(
                    Types.NestedField.optional(1, "id", Types.StringType.get()),
                    Types.NestedField.optional(2, "source", Types.StringType.get()),
                    Types.NestedField.optional(3, "time", Types.TimestampType.withZone()));
            CuratedTable table = lake.createCurated(
                    "t", schema, PartitionSpec.builderFor(schema).day("time").build());
            PartitionedFiles files = new PartitionedFiles(table.table(), n -> "f-" + n + ".parquet", Set.of("id"));
            GenericRecord row = GenericRecord.create(schema);
            for (int i = 0; i < 3_000; i++) {
                row.set(0, "id-" + i);
                row.set(1, "source-" + (i % 3));
                row.set(2, (i - 1_500) * 50_000_000L); // 50 s apart around the epoch: two days
                files.write(row);
            }
            List<DataFile> written = files.finish();
            assertEquals(2, written.size());
            Map<String, Long> rowsPerDay = new TreeMap<>();
            written.forEach(f -> rowsPerDay.put(String.valueOf(f.partition().get(0, Integer.class)), f.recordCount()));
            assertEquals(Map.of("-1", 1_500L, "0", 1_500L), rowsPerDay);
            try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                    Statement st = duck.createStatement()) {
                for (DataFile f : written) {
                    Map<String, String> encodings = new TreeMap<>();
                    try (ResultSet rs = st.executeQuery("SELECT path_in_schema, string_agg(DISTINCT encodings, ',')"
                            + " FROM parquet_metadata('" + f.location().replace("file:", "") + "') GROUP BY 1")) {
                        while (rs.next()) {
                            encodings.put(rs.getString(1), rs.getString(2));
                        }
                    }
                    assertEquals(false, encodings.get("id").contains("DICTIONARY"), "id: " + encodings);
                    assertEquals(true, encodings.get("source").contains("DICTIONARY"), "source: " + encodings);
                }
            }
        }
    }
}
