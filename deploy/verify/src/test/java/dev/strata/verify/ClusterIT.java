package dev.strata.verify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The short version of {@code ./strata verify --cluster}: the guarantee workload on cluster mode —
 * three Kafka brokers (replication factor 3, min.insync.replicas 2) and a Flink session cluster
 * (JobManager and TaskManager processes from Flink's entry points) running the speed job and the
 * batch jobs — while one broker and then the TaskManager are SIGKILLed and restarted. Nothing
 * acknowledged may be lost and the merged view must equal the oracle; the speed job must have
 * restored from a checkpoint after losing its TaskManager.
 */
class ClusterIT {

    @Test
    void killingABrokerAndThenTheTaskManagerLosesNothingAcknowledged() throws Exception {
        Path home = Path.of("").toAbsolutePath().getParent().getParent();
        VerifyMain suite = new VerifyMain();
        new CommandLine(suite)
                .parseArgs(
                        "--home",
                        home.toString(),
                        "--data",
                        "deploy/verify/target/verify-cluster",
                        "--cluster",
                        "--seed",
                        "11",
                        "--events",
                        "1500",
                        "--faults",
                        "2",
                        "--no-disk-full");

        RunResult result = suite.run(home, 11);

        assertThat(result.problems).isEmpty();
        assertThat(result.mismatches).isEmpty();
        assertThat(result.faults).as("a broker, then the TaskManager").hasSize(2);
        assertThat(result.faults.get(0)).startsWith("SIGKILL kafka-");
        assertThat(result.faults.get(1)).isEqualTo("SIGKILL flink-taskmanager");
        assertThat(result.acknowledged).isGreaterThanOrEqualTo(1_500);
        assertThat(result.cellsChecked).isGreaterThan(50);
    }
}
