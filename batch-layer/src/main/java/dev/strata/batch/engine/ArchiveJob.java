package dev.strata.batch.engine;

import dev.strata.lake.ArchivePlan;
import dev.strata.lake.EventFileWriter;
import dev.strata.schemas.Event;
import dev.strata.schemas.kafka.KafkaClients;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventDeserializer;
import dev.strata.schemas.wire.SchemaRegistryUnavailableException;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.Collector;
import org.apache.iceberg.DataFile;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The archive of one run as a Flink batch job: a bounded {@link KafkaSource} over exactly the
 * plan's offset ranges → decode (undecodable records skipped and counted) → data files of the lake's
 * {@code events} table written where the rows are ({@link EventFileWriter}: Iceberg's Parquet writer,
 * one file per event-time hour and subtask). Each subtask hands back the files it wrote and its
 * counts ({@link HandBack}); the caller commits them as the run (uncommitted files are never read).
 */
public final class ArchiveJob {

    private static final Logger LOG = LoggerFactory.getLogger(ArchiveJob.class);

    /** The files written and the rows written and records skipped as undecodable. */
    public record Result(List<DataFile> files, long rows, long skipped) {}

    private ArchiveJob() {}

    public static Result run(
            Engine engine,
            String bootstrapServers,
            String registryUrl,
            String topic,
            ArchivePlan plan,
            EventFileWriter.Factory writers)
            throws Exception {
        Map<TopicPartition, Long> from = new HashMap<>();
        Map<TopicPartition, Long> until = new HashMap<>();
        plan.from().forEach((partition, start) -> {
            long end = plan.until().getOrDefault(partition, start);
            if (end > start) {
                from.put(new TopicPartition(topic, partition), start);
                until.put(new TopicPartition(topic, partition), end);
            }
        });
        if (from.isEmpty()) {
            return new Result(List.of(), 0, 0);
        }
        KafkaSource<KafkaRecord> source = KafkaSource.<KafkaRecord>builder()
                .setBootstrapServers(bootstrapServers)
                .setProperties(KafkaClients.properties())
                .setPartitions(new HashSet<>(from.keySet()))
                .setStartingOffsets(OffsetsInitializer.offsets(from))
                .setBounded(OffsetsInitializer.offsets(until))
                .setDeserializer(new RawRecords())
                .setClientIdPrefix("strata-archive-run-" + plan.run())
                .setProperty("isolation.level", "read_committed")
                // Bigger polls: the archive reads a whole range as fast as the broker serves it.
                .setProperty("max.poll.records", "10000")
                .setProperty("fetch.min.bytes", "1048576")
                .setProperty("fetch.max.wait.ms", "100")
                .setProperty("max.partition.fetch.bytes", "8388608")
                .build();
        HandBack handBack = new HandBack(writers.table(), writers.attempt());
        List<Written> handed = handBack.run(
                engine.environment()
                        .fromSource(source, WatermarkStrategy.noWatermarks(), "events offsets")
                        .name("events offsets")
                        .transform(
                                "write lake files",
                                TypeInformation.of(Void.class),
                                new WriteLakeFiles(registryUrl, topic, writers, handBack)),
                "strata archive run " + plan.run());
        List<DataFile> files = new ArrayList<>();
        long rows = 0;
        long skipped = 0;
        for (Written w : handed) {
            files.addAll(w.files());
            rows += w.rows();
            skipped += w.skipped();
        }
        LOG.info("Archive job of run {}: {} rows in {} file(s), {} skipped", plan.run(), rows, files.size(), skipped);
        return new Result(files, rows, skipped);
    }

    /** What one subtask wrote: its files and counts (Java-serialized: Iceberg's files are Serializable). */
    record Written(List<DataFile> files, long rows, long skipped) implements Serializable {}

    /** A record of {@code events} as it is in Kafka. */
    public static final class KafkaRecord {
        public int partition;
        public long offset;
        public long timestamp;
        public byte[] value;

        public KafkaRecord() {}
    }

    static final class RawRecords implements KafkaRecordDeserializationSchema<KafkaRecord> {
        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<KafkaRecord> out) {
            KafkaRecord r = new KafkaRecord();
            r.partition = record.partition();
            r.offset = record.offset();
            r.timestamp = record.timestamp();
            r.value = record.value();
            out.collect(r);
        }

        @Override
        public TypeInformation<KafkaRecord> getProducedType() {
            return TypeInformation.of(KafkaRecord.class);
        }
    }

    /**
     * Decodes each record and writes it as a row of the run (an undecodable one is counted and left
     * out); at the end of its input closes its files and hands them back with its counts.
     */
    static final class WriteLakeFiles extends AbstractStreamOperator<Void>
            implements OneInputStreamOperator<KafkaRecord, Void>, BoundedOneInput {
        private final String registryUrl;
        private final String topic;
        private final EventFileWriter.Factory writers;
        private final HandBack handBack;
        private transient HandBack.Task task;
        private transient EventDeserializer deserializer;
        private transient EventFileWriter writer;
        private transient long rows;
        private transient long skipped;

        WriteLakeFiles(String registryUrl, String topic, EventFileWriter.Factory writers, HandBack handBack) {
            this.registryUrl = registryUrl;
            this.topic = topic;
            this.writers = writers;
            this.handBack = handBack;
        }

        @Override
        public void open() throws Exception {
            super.open();
            deserializer = new EventDeserializer();
            deserializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registryUrl), false);
            writer = writers.open(getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
            task = handBack.task(getRuntimeContext());
        }

        @Override
        public void processElement(StreamRecord<KafkaRecord> element) throws IOException {
            KafkaRecord record = element.getValue();
            Event event;
            try {
                event = deserializer.deserialize(topic, record.value);
            } catch (SchemaRegistryUnavailableException e) {
                // Not bad data: skipping it would lose an acknowledged event below the cut. The
                // archive fails, the cycle fails, and the next cycle archives the same range again.
                throw new IOException("record " + record.partition + "@" + record.offset + ": " + e.getMessage(), e);
            } catch (RuntimeException e) {
                skipped++;
                return;
            }
            writer.write(event, record.partition, record.offset, record.timestamp);
            if (++rows == 500) {
                CrashPoints.reached("mid-write"); // some files are open, none finished
            }
        }

        @Override
        public void endInput() throws IOException {
            task.give(new Written(writer.finish(), rows, skipped));
        }

        @Override
        public void close() throws Exception {
            if (deserializer != null) {
                deserializer.close();
            }
            super.close();
        }
    }
}
