package dev.strata.batch.engine;

import dev.strata.batch.lake.LakeSchema;
import dev.strata.batch.lake.Manifest.Intent;
import dev.strata.batch.lake.Manifest.OffsetRange;
import dev.strata.schemas.Event;
import dev.strata.schemas.wire.AvroSerdeConfig;
import dev.strata.schemas.wire.EventDeserializer;
import dev.strata.schemas.wire.SchemaRegistryUnavailableException;
import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.formats.avro.typeutils.GenericRecordAvroTypeInfo;
import org.apache.flink.formats.parquet.ParquetWriterFactory;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.BucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.SimpleVersionedStringSerializer;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The archive of one run as a Flink batch job: a bounded {@link KafkaSource} over exactly the
 * intent's offset ranges → decode (undecodable records skipped and counted) → {@link FileSink} of
 * ZSTD Parquet files, one bucket per Hive partition ({@code date=…/hour=…} by event time), named
 * {@code run-<run>-…parquet}, into the run's staging directory. The caller commits the run and
 * then moves the files into the dataset.
 */
public final class ArchiveJob {

    private static final Logger LOG = LoggerFactory.getLogger(ArchiveJob.class);

    static final String ROWS = "rows";
    static final String SKIPPED = "skipped";

    /** Rows written and records skipped as undecodable. */
    public record Result(long rows, long skipped) {}

    private ArchiveJob() {}

    public static Result run(
            Engine engine, String bootstrapServers, String registryUrl, String topic, Intent intent, Path staging)
            throws Exception {
        Map<TopicPartition, Long> from = new HashMap<>();
        Map<TopicPartition, Long> until = new HashMap<>();
        for (OffsetRange r : intent.ranges()) {
            if (r.until() > r.from()) {
                from.put(new TopicPartition(topic, r.partition()), r.from());
                until.put(new TopicPartition(topic, r.partition()), r.until());
            }
        }
        if (from.isEmpty()) {
            return new Result(0, 0);
        }
        KafkaSource<KafkaRecord> source = KafkaSource.<KafkaRecord>builder()
                .setBootstrapServers(bootstrapServers)
                .setPartitions(new HashSet<>(from.keySet()))
                .setStartingOffsets(OffsetsInitializer.offsets(from))
                .setBounded(OffsetsInitializer.offsets(until))
                .setDeserializer(new RawRecords())
                .setClientIdPrefix("strata-archive-run-" + intent.run())
                .setProperty("isolation.level", "read_committed")
                // Bigger polls: the archive reads a whole range as fast as the broker serves it.
                .setProperty("max.poll.records", "10000")
                .setProperty("fetch.min.bytes", "1048576")
                .setProperty("fetch.max.wait.ms", "100")
                .setProperty("max.partition.fetch.bytes", "8388608")
                .build();
        FileSink<GenericRecord> sink = FileSink.forBulkFormat(
                        staging,
                        new ParquetWriterFactory<GenericRecord>(out -> AvroParquetWriter.<GenericRecord>builder(out)
                                .withSchema(LakeSchema.ROW)
                                .withDataModel(GenericData.get())
                                .withCompressionCodec(CompressionCodecName.ZSTD)
                                .build()))
                .withBucketAssigner(new HivePartitions())
                .withOutputFileConfig(OutputFileConfig.builder()
                        .withPartPrefix(String.format("run-%08d", intent.run()))
                        .withPartSuffix(".parquet")
                        .build())
                .build();

        StreamExecutionEnvironment env = engine.environment();
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "events offsets")
                .name("events offsets")
                .flatMap(new ToLakeRow(registryUrl, topic, intent.run()))
                .returns(new GenericRecordAvroTypeInfo(LakeSchema.ROW))
                .name("decode")
                .sinkTo(sink)
                .name("lake files");
        JobExecutionResult result = env.execute("strata archive run " + intent.run());
        LOG.info("Archive job of run {} ran {} ms", intent.run(), result.getNetRuntime());
        return new Result(counter(result, ROWS), counter(result, SKIPPED));
    }

    private static long counter(JobExecutionResult result, String name) {
        Object value = result.getAccumulatorResult(name);
        return value == null ? 0 : (Long) value;
    }

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

    /** Decodes a record into a lake row; an undecodable one is counted and left out. */
    static final class ToLakeRow extends RichFlatMapFunction<KafkaRecord, GenericRecord> {
        private final String registryUrl;
        private final String topic;
        private final long run;
        private transient EventDeserializer deserializer;
        private transient LongCounter rows;
        private transient LongCounter skipped;

        ToLakeRow(String registryUrl, String topic, long run) {
            this.registryUrl = registryUrl;
            this.topic = topic;
            this.run = run;
        }

        @Override
        public void open(OpenContext context) {
            deserializer = new EventDeserializer();
            deserializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registryUrl), false);
            rows = new LongCounter();
            skipped = new LongCounter();
            getRuntimeContext().addAccumulator(ROWS, rows);
            getRuntimeContext().addAccumulator(SKIPPED, skipped);
        }

        @Override
        public void flatMap(KafkaRecord record, Collector<GenericRecord> out) throws IOException {
            Event event;
            try {
                event = deserializer.deserialize(topic, record.value);
            } catch (SchemaRegistryUnavailableException e) {
                // Not bad data: skipping it would lose an acknowledged event below the cut. The
                // archive fails, the cycle fails, and the next cycle archives the same range again.
                throw new IOException("record " + record.partition + "@" + record.offset + ": " + e.getMessage(), e);
            } catch (RuntimeException e) {
                skipped.add(1);
                return;
            }
            out.collect(LakeSchema.row(event, record.partition, record.offset, record.timestamp, run));
            rows.add(1);
            if (rows.getLocalValuePrimitive() == 500) {
                CrashPoints.reached("mid-write"); // some files are open, none finished
            }
        }

        @Override
        public void close() {
            if (deserializer != null) {
                deserializer.close();
            }
        }
    }

    /** {@code date=YYYY-MM-DD/hour=HH} of the event time. */
    static final class HivePartitions implements BucketAssigner<GenericRecord, String> {
        @Override
        public String getBucketId(GenericRecord row, Context context) {
            return LakeSchema.partitionOf(LakeSchema.millis(row.get("time")));
        }

        @Override
        public SimpleVersionedSerializer<String> getSerializer() {
            return SimpleVersionedStringSerializer.INSTANCE;
        }
    }
}
