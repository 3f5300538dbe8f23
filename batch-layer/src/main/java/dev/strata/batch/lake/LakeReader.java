package dev.strata.batch.lake;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.apache.avro.generic.GenericRecord;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.io.LocalInputFile;

/** Reads rows of the events dataset back, run by run (only published, committed files). */
public final class LakeReader {

    private LakeReader() {}

    /** Every row of the given files (relative to the events dataset), in file order. */
    public static void forEachRow(Path eventsDir, Iterable<String> files, Consumer<GenericRecord> action) throws IOException {
        for (String file : files) {
            Path path = eventsDir.resolve(file);
            if (!Files.exists(path)) {
                throw new IOException("lake file " + path + " listed in the manifest is missing");
            }
            try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(new LocalInputFile(path)).build()) {
                GenericRecord row;
                while ((row = reader.read()) != null) {
                    action.accept(row);
                }
            }
        }
    }

}
