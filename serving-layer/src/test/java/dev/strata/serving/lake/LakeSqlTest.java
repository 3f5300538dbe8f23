package dev.strata.serving.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.lake.Lake;
import dev.strata.lake.LakeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SQL over a real lake (an Iceberg events table, a crashed run's file, a dataset manifest): the tables, the
 * row limit, the timeout, and the ways out of the lake that must be refused.
 */
class LakeSqlTest {

    @TempDir
    static Path root;

    static Path lake;
    static Path secret;
    static Lake opened;
    static LakeSql sql;

    /** One lake for every test: each either only reads it or must fail to write anything into it. */
    @BeforeAll
    static void lake() throws Exception {
        lake = TestLake.write(root);
        secret = root.resolve("lake-secrets/passwords.csv"); // beside the lake, its name starting like the lake's
        Files.createDirectories(secret.getParent());
        Files.writeString(secret, "user,password\nroot,hunter2\n");
        opened = Lake.open(LakeConfig.local(lake));
        sql = new LakeSql(new LakeTables(opened), 20, Duration.ofSeconds(2), "256MB");
    }

    @AfterAll
    static void close() throws Exception {
        opened.close();
    }

    @Test
    void theCommittedEventsAndTheDatasetsAreTables() throws Exception {
        LakeSql.Result events = sql.query(
                "SELECT count(*) AS n, count(DISTINCT source) AS sources, min(time)::DATE AS d, max(run) AS h FROM events",
                0);
        assertThat(events.columns()).containsExactly("n", "sources", "d", "h");
        assertThat(events.rows()).hasSize(1);
        assertThat(events.rows().get(0).get(0)).isEqualTo(150L); // not the uncommitted file's row
        assertThat(events.rows().get(0).get(1)).isEqualTo(4L);
        assertThat(events.rows().get(0).get(2).toString()).isEqualTo("2026-11-23");
        assertThat(events.rows().get(0).get(3)).isEqualTo(2L); // the crashed third run's file is not read

        LakeSql.Result joined =
                sql.query("WITH evens AS (SELECT id FROM sensors WHERE even) SELECT count(*) FROM evens;", 0);
        assertThat(joined.rows().get(0).get(0)).isEqualTo(5L);
    }

    @Test
    void answersStopAtTheRowLimitAndSaySo() throws Exception {
        LakeSql.Result capped = sql.query("SELECT * FROM events ORDER BY id", 0);
        assertThat(capped.rows()).hasSize(20);
        assertThat(capped.truncated()).isTrue();
        LakeSql.Result asked = sql.query("SELECT * FROM events", 5);
        assertThat(asked.rows()).hasSize(5);
        LakeSql.Result whole = sql.query("SELECT * FROM sensors", 0);
        assertThat(whole.rows()).hasSize(10);
        assertThat(whole.truncated()).isFalse();
    }

    @Test
    void aQueryRunningPastTheTimeoutIsStopped() {
        assertThatThrownBy(() -> sql.query("SELECT count(*) FROM range(1000000000000) a", 0))
                .isInstanceOf(LakeSql.TimedOut.class)
                .hasMessageContaining("longer than --sql-timeout (2000 ms");
    }

    /** The findings about resources, each with its exact answer; the same LakeSql answers a normal query after each. */
    @Test
    void anAnswerPastItsByteBoundIsRefusedNamingTheSetting(@TempDir Path work) throws Exception {
        LakeSql small = new LakeSql(
                new LakeTables(opened),
                new LakeSql.Limits(10_000, 1 << 20, Duration.ofSeconds(20), "256MB", 1L << 30),
                work,
                0);
        // The finding: 10,000 rows of 50 kB strings ran the serving JVM out of heap.
        assertThatThrownBy(() -> small.query("SELECT repeat('x', 50000) FROM range(10000)", 0))
                .isInstanceOf(LakeSql.TooLarge.class)
                .hasMessage("the answer is larger than --sql-max-result-bytes (1048576 bytes) after 20 rows:"
                        + " select fewer rows (LIMIT) or smaller columns");
        assertThat(small.query("SELECT repeat('x', 50000) FROM range(20)", 0).rows())
                .hasSize(20);
        // Duplicate column names stay apart, as DuckDB names them.
        LakeSql.Result twice = small.query("SELECT 1 AS a, 'two' AS a", 0);
        assertThat(twice.columns()).containsExactly("a", "a_1");
        assertThat(twice.rows().get(0)).containsExactly(1, "two");
    }

    @Test
    void aQueryPastItsMemoryAndSpillIsRefusedNamingBothAndItsSpillIsRemoved(@TempDir Path work) throws Exception {
        LakeSql tight = new LakeSql(
                new LakeTables(opened),
                new LakeSql.Limits(20, 1 << 20, Duration.ofSeconds(60), "64MB", 1 << 20),
                work,
                0);
        assertThatThrownBy(() -> tight.query(
                        "SELECT count(*) FROM (SELECT DISTINCT repeat('x', 200) || i AS s FROM range(3000000) t(i))",
                        0))
                .isInstanceOf(LakeSql.TooLarge.class)
                .hasMessageStartingWith("the query needs more than --sql-memory (64MB) and --sql-spill-bytes (1048576"
                        + " bytes of disk to spill to): Out of Memory Error");
        try (var left = Files.list(work.resolve("sql-spill"))) {
            assertThat(left).as("each query's spill directory is removed").isEmpty();
        }
        assertThat(tight.query("SELECT count(*) FROM events", 0).rows().get(0).get(0))
                .isEqualTo(150L);
    }

    /**
     * One value bigger than DuckDB's memory_limit counts (a string it builds: the limit covers its
     * buffers, not every value): the query's process runs out, not the serving layer's.
     */
    @Test
    void aValueBeyondTheQuerysMemoryEndsItsProcessNotTheServer(@TempDir Path work) throws Exception {
        LakeSql tight = new LakeSql(
                new LakeTables(opened),
                new LakeSql.Limits(20, 1 << 20, Duration.ofSeconds(60), "64MB", 1 << 20),
                work,
                0);
        assertThatThrownBy(() -> tight.query("SELECT length(repeat('x', 3000000000)) AS n", 0))
                .isInstanceOf(LakeSql.TooLarge.class)
                .hasMessageContaining("--sql-memory (64MB)");
        assertThat(tight.query("SELECT count(*) FROM events", 0).rows().get(0).get(0))
                .isEqualTo(150L);
    }

    /** Files inside the lake that no catalogued table holds: raw uploads, rejects, uploads in flight. */
    @ParameterizedTest
    @ValueSource(strings = {"raw/leak/a.csv", "rejects/leak/a.csv", "_uploads/in-flight.csv"})
    void onlyTheNamedTablesFilesCanBeRead(String file) throws Exception {
        Path inside = lake.resolve(file);
        Files.createDirectories(inside.getParent());
        Files.writeString(inside, "user,password\nroot,hunter2\n");
        assertThatThrownBy(() -> sql.query("SELECT * FROM read_csv('" + inside + "')", 0))
                .isInstanceOf(LakeSql.Refused.class)
                .hasMessageStartingWith("only the tables' files can be read: Permission Error")
                .hasMessageNotContaining("hunter2");
        // A table's files are readable by name only when the query names the table.
        assertThatThrownBy(() -> sql.query("SELECT * FROM read_csv('" + inside + "'), events", 0))
                .isInstanceOf(LakeSql.Refused.class);
    }

    @Test
    void invalidSqlIsNamedAsSuch() {
        assertThatThrownBy(() -> sql.query("SELEC 1", 0))
                .isInstanceOf(LakeSql.Invalid.class)
                .hasMessageContaining("syntax error");
        assertThatThrownBy(() -> sql.query("SELECT * FROM no_such_table", 0))
                .isInstanceOf(LakeSql.Invalid.class)
                .hasMessageContaining("no_such_table");
        assertThatThrownBy(() -> sql.query("  ", 0)).isInstanceOf(LakeSql.Invalid.class);
    }

    /** Reading any file outside the lake. */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "SELECT * FROM read_csv('/etc/passwd')",
                "SELECT * FROM read_text('/etc/hostname')",
                "SELECT * FROM read_blob('/proc/self/environ')",
                "SELECT * FROM glob('/etc/*')",
                "SELECT * FROM read_csv('LAKE/../lake-secrets/passwords.csv')",
                "SELECT * FROM read_csv('SECRET')",
                "SELECT * FROM read_parquet('LAKE/../../*.parquet')",
                "SELECT * FROM read_json('http://127.0.0.1:9/x.json')",
                "SELECT * FROM 'SECRET'",
            })
    void readingOutsideTheLakeIsRefused(String query) {
        String q = query.replace("LAKE", lake.toString()).replace("SECRET", secret.toString());
        assertThatThrownBy(() -> sql.query(q, 0))
                .satisfiesAnyOf(
                        e -> assertThat(e)
                                .isInstanceOf(LakeSql.Refused.class)
                                .hasMessageContaining("only the tables' files can be read"),
                        e -> assertThat(e).isInstanceOf(LakeSql.Invalid.class).hasMessageNotContaining("hunter2"));
        assertThatThrownBy(() -> sql.query(q, 0))
                .hasMessageNotContaining("hunter2")
                .hasMessageNotContaining("root:");
    }

    /** Changing anything, inside the lake or out. */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "COPY (SELECT 1) TO 'LAKE/written.csv'",
                "COPY events TO 'LAKE/written.csv'",
                "CREATE TABLE t AS SELECT 1",
                "DROP VIEW events",
                "INSERT INTO events VALUES (1)",
                "ATTACH 'LAKE/written.db' AS w",
                "INSTALL httpfs",
                "LOAD httpfs",
                "SET enable_external_access = true",
                "PRAGMA version",
                "EXPORT DATABASE 'LAKE/export'",
                "SELECT 1; COPY (SELECT 1) TO 'LAKE/written.csv'",
                "SELECT 1; SELECT 2",
                "CALL pragma_version()",
            })
    void anythingButOneSelectIsRefused(String query) {
        String q = query.replace("LAKE", lake.toString());
        assertThatThrownBy(() -> sql.query(q, 0)).isInstanceOf(LakeSql.Refused.class);
        assertThat(lake.resolve("written.csv")).doesNotExist();
        assertThat(lake.resolve("written.db")).doesNotExist();
        assertThat(lake.resolve("export")).doesNotExist();
    }

    @Test
    void aSubqueryCannotCloseTheWrapperToRunASecondStatement() {
        String q = "SELECT 1) AS q; COPY (SELECT 1) TO '" + lake.resolve("written.csv") + "'; SELECT * FROM (SELECT 1";
        assertThatThrownBy(() -> sql.query(q, 0)).isInstanceOfAny(LakeSql.Refused.class, LakeSql.Invalid.class);
        assertThat(lake.resolve("written.csv")).doesNotExist();
    }
}
