package dev.strata.batch.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.util.Utf8;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

class OutputWriterTest {

    /** Columns whose sampled values hardly repeat are written plain; repeating, sparse and map columns are not. */
    @Test
    void nearlyUniqueColumnsOfTheSampleAreWrittenPlain() {
        Schema schema = new Schema(
                Types.NestedField.optional(1, "id", Types.StringType.get()),
                Types.NestedField.optional(2, "device", Types.StringType.get()),
                Types.NestedField.optional(3, "time", Types.TimestampType.withZone()),
                Types.NestedField.optional(4, "mostly_null", Types.LongType.get()),
                Types.NestedField.optional(
                        5, "tags", Types.MapType.ofOptional(6, 7, Types.StringType.get(), Types.StringType.get())));
        List<GenericRecord> sample = new ArrayList<>();
        for (int i = 0; i < OutputWriter.SAMPLE; i++) {
            GenericRecord r = GenericRecord.create(schema);
            r.set(0, new Utf8("id-" + i));
            r.set(1, new Utf8("device-" + (i % 50)));
            r.set(2, 1_000_000L * (i - i % 20 == i ? i : i + 1)); // ~95% distinct
            r.set(3, i < 10 ? (Object) (long) (i % 2) : null);
            r.set(4, Map.of("k", "v-" + i));
            sample.add(r);
        }
        assertEquals(Set.of("id", "time"), OutputWriter.plainColumns(schema, sample));
    }
}
