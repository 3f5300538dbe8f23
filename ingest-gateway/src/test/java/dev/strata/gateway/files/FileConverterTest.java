package dev.strata.gateway.files;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.lake.DatasetTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import dev.strata.lake.TableVersion;
import dev.strata.schemas.lake.ColumnType;
import dev.strata.schemas.lake.DatasetColumn;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The converter on real files into a real lake (Iceberg tables in the embedded catalog), the files of
 * each table's current snapshot read back by DuckDB (an independent reader).
 */
class FileConverterTest {

    static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path lake;

    Lake opened;
    int uploads;

    @BeforeEach
    void open() {
        opened = Lake.open(LakeConfig.local(lake));
    }

    @AfterEach
    void close() throws Exception {
        opened.close();
    }

    /** Originals of this many bytes or more are written into several files at once (one per core). */
    long bytesPerPart = 64L << 20;

    FileConverter converter() {
        return new FileConverter(opened, Clock.fixed(NOW, ZoneOffset.UTC), bytesPerPart);
    }

    DatasetTable table(String dataset) {
        return opened.dataset(dataset).orElseThrow();
    }

    Outcome convert(String dataset, FileFormat format, String content) throws Exception {
        return convert(dataset, format, content.getBytes(StandardCharsets.UTF_8), false);
    }

    Outcome convert(String dataset, FileFormat format, byte[] content, boolean gzip) throws Exception {
        String id = String.format("20261123T120000000Z-%08x", ++uploads);
        Path dir = lake.resolve("raw").resolve(dataset);
        Files.createDirectories(dir);
        Path file = dir.resolve(id + "." + format.extension() + (gzip ? ".gz" : ""));
        try (OutputStream out =
                gzip ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
            out.write(content);
        }
        String sha =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        return converter()
                .convert(new Upload(
                        id,
                        dataset,
                        format,
                        "test",
                        opened.files(),
                        lake.relativize(file).toString(),
                        Files.size(file),
                        sha,
                        NOW.toEpochMilli()));
    }

