package dev.strata.verify;

import java.util.ArrayList;
import java.util.List;

/** What one seeded run saw: its counts, the faults injected, the mismatches and the problems. */
final class RunResult {
    long acknowledged;
    long resent;
    long sharedIds;
    long retries;
    long refused;
    long cellsChecked;
    final List<String> poison = new ArrayList<>();
    final List<String> faults = new ArrayList<>();
    List<String> mismatches = List.of();
    final List<String> problems = new ArrayList<>();

    boolean passed() {
        return mismatches.isEmpty() && problems.isEmpty() && acknowledged > 0;
    }
}
