package dev.strata.serving.store;

import dev.strata.schemas.kafka.KafkaClients;
import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.AggregateCodec;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import dev.strata.serving.query.SpeedSide;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The speed views: Kafka Streams materializes the compacted {@code speed-views} topic into a
 * persistent RocksDB store (the topic itself is the changelog, {@code topology.optimization=all}),
 * queried in place (interactive queries). A restart resumes from the local state and the topic.
 * Each serving instance keeps a full copy: its application id is its own.
 */
public final class SpeedViews implements SpeedSide, AutoCloseable {

    public static final String STORE = "speed-views";

    private final KafkaStreams streams;
    private static final Logger LOG = LoggerFactory.getLogger(SpeedViews.class);

    private final AtomicLong newestUpdateMillis = new AtomicLong(-1);
    private final AtomicLong undecodable = new AtomicLong();
    private volatile ReadOnlyKeyValueStore<byte[], byte[]> store;
    /** Updates read per view prefix and per (view, group) prefix: answers cached under a version stay exact. */
    private final ConcurrentHashMap<ByteBuffer, AtomicLong> versions = new ConcurrentHashMap<>();

    public SpeedViews(String bootstrapServers, String topic, String applicationId, Path stateDir) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.table(
                        topic,
                        Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()),
                        Materialized.<byte[], byte[], KeyValueStore<Bytes, byte[]>>as(STORE)
                                .withKeySerde(Serdes.ByteArray())
                                .withValueSerde(Serdes.ByteArray()))
                .toStream()
                .processValues(() -> new NewestUpdate(newestUpdateMillis, versions));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        KafkaClients.secure(props);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.OPTIMIZE);
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0); // every update visible and seen at once
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        props.put(
                StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG,
                true); // the 5.0 default, and no warning
        streams = new KafkaStreams(builder.build(props), props);
    }

    public void start() {
        streams.start();
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    @Override
    public String stateName() {
        return state().toString();
    }

    @Override
    public boolean running() {
        return streams.state() == KafkaStreams.State.RUNNING;
    }

    /** Speed cells left out of answers because they could not be decoded. */
    public long undecodable() {
        return undecodable.get();
    }

    /** The broker timestamp of the newest speed update read, or -1. */
    @Override
    public long newestUpdateMillis() {
        return newestUpdateMillis.get();
    }

    /** The largest consumer lag of the store's input (records), or -1 when not known yet. */
    @Override
    public long lag() {
        return streams.metrics().values().stream()
                .filter(m -> m.metricName().name().equals("records-lag-max")
                        && m.metricName().group().equals("consumer-fetch-manager-metrics"))
                .mapToDouble(m -> m.metricValue() instanceof Number n ? n.doubleValue() : Double.NaN)
                .filter(v -> !Double.isNaN(v))
                .mapToLong(v -> (long) v)
                .max()
                .orElse(-1);
    }

    /**
     * How many updates of cells under {@code prefix} (a view's, or a view and group's, as
     * {@link ViewKey#prefix} makes them) have been read. An update is in the store before it is
     * counted here, so an answer computed after reading version v holds at least the updates up to v.
     */
    @Override
    public long version(byte[] prefix) {
        AtomicLong version = versions.get(ByteBuffer.wrap(prefix));
        return version == null ? 0 : version.get();
    }

    /**
     * Every speed cell whose encoded key starts with {@code prefix} and that {@code wanted} takes
     * (values are decoded only for those); needs {@link #running}.
     */
    @Override
    public void scan(
            byte[] prefix,
            ViewDefinition view,
            Predicate<ViewKey> wanted,
            Consumer<Map.Entry<ViewKey, Aggregate>> cells) {
        ReadOnlyKeyValueStore<byte[], byte[]> store = store();
        try (KeyValueIterator<byte[], byte[]> it = store.prefixScan(prefix, new ByteArraySerializer())) {
            while (it.hasNext()) {
                KeyValue<byte[], byte[]> cell = it.next();
                if (cell.value == null) {
                    continue;
                }
                try {
                    ViewKey key = ViewKey.decode(cell.key);
                    if (wanted.test(key)) {
                        cells.accept(Map.entry(key, AggregateCodec.decode(view, cell.value)));
                    }
                } catch (IllegalArgumentException e) {
                    // Not a cell this build can read (another format version, corrupt bytes): left out of
                    // the answer, counted and logged, never a failed query.
                    if (undecodable.incrementAndGet() % 1_000 == 1) {
                        LOG.warn(
                                "Skipped an undecodable speed cell ({} so far): {}", undecodable.get(), e.getMessage());
                    }
                }
            }
        }
    }

    /**
     * The queryable store, looked up once: the handle Kafka Streams returns resolves the current
     * local stores on each call, so it stays valid across rebalances and restores.
     */
    private ReadOnlyKeyValueStore<byte[], byte[]> store() {
        ReadOnlyKeyValueStore<byte[], byte[]> s = store;
        if (s == null) {
            s = streams.store(
                    StoreQueryParameters.fromNameAndType(STORE, QueryableStoreTypes.<byte[], byte[]>keyValueStore()));
            store = s;
        }
        return s;
    }

    @Override
    public void close() {
        // Leave the group now: a restart would otherwise wait out the session timeout. Bounded: when
        // the whole stack stops at once (Ctrl-C reaches every process) the broker may be gone already.
        streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(Duration.ofSeconds(5)));
    }

    /** Notes the timestamp of each update as it passes, and counts it for its view and its group. */
    private static final class NewestUpdate implements FixedKeyProcessor<byte[], byte[], Void> {
        private final AtomicLong newest;
        private final ConcurrentHashMap<ByteBuffer, AtomicLong> versions;

        NewestUpdate(AtomicLong newest, ConcurrentHashMap<ByteBuffer, AtomicLong> versions) {
            this.newest = newest;
            this.versions = versions;
        }

        @Override
        public void init(FixedKeyProcessorContext<byte[], Void> context) {}

        @Override
        public void process(FixedKeyRecord<byte[], byte[]> record) {
            newest.accumulateAndGet(record.timestamp(), Math::max);
            byte[] key = record.key();
            // version(1) view(UTF: 2-byte length, bytes) … windowStart(8) bucket(8): see ViewKey.
            if (key != null && key.length >= 3 + 16 && key[0] == ViewKey.VERSION) {
                int viewEnd = 3 + (((key[1] & 0xff) << 8) | (key[2] & 0xff));
                if (viewEnd <= key.length - 16) {
                    count(ByteBuffer.wrap(key, 0, viewEnd).slice());
                    count(ByteBuffer.wrap(key, 0, key.length - 16).slice());
                }
            }
        }

        private void count(ByteBuffer prefix) {
            AtomicLong version = versions.get(prefix);
            if (version == null) {
                version = versions.computeIfAbsent(ByteBuffer.wrap(toArray(prefix)), p -> new AtomicLong());
            }
            version.incrementAndGet();
        }

        private static byte[] toArray(ByteBuffer b) {
            byte[] copy = new byte[b.remaining()];
            b.duplicate().get(copy);
            return copy;
        }
    }
}
