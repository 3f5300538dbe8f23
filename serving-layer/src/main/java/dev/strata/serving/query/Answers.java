package dev.strata.serving.query;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/** The JSON answers of the view API, as {@code /v1/openapi.yaml} describes them. */
public final class Answers {

    private Answers() {}

    /** {@code GET /v1/views}: the cut, the batch snapshot and the speed store, and every view's definition. */
    public record Views(
            String cut,
            long cutMillis,
            Batch batch,
            @JsonInclude(JsonInclude.Include.NON_NULL) RefusedCommit refusedCommit,
            Speed speed,
            List<View> views) {}

    /** The batch snapshot the answer was merged with (null before the first). */
    public record Batch(long run, String snapshot) {}

    /** The newest batch commit this serving layer refused (settings that differ from its own), if any. */
    public record RefusedCommit(long run, String reason) {}

    /** The speed views store: its state, its lag and its newest update. */
    public record Speed(
            String state,
            long lagRecords,
            String newestUpdate,
            @JsonInclude(JsonInclude.Include.NON_NULL) Long ageMs) {}

    /** A view's definition. */
    public record View(
            String name,
            List<String> types,
            Map<String, String> attributes,
            List<String> groupBy,
            String window,
            List<String> measures) {}

    /** {@code GET /v1/views/{view}}: the merged series of each group. */
    public record Series(String view, String from, String to, String step, String cut, List<Point> points) {}

    /** One point of a series: a group's merged measures over [start, start + step). */
    public record Point(List<String> group, String start, long startMillis, Map<String, Double> measures) {}

    /** {@code GET /v1/views/{view}/top}: the groups ranked by one measure over a range. */
    public record Top(String view, String measure, String from, String to, String cut, List<RankedGroup> groups) {}

    /** A group of a top answer: its value of the ranked measure (null if none) and all its measures. */
    public record RankedGroup(
            List<String> group,
            @JsonInclude(JsonInclude.Include.ALWAYS) Double value,
            Map<String, Double> measures) {}
}
