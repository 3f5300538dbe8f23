package dev.strata.batch.engine;

import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.AggregateCodec;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;

/**
 * One subtask's aggregate of one cell (a view's group and window), sent to the client to be merged
 * with the others; the state in the shared aggregate encoding ({@link AggregateCodec}), sketches
 * included.
 */
public record PartialCell(String view, List<String> group, long windowStart, byte[] state) {

    static final TypeInformation<PartialCell> TYPE = Types.POJO(
            PartialCell.class,
            Map.of(
                    "view",
                    Types.STRING,
                    "group",
                    Types.LIST(Types.STRING),
                    "windowStart",
                    Types.LONG,
                    "state",
                    Types.PRIMITIVE_ARRAY(Types.BYTE)));

    static PartialCell of(ViewKey cell, Aggregate aggregate) {
        return new PartialCell(cell.view(), cell.group(), cell.windowStartMillis(), AggregateCodec.encode(aggregate));
    }

    /** The snapshot's key of the cell (bucket 0). */
    ViewKey key() {
        return new ViewKey(view, group, windowStart, 0);
    }

    Aggregate aggregate(ViewDefinition definition) {
        return AggregateCodec.decode(definition, state);
    }
}
