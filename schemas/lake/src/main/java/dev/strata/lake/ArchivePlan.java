package dev.strata.lake;

import java.util.Map;

/**
 * What an archive run is about to commit: its number and cut, the state it was planned from, and
 * per Kafka partition the offsets [from, until) it archives.
 *
 * @param attempt a unique name of this attempt, in its files' names and its snapshot's summary
 */
public record ArchivePlan(
        long run,
        long cutMillis,
        ArchiveState basis,
        Map<Integer, Long> from,
        Map<Integer, Long> until,
        String attempt) {

    public ArchivePlan {
        from = Map.copyOf(from);
        until = Map.copyOf(until);
    }

    /** Whether the run holds no offset at all. */
    public boolean empty() {
        return from.entrySet().stream().allMatch(e -> until.getOrDefault(e.getKey(), e.getValue()) <= e.getValue());
    }
}
