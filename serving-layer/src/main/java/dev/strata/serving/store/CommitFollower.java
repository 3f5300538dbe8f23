package dev.strata.serving.store;

import dev.strata.lake.ViewsTable;
import dev.strata.schemas.kafka.KafkaClients;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.CutSettings;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.serving.query.Answers;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows {@code batch-commits} from its beginning: whenever the announced snapshot differs from
 * the loaded one (a new run, a replay, a rollback) it is loaded from the lake and swapped in. A
 * commit that cannot be read or loaded is logged and counted, and the current snapshot stays; the
 * next announcement is tried as usual, and the failed one again at the next poll. A commit computed
 * with other {@link CutSettings} than this layer's is refused: logged with both settings and the
 * fix, counted, shown in {@code GET /v1/views}, and the current snapshot stays.
 */
public final class CommitFollower implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CommitFollower.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;
    private final ViewsTable table;
    private final BatchViews batch;
    private final Map<String, ViewDefinition> views;
    private final CutSettings cut;
    private final Thread thread;
    private volatile boolean caughtUp;
    private volatile boolean stopping;
    private volatile long failures;
    private volatile long refusals;
    private volatile Optional<Answers.RefusedCommit> refused = Optional.empty();
    private Optional<BatchCommit> announced = Optional.empty();
    private BatchCommit lastFailed;
    private long lastFailedAt;

    public CommitFollower(
            String bootstrapServers,
            String topic,
            ViewsTable table,
            BatchViews batch,
            List<ViewDefinition> views,
            CutSettings cut) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        KafkaClients.secure(props);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.topic = topic;
        this.table = table;
        this.batch = batch;
        this.views = views.stream().collect(Collectors.toMap(ViewDefinition::name, Function.identity()));
        this.cut = cut;
        this.thread = new Thread(this::follow, "batch-commits-follower");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** Whether the topic has been read to where its end was at start (the current snapshot is known). */
    public boolean caughtUp() {
        return caughtUp;
    }

    /** Announcements that could not be read or loaded so far. */
    public long failures() {
        return failures;
    }

    /** Batch commits refused so far for settings other than this layer's. */
    public long refusals() {
        return refusals;
    }

    /** The newest commit refused, while it is the newest announced: why, for {@code GET /v1/views}. */
    public Optional<Answers.RefusedCommit> refused() {
        return refused;
    }

    private void follow() {
        try {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofMinutes(2)).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            while (!stopping) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    if (record.value() == null) {
                        continue;
                    }
                    try {
                        announced = Optional.of(BatchCommit.decode(record.value()));
                    } catch (IllegalArgumentException e) {
                        failures++;
                        LOG.warn(
                                "Skipped an unreadable record of {} at {}-{}: {}",
                                topic,
                                record.partition(),
                                record.offset(),
                                e.getMessage());
                    }
                }
                if (!caughtUp
                        && ends.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
                    loadAnnounced();
                    caughtUp = true;
                    LOG.info(
                            "Read {} to its end: current batch snapshot {}",
                            topic,
                            batch.commit()
                                    .map(c -> "run " + c.run() + ", cut " + c.cutMillis())
                                    .orElse("none yet"));
                } else if (caughtUp) {
                    loadAnnounced();
                }
            }
        } catch (WakeupException e) {
            if (!stopping) {
                throw e;
            }
        } catch (RuntimeException e) {
            LOG.error("Following {} stopped: {}", topic, e.toString(), e);
        } finally {
            consumer.close();
        }
    }

    private void loadAnnounced() {
        if (announced.isEmpty() || Objects.equals(announced, batch.commit())) {
            refused = Optional.empty();
            return;
        }
        BatchCommit commit = announced.get();
        Optional<String> refusal = cut.refusal(commit, "serving layer");
        if (refusal.isPresent()) {
            if (refused.isEmpty() || refused.get().run() != commit.run()) {
                refusals++;
                LOG.error("{}; keeping the current snapshot", refusal.get());
                refused = Optional.of(new Answers.RefusedCommit(commit.run(), refusal.get()));
            }
            return;
        }
        if (commit.equals(lastFailed) && System.currentTimeMillis() - lastFailedAt < 10_000) {
            return; // tried a moment ago
        }
        Optional<BatchCommit> loaded = batch.commit();
        if (loaded.isPresent() && stale(commit, loaded.get())) {
            // A process that lost a race announced after the winner: the loaded snapshot is newer.
            LOG.warn(
                    "Not loading {} (run {}, cut {}): the loaded {} (run {}, cut {}) is newer",
                    commit.snapshot(),
                    commit.run(),
                    commit.cutMillis(),
                    loaded.get().snapshot(),
                    loaded.get().run(),
                    loaded.get().cutMillis());
            announced = loaded;
            refused = Optional.empty();
            return;
        }
        try {
            batch.load(commit, table.announced(commit, views));
            refused = Optional.empty(); // a commit is taken
        } catch (Exception e) {
            refused = Optional.empty(); // this one is not refused: its load failed, and is counted as such
            failures++;
            lastFailed = commit;
            lastFailedAt = System.currentTimeMillis();
            LOG.error(
                    "Could not load the batch snapshot of run {} ({}): {}; keeping the current one",
                    commit.run(),
                    commit.snapshot(),
                    e.toString());
        }
    }

    /**
     * Whether {@code commit} is older than the loaded one: the batch layer's announced cut never
     * moves back (a rollback folds the runs since at once; a replay keeps run and cut), so a commit
     * with an earlier cut, or the same cut and an earlier run, was announced late.
     */
    static boolean stale(BatchCommit commit, BatchCommit loaded) {
        return commit.cutMillis() < loaded.cutMillis()
                || (commit.cutMillis() == loaded.cutMillis() && commit.run() < loaded.run());
    }

    @Override
    public void close() throws InterruptedException {
        stopping = true;
        consumer.wakeup();
        thread.join(10_000);
    }
}
