package dev.strata.serving.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.strata.schemas.views.BatchCommit;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The last answer of each query with what it was computed from: the batch snapshot it was merged
 * with and the speed store's version of its view or group, read before the store was. An answer is
 * reused only while both are still current, so a cached answer is never stale; one entry per query,
 * replaced when either moves. Bounded by the bytes of the answers it holds.
 */
final class AnswerCache {

    private record Entry(Optional<BatchCommit> commit, long speedVersion, Rendered answer) {}

    private final Cache<String, Entry> answers;

    AnswerCache(long maxBytes, MeterRegistry metrics) {
        this.answers = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .<String, Entry>weigher((query, entry) -> entry.answer().bytes().length)
                .expireAfterAccess(Duration.ofMinutes(5))
                .recordStats()
                .build();
        CaffeineCacheMetrics.monitor(metrics, answers, "strata_serving_answers");
    }

    /**
     * The answer of {@code query} under this snapshot and speed version: cached, or computed now.
     *
     * @param speedVersion read before the speed store is read (see {@code SpeedViews#version})
     */
    Rendered get(String query, Optional<BatchCommit> commit, long speedVersion, Supplier<Rendered> compute) {
        Entry hit = answers.getIfPresent(query);
        if (hit != null && hit.speedVersion() == speedVersion && hit.commit().equals(commit)) {
            return hit.answer();
        }
        Rendered answer = compute.get();
        answers.put(query, new Entry(commit, speedVersion, answer));
        return answer;
    }
}
