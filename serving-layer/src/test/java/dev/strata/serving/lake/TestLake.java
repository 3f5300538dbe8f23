package dev.strata.serving.lake;

import dev.strata.schemas.lake.DatasetManifest;
import dev.strata.schemas.lake.DatasetManifest.ColumnType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;

/**
 * A small lake for tests, its Parquet written by DuckDB: 150 committed events in two runs (and a
 * crashed run's file no commit names), and a dataset {@code sensors} of 10 rows.
 */
public final class TestLake {

    private TestLake() {}

    /** Writes the lake under {@code root}; returns the lake's directory. */
    public static Path write(Path root) throws Exception {
        Path lake = root.resolve("lake");
        Path hour = lake.resolve("events/date=2026-11-23/hour=10");
        Files.createDirectories(hour);
        Files.createDirectories(lake.resolve("_manifest"));
        Path sensors = lake.resolve("sensors");
        Files.createDirectories(sensors);
        try (Connection db = DriverManager.getConnection("jdbc:duckdb:");
                Statement s = db.createStatement()) {
            s.execute(
                    "COPY (SELECT 'e' || i AS event_id, 'dev-' || (i % 3) AS source, 'temperature' AS type, i * 1.5 AS value"
                            + " FROM range(100) t(i)) TO '" + hour.resolve("run-00000001-a-0.parquet")
                            + "' (FORMAT parquet)");
            s.execute("COPY (SELECT 'e' || i AS event_id, 'dev-9' AS source, 'humidity' AS type, 1.0 AS value"
                    + " FROM range(100, 150) t(i)) TO '" + hour.resolve("run-00000002-b-0.parquet")
                    + "' (FORMAT parquet)");
            // A file no commit names (a crashed run's leftover): never read.
            s.execute("COPY (SELECT 'x' AS event_id, 'ghost' AS source, 't' AS type, 0.0 AS value) TO '"
                    + hour.resolve("run-00000003-c-0.parquet") + "' (FORMAT parquet)");
            s.execute("COPY (SELECT i AS id, i % 2 = 0 AS even FROM range(10) t(i)) TO '"
                    + sensors.resolve("part-1.parquet") + "' (FORMAT parquet)");
        }
        Files.writeString(
                lake.resolve("_manifest/run-00000001.commit.json"),
                "{\"version\":1,\"run\":1,\"cutMillis\":1795464000000,"
                        + "\"ranges\":[],\"files\":[\"date=2026-11-23/hour=10/run-00000001-a-0.parquet\"],\"rows\":100,\"skipped\":0}");
        Files.writeString(
                lake.resolve("_manifest/run-00000002.commit.json"),
                "{\"version\":1,\"run\":2,\"cutMillis\":1795464600000,"
                        + "\"ranges\":[],\"files\":[\"date=2026-11-23/hour=10/run-00000002-b-0.parquet\"],\"rows\":50,\"skipped\":0}");
        DatasetManifest.empty("sensors")
                .with(
                        Optional.of(new DatasetManifest.SchemaVersion(
                                1,
                                List.of(
                                        new DatasetManifest.Column("id", ColumnType.LONG, false),
                                        new DatasetManifest.Column("even", ColumnType.BOOLEAN, false)),
                                1L)),
                        new DatasetManifest.DataFile(
                                "part-1.parquet",
                                1,
                                10,
                                0,
                                Files.size(sensors.resolve("part-1.parquet")),
                                "raw/sensors/a.csv",
                                null,
                                1L,
                                "0".repeat(64)))
                .write(sensors);
        return lake;
    }
}