    List<List<Object>> duckdb(String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
                Statement s = c.createStatement()) {
            s.execute("SET TimeZone = 'UTC'");
            try (ResultSet rs = s.executeQuery(sql)) {
                List<List<Object>> rows = new ArrayList<>();
                while (rs.next()) {
                    List<Object> row = new ArrayList<>();
                    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                        row.add(rs.getObject(i) == null ? null : rs.getString(i));
                    }
                    rows.add(row);
                }
                return rows;
            }
        }
    }

    /** The files of the dataset's current snapshot, as a DuckDB list. */
    String files(String dataset) {
        return "["
                + String.join(
                        ", ",
                        TableVersion.of(dataset, table(dataset).table()).files().stream()
                                .map(f -> "'" + f.location().replaceFirst("^file:", "") + "'")
                                .toList())
                + "]";
    }

    @Test
    void aLargeFileIsWrittenIntoAFilePerCoreAtOnceAndCommittedAsOneSnapshotWithEveryRowOnce() throws Exception {
        bytesPerPart = 1024; // "large" from 1 KiB on
        StringBuilder csv = new StringBuilder("id,amount,note\n");
        for (int i = 1; i <= 20_000; i++) {
            csv.append(i)
                    .append(',')
                    .append(i % 7 == 0 ? "" : Integer.toString(i % 100))
                    .append(",n")
                    .append(i % 13)
                    .append('\n');
            if (i % 5_000 == 0) {
                csv.append("bad,line\n"); // too few fields: rejected, with its line
            }
        }
        Outcome outcome = convert("big", FileFormat.CSV, csv.toString());

        assertThat(outcome.status()).as(outcome.message()).isEqualTo(Outcome.Status.ADDED);
        assertThat(outcome.added().rows()).isEqualTo(20_000);
        assertThat(outcome.added().rejected()).isEqualTo(4);
        assertThat(outcome.added().firstRejects())
                .extracting(Outcome.Reject::line)
                .containsExactly(5_002L, 10_003L, 15_004L, 20_005L);
        int cores = Math.min(Runtime.getRuntime().availableProcessors(), csv.length() / 1024);
        DatasetTable table = table("big");
        assertThat(TableVersion.of("big", table.table()).files())
                .hasSize(cores)
                .extracting(TableVersion.DataFileEntry::location)
                .containsExactlyInAnyOrderElementsOf(outcome.added().files());
        assertThat(table.table().currentSnapshot().summary())
                .containsEntry(DatasetTable.UPLOAD_FILES, Integer.toString(cores));
        assertThat(duckdb("SELECT count(*), count(DISTINCT id), sum(id), sum(amount), count(amount) FROM read_parquet("
                        + files("big") + ")"))
                .containsExactly(Arrays.asList("20000", "20000", "200010000", expectedAmountSum(), "17143"));
    }

    @Test
    void columnsWhoseSampledValuesHardlyRepeatAreWrittenWithoutADictionary() throws Exception {
        // code repeats from the start; note is unique within the sample (its first 1,000 rows),
        // then repeats: a dictionary would pay for it, but the decision is the sample's.
        StringBuilder csv = new StringBuilder("id,code,note\n");
        for (int i = 1; i <= 20_000; i++) {
            csv.append(i)
                    .append(",c")
                    .append(i % 5)
                    .append(",n")
                    .append(i <= FileConverter.SAMPLE_ROWS ? i : i % 3)
                    .append('\n');
        }
        Outcome outcome = convert("encodings", FileFormat.CSV, csv.toString());

        assertThat(outcome.status()).as(outcome.message()).isEqualTo(Outcome.Status.ADDED);
        assertThat(duckdb("SELECT path_in_schema, bool_or(encodings LIKE '%DICTIONARY%') FROM parquet_metadata("
                        + files("encodings") + ") WHERE path_in_schema IN ('id', 'code', 'note')"
                        + " GROUP BY path_in_schema ORDER BY path_in_schema"))
                .containsExactly(List.of("code", "true"), List.of("id", "false"), List.of("note", "false"));
        assertThat(duckdb(
                        "SELECT count(*), count(DISTINCT note), sum(id) FROM read_parquet(" + files("encodings") + ")"))
                .containsExactly(List.of("20000", Integer.toString(FileConverter.SAMPLE_ROWS + 1), "200010000"));
    }

    private static String expectedAmountSum() {
        long sum = 0;
        for (int i = 1; i <= 20_000; i++) {
            sum += i % 7 == 0 ? 0 : i % 100;
        }
        return Long.toString(sum);
    }

    @Test
    void csvBecomesParquetWithInferredTypesAndBadRowsGoToTheRejectsFile() throws Exception {
        Outcome outcome = convert("sales", FileFormat.CSV, """
                id,amount,paid,at,note
                1,10,true,2026-11-23T10:00:00Z,first
                2,12.5,false,2026-11-23 11:30:00,"a, quoted
                note"
                3,,TRUE,2026-11-23T12:00:00+01:00,
                4,7,false,2026-11-23T13:00:00.123456Z,  spaced
                5,8,maybe,2026-11-23T14:00:00Z,bad boolean
                6,9,true,2026-11-23T15:00:00Z
                """);

        assertThat(outcome.status()).as(outcome.message()).isEqualTo(Outcome.Status.ADDED);
        assertThat(outcome.httpStatus()).isEqualTo(201);
        // 'maybe' is in the sample, so 'paid' is a string column; row 6 has too few fields.
        assertThat(outcome.added().columns())
                .containsExactly(
                        new DatasetColumn("id", ColumnType.LONG, true),
                        new DatasetColumn("amount", ColumnType.DOUBLE, true),
                        new DatasetColumn("paid", ColumnType.STRING, true),
                        new DatasetColumn("at", ColumnType.TIMESTAMP, true),
                        new DatasetColumn("note", ColumnType.STRING, true));
        assertThat(outcome.added().rows()).isEqualTo(5);
        assertThat(outcome.added().rejected()).isEqualTo(1);
        assertThat(outcome.added().firstRejects())
                .containsExactly(new Outcome.Reject(8, "expected 5 field(s) as in the header, found 4"));
        assertThat(outcome.added().file())
                .isEqualTo(lake.resolve("strata/sales/data/_ingested_at_day=2026-11-23/part-"
                                + outcome.received().id() + ".parquet")
                        .toString());

        assertThat(duckdb("SELECT id, amount, paid, \"at\"::VARCHAR, note FROM read_parquet(" + files("sales")
                        + ") ORDER BY id"))
                .containsExactly(
                        List.of("1", "10.0", "true", "2026-11-23 10:00:00+00", "first"),
                        List.of("2", "12.5", "false", "2026-11-23 11:30:00+00", "a, quoted\nnote"),
                        Arrays.asList("3", null, "TRUE", "2026-11-23 11:00:00+00", null),
                        List.of("4", "7.0", "false", "2026-11-23 13:00:00.123456+00", "  spaced"),
                        List.of("5", "8.0", "maybe", "2026-11-23 14:00:00+00", "bad boolean"));

        List<String> rejects = Files.readAllLines(lake.resolve(outcome.added().rejects()));
        assertThat(rejects).hasSize(1);
        JsonNode reject = JSON.readTree(rejects.get(0));
        assertThat(reject.get("line").asLong()).isEqualTo(8);
        assertThat(reject.get("fields").toString()).isEqualTo("[\"6\",\"9\",\"true\",\"2026-11-23T15:00:00Z\"]");

        // The upload is the table's one snapshot, which records it.
        assertThat(table("sales").table().snapshots()).singleElement().satisfies(s -> {
            assertThat(s.summary().get(DatasetTable.UPLOAD_ORIGINAL))
                    .isEqualTo(outcome.received().original());
            assertThat(s.summary().get(DatasetTable.UPLOAD_SHA256))
                    .isEqualTo(outcome.received().sha256());
            assertThat(s.summary().get(DatasetTable.UPLOAD_ROWS)).isEqualTo("5");
        });
        assertThat(duckdb("SELECT DISTINCT _upload, _ingested_at::VARCHAR FROM read_parquet(" + files("sales") + ")"))
                .containsExactly(List.of(outcome.received().id(), "2026-11-23 12:00:00+00"));
    }

    @Test
    void rowsAfterTheSampleThatDoNotFitAreRejectedWithTheirLineAndReason() throws Exception {
        StringBuilder csv = new StringBuilder("n,label\n");
        for (int i = 1; i <= 1500; i++) {
            csv.append(i == 1200 ? "twelve hundred" : Integer.toString(i))
                    .append(",row ")
                    .append(i)
                    .append('\n');
        }
        Outcome outcome = convert("numbers", FileFormat.CSV, csv.toString());

        assertThat(outcome.added().columns().get(0)).isEqualTo(new DatasetColumn("n", ColumnType.LONG, true));
        assertThat(outcome.added().rows()).isEqualTo(1499);
        assertThat(outcome.added().firstRejects())
                .containsExactly(new Outcome.Reject(1201, "column 'n': 'twelve hundred' is not a long"));
        assertThat(duckdb("SELECT count(*), sum(n) FROM read_parquet(" + files("numbers") + ")"))
                .containsExactly(List.of("1499", Long.toString(1500L * 1501 / 2 - 1200)));
    }

    @Test
    void aRejectsFileKeepsAtMostItsBoundOfRowsAndCountsTheRest() throws Exception {
        StringBuilder csv = new StringBuilder("n\n");
        for (int i = 1; i <= 2000; i++) {
            csv.append(i).append('\n');
        }
        for (int i = 0; i < FileConverter.MAX_REJECTS_KEPT + 5; i++) {
            csv.append("x").append(i).append('\n');
        }
        Outcome outcome = convert("bounded", FileFormat.CSV, csv.toString());

        assertThat(outcome.added().rows()).isEqualTo(2000);
        assertThat(outcome.added().rejected()).isEqualTo(FileConverter.MAX_REJECTS_KEPT + 5L);
        List<String> rejects = Files.readAllLines(lake.resolve(outcome.added().rejects()));
        assertThat(rejects).hasSize(FileConverter.MAX_REJECTS_KEPT + 1);
        assertThat(rejects.get(rejects.size() - 1)).isEqualTo("{\"omitted\":5}");
    }

    @Test
    void ndjsonKeepsJsonTypesAndRejectsLinesThatAreNotObjects() throws Exception {
        Outcome outcome = convert("readings", FileFormat.NDJSON, """
                {"device":"d1","value":1,"ok":true,"at":"2026-11-23T10:00:00Z","tags":{"a":1}}
                {"device":"d2","value":2.5,"ok":false,"at":"2026-11-23T10:01:00Z"}

                [1,2]
                {"device":"d3","value":3.5,"ok":"yes"}
                {"device":"d4","value":3, "extra" : null}
                {"device": oops}
                """);

        assertThat(outcome.status()).as(outcome.message()).isEqualTo(Outcome.Status.ADDED);
        assertThat(outcome.added().columns())
                .extracting(DatasetColumn::name, DatasetColumn::type)
                .containsExactly(
                        Tuple.tuple("device", ColumnType.STRING), Tuple.tuple("value", ColumnType.DOUBLE),
                        Tuple.tuple("ok", ColumnType.STRING), Tuple.tuple("at", ColumnType.TIMESTAMP),
                        Tuple.tuple("tags", ColumnType.STRING), Tuple.tuple("extra", ColumnType.STRING));
        assertThat(outcome.added().firstRejects())
                .extracting(Outcome.Reject::line)
                .containsExactly(4L, 7L);
        assertThat(outcome.added().firstRejects().get(0).reason()).isEqualTo("not a JSON object but array");
        assertThat(outcome.added().firstRejects().get(1).reason()).startsWith("malformed JSON: ");
        assertThat(duckdb(
                        "SELECT device, value, ok, tags FROM read_parquet(" + files("readings") + ") ORDER BY device"))
                .containsExactly(
                        List.of("d1", "1.0", "true", "{\"a\":1}"), Arrays.asList("d2", "2.5", "false", null),
                        Arrays.asList("d3", "3.5", "yes", null), Arrays.asList("d4", "3.0", null, null));
    }

    @Test
    void aLaterFileExtendsTheSchemaOrIsRefusedNamingTheColumnAndBothTypes() throws Exception {
        Outcome first = convert("orders", FileFormat.CSV, "id,qty\n1,2\n2,3\n");
        assertThat(first.status()).isEqualTo(Outcome.Status.ADDED);
        assertThat(first.added().schemaVersion()).isZero();
        assertThat(first.added().newSchemaVersion()).isTrue();

        // Same types, a column left out, a column added: a new schema (Iceberg's schema evolution).
        Outcome added = convert("orders", FileFormat.CSV, "ID,customer\n3,ann\n");
        assertThat(added.added().schemaVersion()).isEqualTo(1);
        assertThat(added.added().newSchemaVersion()).isTrue();
        assertThat(added.added().columns()).extracting(DatasetColumn::name).containsExactly("id", "qty", "customer");

        // A double where the dataset has longs: Iceberg cannot widen a long column; refused, nothing added.
        Outcome widened = convert("orders", FileFormat.CSV, "id,qty\n4,1.5\n");
        assertThat(widened.status()).isEqualTo(Outcome.Status.REFUSED);
        assertThat(widened.httpStatus()).isEqualTo(409);
        assertThat(widened.message())
                .isEqualTo("column 'qty' is a long in dataset 'orders' (schema 1) but a double in this file"
                        + " (line 2: '1.5') (the lake's tables cannot widen a long column to double); nothing was"
                        + " added");
        // Anything fits a string column.
        Outcome fits = convert("orders", FileFormat.CSV, "id,qty,customer\n5,7,42\n");
        assertThat(fits.added().schemaVersion()).isEqualTo(1);
        assertThat(fits.added().newSchemaVersion()).isFalse();

        // A string where the dataset has longs: refused, nothing added.
        Outcome refused = convert("orders", FileFormat.CSV, "id,qty\n6,2\nseven,3\n");
        assertThat(refused.status()).isEqualTo(Outcome.Status.REFUSED);
        assertThat(refused.httpStatus()).isEqualTo(409);
        assertThat(refused.message())
                .isEqualTo("column 'id' is a long in dataset 'orders' (schema 1) but a string in this file"
                        + " (line 3: 'seven'); nothing was added");
        // A column the lake sets itself.
        assertThat(convert("orders", FileFormat.CSV, "id,_upload\n8,x\n").message())
                .startsWith("column '_upload' is a name the lake sets itself");

        DatasetTable orders = table("orders");
        assertThat(orders.table().snapshots()).hasSize(3);
        assertThat(orders.table().schemas().keySet()).containsExactlyInAnyOrder(0, 1);
        // Every file, whatever its schema, read as one table.
        assertThat(duckdb("SELECT id, qty, customer FROM read_parquet(" + files("orders")
                        + ", union_by_name = true) ORDER BY id"))
                .containsExactly(
                        Arrays.asList("1", "2", null),
                        Arrays.asList("2", "3", null),
                        Arrays.asList("3", null, "ann"),
                        List.of("5", "7", "42"));

        // A long where the dataset has doubles fits (as a double).
        convert("prices", FileFormat.CSV, "p\n1.5\n");
        Outcome whole = convert("prices", FileFormat.CSV, "p\n2\n");
        assertThat(whole.status()).isEqualTo(Outcome.Status.ADDED);
        assertThat(whole.added().newSchemaVersion()).isFalse();
        assertThat(duckdb("SELECT p FROM read_parquet(" + files("prices") + ") ORDER BY p"))
                .containsExactly(List.of("1.5"), List.of("2.0"));
    }

    @Test
    void theSameBytesTwiceAddNothingTheSecondTime() throws Exception {
        String csv = "a\n1\n";
        Outcome first = convert("twice", FileFormat.CSV, csv);
        Outcome second = convert("twice", FileFormat.CSV, csv);
        assertThat(second.status()).isEqualTo(Outcome.Status.DUPLICATE);
        assertThat(second.httpStatus()).isEqualTo(200);
        assertThat(second.duplicateOf()).isEqualTo(first.added().file());
        assertThat(duckdb("SELECT count(*) FROM read_parquet(" + files("twice") + ")"))
                .containsExactly(List.of("1"));
    }

    @Test
    void filesThatCannotBeReadAsAWholeAreRefusedWithTheReason() throws Exception {
        assertThat(convert("bad", FileFormat.CSV, "").message()).startsWith("the file is empty");
        assertThat(convert("bad", FileFormat.CSV, "a,b\n").message())
                .isEqualTo("the file has no rows; nothing was added");
        assertThat(convert("bad", FileFormat.CSV, "a,A\n1,2\n").message())
                .isEqualTo("the header names column 'a' twice (fields 1 and 2); nothing was added");
        assertThat(convert("bad", FileFormat.CSV, "a,,c\n1,2,3\n").message()).startsWith("header field 2 is empty");
        Outcome unterminated = convert("bad", FileFormat.CSV, "a,b\n1,2\n3,\"open\n4,5\n");
        assertThat(unterminated.httpStatus()).isEqualTo(422);
        assertThat(unterminated.message()).contains("malformed CSV");
        StringBuilder wide = new StringBuilder();
        for (int i = 0; i < 100_000; i++) {
            wide.append(i == 0 ? "" : ",").append('c').append(i);
        }
        Outcome tooWide = convert("bad", FileFormat.CSV, wide + "\n" + "1,".repeat(99_999) + "1\n");
        assertThat(tooWide.httpStatus()).isEqualTo(422);
        assertThat(tooWide.message())
                .isEqualTo("the header names 100000 columns, more than the 1000 a dataset may have; nothing was added");
        StringBuilder spread = new StringBuilder();
        for (int row = 0; row < 2; row++) { // 600 + 401 distinct keys
            spread.append('{');
            for (int k = 0; k < (row == 0 ? 600 : 401); k++) {
                spread.append(k == 0 ? "" : ",")
                        .append("\"r")
                        .append(row)
                        .append('k')
                        .append(k)
                        .append("\":1");
            }
            spread.append("}\n");
        }
        assertThat(convert("bad", FileFormat.NDJSON, spread.toString()).message())
                .isEqualTo(
                        "the rows name more than 1000 distinct columns, the most a dataset may have; nothing was added");
        Outcome nothingFits = convert("bad", FileFormat.NDJSON, "[1]\n\"x\"\n");
        assertThat(nothingFits.httpStatus()).isEqualTo(422);
        assertThat(nothingFits.message())
                .startsWith("no row of the file fits: 2 rejected (first: line 1: not a JSON object but array");
        assertThat(opened.dataset("bad").map(t -> t.table().currentSnapshot()))
                .as("nothing committed")
                .satisfiesAnyOf(
                        t -> assertThat(t).isEmpty(), t -> assertThat(t.get()).isNull());
    }

    @Test
    void gzippedFilesAreReadAsTheirContent() throws Exception {
        Outcome outcome = convert("zipped", FileFormat.CSV, "x,y\n1,a\n2,b\n".getBytes(StandardCharsets.UTF_8), true);
        assertThat(outcome.added().rows()).isEqualTo(2);
        assertThat(duckdb("SELECT sum(x) FROM read_parquet(" + files("zipped") + ")"))
                .containsExactly(List.of("3"));
    }
}
