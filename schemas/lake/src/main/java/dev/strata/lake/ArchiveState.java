package dev.strata.lake;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Where the archive stands, as the current snapshot of {@code events} records it: per Kafka
 * partition the next offset to archive, the last run and its cut.
 *
 * @param snapshotId the snapshot it was read from; empty before the first run
 */
public record ArchiveState(Map<Integer, Long> offsets, long lastRun, long lastCutMillis, Optional<Long> snapshotId) {

    public static final ArchiveState EMPTY = new ArchiveState(Map.of(), 0, Long.MIN_VALUE, Optional.empty());

    public ArchiveState {
        offsets = Map.copyOf(offsets);
    }

    /** {@code 0:1234,1:987} (partition:next offset), sorted by partition. */
    static String encode(Map<Integer, Long> offsets) {
        StringBuilder s = new StringBuilder();
        new TreeMap<>(offsets)
                .forEach((p, o) -> s.append(s.length() == 0 ? "" : ",")
                        .append(p)
                        .append(':')
                        .append(o));
        return s.toString();
    }

    static Map<Integer, Long> decode(String text) {
        Map<Integer, Long> offsets = new TreeMap<>();
        if (text == null || text.isBlank()) {
            return offsets;
        }
        for (String entry : text.split(",")) {
            int colon = entry.indexOf(':');
            offsets.put(
                    Integer.parseInt(entry.substring(0, colon).trim()),
                    Long.parseLong(entry.substring(colon + 1).trim()));
        }
        return offsets;
    }
}
