package dev.strata.batch.lake;

import dev.strata.schemas.Event;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.HashMap;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * A row of the lake's {@code events} dataset: the event's fields, where it was in Kafka (partition,
 * offset, the broker's append time) and the archive run that wrote it. Plain columns (strings,
 * longs, a double, a map), readable by any Parquet engine.
 */
public final class LakeSchema {

    public static final Schema ROW = SchemaBuilder.record("LakeEvent")
            .namespace("dev.strata.lake")
            .fields()
            .requiredString("id")
            .requiredString("source")
            .requiredString("type")
            .name("time")
            .type(timestampMillis())
            .noDefault()
            .optionalDouble("value")
            .name("attributes")
            .type()
            .map()
            .values()
            .stringType()
            .noDefault()
            .name("ingest_time")
            .type(timestampMillis())
            .noDefault()
            .requiredInt("kafka_partition")
            .requiredLong("kafka_offset")
            .name("append_time")
            .type(timestampMillis())
            .noDefault()
            .requiredLong("run")
            .endRecord();

    private LakeSchema() {}

    private static Schema timestampMillis() {
        return LogicalTypes.timestampMillis().addToSchema(Schema.create(Schema.Type.LONG));
    }

    public static GenericRecord row(Event e, int partition, long offset, long appendTime, long run) {
        GenericRecord r = new GenericData.Record(ROW);
        r.put("id", e.getId());
        r.put("source", e.getSource());
        r.put("type", e.getType());
        r.put("time", e.getTime().toEpochMilli());
        r.put("value", e.getValue());
        r.put("attributes", new HashMap<>(e.getAttributes()));
        r.put("ingest_time", e.getIngestTime().toEpochMilli());
        r.put("kafka_partition", partition);
        r.put("kafka_offset", offset);
        r.put("append_time", appendTime);
        r.put("run", run);
        return r;
    }

    /** A timestamp column as epoch millis (Parquet readers may hand back a long or an Instant). */
    public static long millis(Object value) {
        return value instanceof Instant i ? i.toEpochMilli() : (Long) value;
    }

    /** The Hive-style partition of an event time: {@code date=YYYY-MM-DD/hour=HH}. */
    public static String partitionOf(long eventTimeMillis) {
        long hour = Math.floorDiv(eventTimeMillis, 3_600_000L);
        LastPartition last = LAST_PARTITION.get();
        if (last.name != null && last.hour == hour) {
            return last.name; // the events of a run mostly share a few hours: format each hour once
        }
        ZonedDateTime t = Instant.ofEpochMilli(eventTimeMillis).atZone(ZoneOffset.UTC);
        String partition = String.format(
                "date=%04d-%02d-%02d/hour=%02d", t.getYear(), t.getMonthValue(), t.getDayOfMonth(), t.getHour());
        last.hour = hour;
        last.name = partition;
        return partition;
    }

    private static final class LastPartition {
        long hour;
        String name;
    }

    private static final ThreadLocal<LastPartition> LAST_PARTITION = ThreadLocal.withInitial(LastPartition::new);
}
