package dev.strata.batch.engine;

import dev.strata.schemas.Event;
import java.time.Instant;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;

/**
 * A lake row whose identity hash was seen more than once: its id, where and when it was appended, its run,
 * and the fields the views read. The client decides whether it is a retry ({@link Retries}).
 *
 * @param position the row's place in Kafka ({@link LakeColumns#position})
 */
public record CandidateRow(
        String id,
        long appendTime,
        long position,
        long run,
        String source,
        String type,
        long timeMillis,
        Double value,
        Map<String, String> attributes) {

    /** Flink's serializer for it: a POJO of typed fields, the attributes a map of strings. */
    static final TypeInformation<CandidateRow> TYPE = Types.POJO(
            CandidateRow.class,
            Map.of(
                    "id", Types.STRING,
                    "appendTime", Types.LONG,
                    "position", Types.LONG,
                    "run", Types.LONG,
                    "source", Types.STRING,
                    "type", Types.STRING,
                    "timeMillis", Types.LONG,
                    "value", Types.DOUBLE,
                    "attributes", Types.MAP(Types.STRING, Types.STRING)));

    static CandidateRow of(Event event, long appendTime, long position, long run) {
        return new CandidateRow(
                event.getId(),
                appendTime,
                position,
                run,
                event.getSource(),
                event.getType(),
                event.getTime().toEpochMilli(),
                event.getValue(),
                event.getAttributes());
    }

    /** The event the views fold (the ingest time is not read from the lake: the event time stands in). */
    Event event() {
        Instant time = Instant.ofEpochMilli(timeMillis);
        return new Event(id, source, type, time, value, attributes, time);
    }
}
