package dev.strata.speed.model;

import dev.strata.schemas.views.ViewKey;
import java.util.Base64;

/**
 * An event routed to one view's key: (view, group, window start, ingest bucket), with only what the
 * view's aggregate folds ({@link FoldInput}), not the whole event. A Flink POJO.
 */
public class ViewInput {
    /** The encoded {@link ViewKey}, Base64: the key the stream is partitioned by. */
    public String key;

    public long bucketMillis;
    /** The broker's append time of the event (the append-to-fold metric). */
    public long appendTimeMillis;

    public FoldInput fold;

    public ViewInput() {}

    public static ViewInput of(ViewKey key, long appendTimeMillis, FoldInput fold) {
        ViewInput in = new ViewInput();
        in.key = encodeKey(key);
        in.bucketMillis = key.bucketMillis();
        in.appendTimeMillis = appendTimeMillis;
        in.fold = fold;
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
