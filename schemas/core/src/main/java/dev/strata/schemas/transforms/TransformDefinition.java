package dev.strata.schemas.transforms;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A transform: a SQL {@code SELECT} over lake tables whose result is written into an output table of
 * the lake, run on a schedule, when an input has a new snapshot, or both.
 *
 * @param name the transform's name (lowercase letters, digits, {@code _})
 * @param sql the query (Flink SQL, batch mode)
 * @param output the output table's name
 * @param partitionBy the output's partitioning: column names and {@code year(c)}, {@code month(c)},
 *     {@code day(c)}, {@code hour(c)} of timestamp columns
 * @param mode how a run writes: {@link Mode#INCREMENTAL} appends what the new snapshots of
 *     {@code incremental} give; {@link Mode#REPLACE} recomputes from every input whole and replaces the
 *     output's partitions the result touches
 * @param incremental the input read as its new snapshots only (incremental mode; the others are read
 *     whole, e.g. a dataset the new events are joined with); empty in replace mode
 * @param every run at least this often (empty: only on new input)
 * @param onNewInput run when an input has a snapshot the output has not applied yet
 */
public record TransformDefinition(
        String name,
        String sql,
        String output,
        List<String> partitionBy,
        Mode mode,
        Optional<String> incremental,
        Optional<Duration> every,
        boolean onNewInput) {

    public enum Mode {
        INCREMENTAL,
        REPLACE;

        public String yaml() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public TransformDefinition {
        partitionBy = List.copyOf(partitionBy);
    }
}
