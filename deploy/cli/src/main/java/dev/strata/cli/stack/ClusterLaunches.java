package dev.strata.cli.stack;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;

/** The processes of cluster mode: a KRaft quorum of Kafka nodes, and a Flink session cluster. */
final class ClusterLaunches {

    private ClusterLaunches() {}

    /**
     * The KRaft nodes, each broker and controller, started together (none is ready before a quorum
     * runs); the cluster's id is kept in the data directory so restarts find their logs.
     */
    static List<Supervisor.Launch> kafkaNodes(String host, Path dataDir, StackPorts ports) throws IOException {
        List<Supervisor.Launch> launches = new ArrayList<>();
        Path idFile = dataDir.resolve("kafka-cluster-id");
        Files.createDirectories(dataDir);
        if (!Files.exists(idFile)) {
            Files.writeString(idFile, Uuid.randomUuid().toString());
        }
        String clusterId = Files.readString(idFile).trim();
        int brokers = ports.kafka().size();
        List<String> voters = new ArrayList<>();
        for (int node = 1; node <= brokers; node++) {
            voters.add(node + "@" + host + ":" + ports.kafkaControllers().get(node - 1));
        }
        for (int node = 1; node <= brokers; node++) {
            int port = ports.kafka().get(node - 1);
            int controller = ports.kafkaControllers().get(node - 1);
            launches.add(new Supervisor.Launch(
                    Component.KAFKA,
                    List.of(
                            "--data", dataDir.resolve("kafka-" + node).toString(),
                            "--host", host,
                            "--port", StackSpec.port(port),
                            "--controller-port", StackSpec.port(controller),
                            "--node-id", Integer.toString(node),
                            "--controller-quorum-voters", String.join(",", voters),
                            "--cluster-id", clusterId,
                            "--replication-factor", Integer.toString(Math.min(3, brokers))),
                    "Kafka broker " + node,
                    host,
                    List.of(port, controller),
                    "kafka-" + node,
                    node < brokers ? Supervisor.Start.WITH_NEXT : Supervisor.Start.READY));
        }
        return launches;
    }

    /** A JobManager (REST and web UI on the Flink web port) and one TaskManager, with Strata's cluster config. */
    static List<Supervisor.Launch> flink(String host, Path dataDir, StackPorts ports, Map<String, String> fileSystems)
            throws IOException {
        List<Supervisor.Launch> launches = new ArrayList<>();
        Path flink = dataDir.resolve("flink");
        for (String dir : List.of("checkpoints", "jobmanager-tmp", "web-tmp", "taskmanager-1")) {
            Files.createDirectories(flink.resolve(dir));
        }
        List<String> common = new ArrayList<>(List.of(
                "-Djobmanager.rpc.address=" + host,
                "-Djobmanager.rpc.port=" + ports.flinkRpc(),
                "-Djobmanager.bind-host=" + host,
                "-Drest.address=" + host,
                "-Drest.bind-address=" + host,
                "-Drest.port=" + ports.flinkWeb(),
                "-Dtaskmanager.host=" + host,
                "-Dtaskmanager.bind-host=" + host,
                "-Dexecution.checkpointing.dir=" + flink.resolve("checkpoints").toUri()));
        // The file systems' settings (a lake on S3: the batch jobs' tasks reach it with them).
        fileSystems.forEach((key, value) -> common.add("-D" + key + "=" + value));
        List<String> jobManager = new ArrayList<>(common);
        jobManager.addAll(List.of(
                "-Dmetrics.reporter.prom.port=" + ports.jobManagerMetrics(),
                "-Dio.tmp.dirs=" + flink.resolve("jobmanager-tmp"),
                "-Dweb.tmpdir=" + flink.resolve("web-tmp")));
        launches.add(new Supervisor.Launch(
                Component.FLINK_JOBMANAGER,
                jobManager,
                "Flink JobManager (UI)",
                host,
                List.of(ports.flinkWeb(), ports.flinkRpc(), ports.jobManagerMetrics())));
        List<String> taskManager = new ArrayList<>(common);
        taskManager.addAll(List.of(
                "-Dtaskmanager.resource-id=taskmanager-1",
                "-Dmetrics.reporter.prom.port=" + ports.speedMetrics(),
                "-Dio.tmp.dirs=" + flink.resolve("taskmanager-1")));
        launches.add(new Supervisor.Launch(
                Component.FLINK_TASKMANAGER, taskManager, "Flink TaskManager", host, List.of(ports.speedMetrics())));
        return launches;
    }
}
