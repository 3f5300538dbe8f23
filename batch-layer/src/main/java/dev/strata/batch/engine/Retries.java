package dev.strata.batch.engine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Which candidate rows count and which are retries: decided by the identities themselves, (source,
 * id), in the client.
 */
final class Retries {

    private Retries() {}

    /**
     * The rows that count: per (source, id), in append order (position breaks ties), a row appended
     * less than the horizon after the last counted one of its identity is a retry.
     */
    static List<CandidateRow> counted(List<CandidateRow> rows, long horizonMillis) {
        if (rows.size() == 1) {
            return List.of(rows.get(0));
        }
        List<CandidateRow> sorted = new ArrayList<>(rows);
        sorted.sort(Comparator.comparing(CandidateRow::source)
                .thenComparing(CandidateRow::id)
                .thenComparingLong(CandidateRow::appendTime)
                .thenComparingLong(CandidateRow::position));
        List<CandidateRow> counted = new ArrayList<>();
        CandidateRow first = null;
        long lastCounted = Long.MIN_VALUE;
        for (CandidateRow row : sorted) {
            if (first == null || !row.id().equals(first.id()) || !row.source().equals(first.source())) {
                first = row;
                lastCounted = Long.MIN_VALUE;
            }
            if (lastCounted != Long.MIN_VALUE && row.appendTime() - lastCounted < horizonMillis) {
                continue;
            }
            lastCounted = row.appendTime();
            counted.add(row);
        }
        return counted;
    }
}
