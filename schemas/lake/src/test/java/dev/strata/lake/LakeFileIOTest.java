package dev.strata.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.io.PositionOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LakeFileIOTest {

    @TempDir
    Path dir;

    private LakeFileIO io() {
        LakeFileIO io = new LakeFileIO();
        io.setConf(new Configuration());
        io.initialize(Map.of());
        return io;
    }

    /** A local file is written by the JDK: no Hadoop checksum beside it, the location kept as asked. */
    @Test
    void writesAndReadsALocalFileUnderTheLocationItWasAskedFor() throws Exception {
        try (LakeFileIO io = io()) {
            String location = "file:" + dir.resolve("a/b/data.parquet");
            OutputFile out = io.newOutputFile(location);
            try (PositionOutputStream stream = out.create()) {
                stream.write("hello ".getBytes(StandardCharsets.UTF_8));
                stream.write('w');
                assertThat(stream.getPos()).isEqualTo(7);
                stream.write("orld".getBytes(StandardCharsets.UTF_8), 0, 4);
                assertThat(stream.getPos()).isEqualTo(11);
            }
            assertThat(out.location()).isEqualTo(location);
            InputFile in = io.newInputFile(location);
            assertThat(in.location()).isEqualTo(location);
            assertThat(in.exists()).isTrue();
            assertThat(in.getLength()).isEqualTo(11);
            try (InputStream stream = in.newStream()) {
                assertThat(new String(stream.readAllBytes(), StandardCharsets.UTF_8))
                        .isEqualTo("hello world");
            }
            try (var files = Files.list(dir.resolve("a/b"))) {
                assertThat(files.map(f -> f.getFileName().toString())).containsExactly("data.parquet");
            }
            assertThatThrownBy(() -> io.newOutputFile(location).create())
                    .as("create is create-new")
                    .isInstanceOf(AlreadyExistsException.class);
            try (PositionOutputStream stream = io.newOutputFile(location).createOrOverwrite()) {
                stream.write('x');
            }
            assertThat(io.newInputFile(dir.resolve("a/b/data.parquet").toString())
                            .getLength())
                    .as("a bare path is local too")
                    .isEqualTo(1);
        }
    }

    /** Deleting a file also deletes the checksum Hadoop's file system wrote beside files of earlier builds. */
    @Test
    void deletesAFileAndTheChecksumAnEarlierBuildWroteBesideIt() throws Exception {
        Path file = Files.writeString(dir.resolve("old.parquet"), "data");
        Path crc = Files.writeString(dir.resolve(".old.parquet.crc"), "sum");
        try (LakeFileIO io = io()) {
            io.deleteFile("file:" + file);
            assertThat(file).doesNotExist();
            assertThat(crc).doesNotExist();
            io.deleteFile("file:" + file); // already gone: nothing to do
            assertThat(io.newInputFile("file:" + file).exists()).isFalse();
        }
    }

    @Test
    void onlyLocalLocationsAreServedByTheJdk() {
        assertThat(LakeFileIO.local("file:/tmp/x")).contains(Path.of("/tmp/x"));
        assertThat(LakeFileIO.local("file:///tmp/x")).contains(Path.of("/tmp/x"));
        assertThat(LakeFileIO.local("/tmp/x")).contains(Path.of("/tmp/x"));
        assertThat(LakeFileIO.local("s3://bucket/x")).isEmpty();
        assertThat(LakeFileIO.local("hdfs://nn/x")).isEmpty();
    }
}
