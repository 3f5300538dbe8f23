package dev.strata.speed.model;

import dev.strata.schemas.views.ViewKey;
import java.util.Base64;

/** An event routed to one view's key: (view, group, window start, ingest bucket). A Flink POJO. */
public class ViewInput {
    /** The encoded {@link ViewKey}, Base64: the key the stream is partitioned by. */
    public String key;

    public long bucketMillis;
    public IngestedEvent event;

    public ViewInput() {}

    public static ViewInput of(ViewKey key, IngestedEvent event) {
        ViewInput in = new ViewInput();
        in.key = encodeKey(key);
        in.bucketMillis = key.bucketMillis();
        in.event = event;
        return in;
    }

    public static String encodeKey(ViewKey key) {
        return Base64.getEncoder().encodeToString(key.encode());
    }

    public static ViewKey decodeKey(String key) {
        return ViewKey.decode(Base64.getDecoder().decode(key));
    }

    public String key() {
        return key;
    }
}
