package dev.strata.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.taskexecutor.TaskManagerRunner;

/**
 * {@code strata flink-taskmanager}: a TaskManager of the session cluster, run by Flink's own entry
 * point ({@link TaskManagerRunner}, what {@code taskmanager.sh} starts) with the same arguments.
 * Prints {@code READY flink-taskmanager ID} once the JobManager lists it as registered.
 */
public final class TaskManagerMain {

    private TaskManagerMain() {}

    public static void main(String[] args) throws Exception {
        Configuration conf = FlinkNode.configuration(args);
        List<String> arguments = new ArrayList<>(List.of(args));
        String id = conf.get(TaskManagerOptions.TASK_MANAGER_RESOURCE_ID);
        if (id == null || id.isBlank()) {
            id = "taskmanager-" + UUID.randomUUID().toString().substring(0, 8);
            arguments.add("-D" + TaskManagerOptions.TASK_MANAGER_RESOURCE_ID.key() + "=" + id);
        }
        String quoted = "\"" + id + "\"";
        FlinkNode.announceWhenReady(
                "flink-taskmanager",
                id + " (" + conf.get(TaskManagerOptions.NUM_TASK_SLOTS) + " slots) at " + FlinkNode.restUrl(conf),
                conf,
                "/taskmanagers",
                body -> body.contains(quoted));
        TaskManagerRunner.main(arguments.toArray(String[]::new));
    }
}
