package dev.strata.speed;

import dev.strata.schemas.cli.ViewOptions;
import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The job jar's entry point on a Flink cluster ({@code flink run strata-speed-layer-*-job.jar
 * --bootstrap-servers kafka:9092 --registry-url http://registry:8081}), with the options of
 * {@code strata speed}. State backend, checkpoints and parallelism come from the cluster's
 * configuration, as with any Flink job.
 */
@Command(name = "speed-job", mixinStandardHelpOptions = true, description = "The speed layer's job, for flink run.")
public final class SpeedJobMain implements Callable<Integer> {

    @Mixin
    SpeedJobOptions job;

    @Mixin
    ViewOptions views;

    @Option(names = "--views-yaml", description = "The view config's YAML itself (a cluster may not have the file)")
    String viewsYaml;

    @Override
    public Integer call() throws Exception {
        List<ViewDefinition> definitions =
                viewsYaml != null ? ViewConfig.parse(viewsYaml.getBytes(StandardCharsets.UTF_8)) : views.load();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        job.build(env, definitions);
        env.execute(SpeedJobOptions.JOB_NAME);
        return 0;
    }

    public static void main(String[] args) {
        int code = new CommandLine(new SpeedJobMain()).execute(args);
        if (code != 0) {
            throw new IllegalStateException("the speed job ended with exit code " + code);
        }
    }
}
