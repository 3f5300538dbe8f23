package dev.strata.batch;

import dev.strata.batch.engine.Engine;
import dev.strata.schemas.JobJar;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the batch jobs (recomputes, transforms) run: a MiniCluster in this process, or a Flink cluster. */
public final class EngineOptions {

    @Option(
            names = "--jobmanager",
            defaultValue = "${env:STRATA_FLINK_JOBMANAGER}",
            description = {
                "HOST:PORT of a Flink cluster's REST endpoint to run the batch jobs on.",
                "Default: a Flink MiniCluster in this process"
            })
    String jobManager;

    @Option(
            names = "--jar",
            description =
                    "The job jar shipped to --jobmanager. Default: batch-layer/target/strata-batch-layer-*-job.jar")
    Path jar;

    @Option(names = "--parallelism", defaultValue = "2", description = "Default: ${DEFAULT-VALUE}")
    int parallelism;

    public Engine engine() throws IOException {
        if (jobManager == null || jobManager.isBlank()) {
            return Engine.local(parallelism);
        }
        return Engine.cluster(jobManager, (jar != null ? jar : JobJar.of("batch-layer")).toString(), parallelism);
    }
}
