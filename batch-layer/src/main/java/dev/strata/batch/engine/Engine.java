package dev.strata.batch.engine;

import java.util.List;
import java.util.Optional;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Where the batch jobs run: a Flink MiniCluster in this JVM (the local stack), or a Flink cluster
 * reached through its JobManager's REST endpoint, to which the job jar is shipped. Every job runs
 * with {@link RuntimeExecutionMode#BATCH}.
 */
public record Engine(Optional<String> jobManager, List<String> jars, int parallelism) {

    public static Engine local(int parallelism) {
        return new Engine(Optional.empty(), List.of(), parallelism);
    }

    /** {@code HOST:PORT} of a JobManager's REST endpoint and the job jar to ship. */
    public static Engine cluster(String jobManager, String jar, int parallelism) {
        return new Engine(Optional.of(jobManager), List.of(jar), parallelism);
    }

    public StreamExecutionEnvironment environment() {
        Configuration conf = new Configuration();
        conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.BATCH);
        StreamExecutionEnvironment env;
        if (jobManager.isPresent()) {
            String hostPort = jobManager.get();
            int colon = hostPort.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("--jobmanager wants HOST:PORT, got " + hostPort);
            }
            env = StreamExecutionEnvironment.createRemoteEnvironment(hostPort.substring(0, colon),
                    Integer.parseInt(hostPort.substring(colon + 1)), conf, jars.toArray(String[]::new));
        } else {
            env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);
        }
        env.setParallelism(parallelism);
        return env;
    }

    public String describe() {
        return jobManager.map(j -> "Flink cluster " + j).orElse("local Flink MiniCluster") + ", parallelism " + parallelism;
    }
}
