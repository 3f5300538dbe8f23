package dev.strata.batch.lake;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalOutputFile;

/**
 * Writes one run's rows into the events dataset, one ZSTD Parquet file per Hive partition
 * ({@code date=…/hour=…}, by event time). Files are written as {@code run-<run>-<n>.parquet.inprogress},
 * which no {@code *.parquet} glob sees, and renamed to {@code .parquet} only after the run's commit
 * entry exists ({@link #publish}), so a reader of the plain files sees committed runs only.
 */
public final class ArchiveWriter implements AutoCloseable {

    public static final String IN_PROGRESS = ".inprogress";

    private final Path eventsDir;
    private final long run;
    private final Map<String, ParquetWriter<GenericRecord>> writers = new LinkedHashMap<>();
    private final Map<String, String> files = new LinkedHashMap<>();
    private long rows;

    public ArchiveWriter(Path eventsDir, long run) {
        this.eventsDir = eventsDir;
        this.run = run;
    }

    public void add(GenericRecord row) throws IOException {
        String partition = LakeSchema.partitionOf(LakeSchema.millis(row.get("time")));
        ParquetWriter<GenericRecord> writer = writers.get(partition);
        if (writer == null) {
            String file = partition + "/" + String.format("run-%08d-%04d.parquet", run, writers.size());
            Path path = eventsDir.resolve(file + IN_PROGRESS);
            Files.createDirectories(path.getParent());
            writer = AvroParquetWriter.<GenericRecord>builder(new LocalOutputFile(path))
                    .withSchema(LakeSchema.ROW)
                    .withCompressionCodec(CompressionCodecName.ZSTD)
                    .build();
            writers.put(partition, writer);
            files.put(partition, file);
        }
        writer.write(row);
        rows++;
    }

    /** Closes every file; returns their final names, relative to the events dataset. */
    public List<String> finish() throws IOException {
        for (ParquetWriter<GenericRecord> w : writers.values()) {
            w.close();
        }
        writers.clear();
        return new ArrayList<>(files.values());
    }

    public long rows() {
        return rows;
    }

    /** Renames a committed run's files into view; idempotent, so recovery can finish the job. */
    public static void publish(Path eventsDir, List<String> files) throws IOException {
        for (String file : files) {
            Path pending = eventsDir.resolve(file + IN_PROGRESS);
            if (Files.exists(pending)) {
                Files.move(pending, eventsDir.resolve(file), StandardCopyOption.ATOMIC_MOVE);
            }
        }
    }

    /** Deletes every file of {@code run}, published or not (recovery of an uncommitted run). */
    public static int deleteRun(Path eventsDir, long run) throws IOException {
        if (!Files.exists(eventsDir)) {
            return 0;
        }
        String prefix = String.format("run-%08d-", run);
        int deleted = 0;
        try (Stream<Path> all = Files.walk(eventsDir)) {
            for (Path p : all.filter(f -> f.getFileName().toString().startsWith(prefix)).toList()) {
                Files.delete(p);
                deleted++;
            }
        }
        return deleted;
    }

    @Override
    public void close() throws IOException {
        finish();
    }
}
