package dev.strata.verify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The short version of {@code ./strata verify} that CI runs: one seeded run of the whole stack as
 * processes, with faults (SIGKILL and restart, SIGSTOP/SIGCONT of the processes the seed picks, and,
 * where the suite may mount a small tmpfs for the lake, its disk filling up until a batch cycle
 * fails), merged == oracle for every view and window. The long version is {@code ./strata verify --runs 50}.
 * It runs with the lake on object storage ({@code --s3}, as {@code strata up --s3}): the stack's own
 * S3 server is one of the processes faults may hit, and its directory is the disk that fills up;
 * {@code ClusterIT} keeps the lake on a local directory.
 */
class VerifyIT {

    @Test
    void aRunWithFaultsLosesNothingAcknowledgedAndCountsEveryEventOnce() throws Exception {
        Path home = Path.of("").toAbsolutePath().getParent().getParent();
        VerifyMain suite = new VerifyMain();
        new CommandLine(suite)
                .parseArgs(
                        "--home",
                        home.toString(),
                        "--data",
                        "deploy/verify/target/verify",
                        "--seed",
                        "7",
                        "--events",
                        "2000",
                        "--faults",
                        "4",
                        "--s3");

        RunResult result = suite.run(home, 7);

        assertThat(result.problems).isEmpty();
        assertThat(result.mismatches).isEmpty();
        assertThat(result.acknowledged).isGreaterThanOrEqualTo(2_000);
        assertThat(result.faults.stream().filter(f -> f.startsWith("SIG")))
                .as("process faults injected")
                .hasSizeGreaterThanOrEqualTo(2);
        assertThat(result.cellsChecked).isGreaterThan(100);
        assertThat(result.refused).as("bad inputs answered with a reason").isPositive();
    }
}
