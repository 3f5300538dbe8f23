package dev.strata.batch;

import dev.strata.lake.Lake;
import dev.strata.lake.LakeOptions;
import dev.strata.lake.Maintenance;
import dev.strata.schemas.cli.CutOptions;
import java.time.Clock;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code strata lake}: the lake's upkeep ({@code lake maintain}). */
@Command(
        name = "lake",
        mixinStandardHelpOptions = true,
        subcommands = {LakeMain.Maintain.class},
        description = "The lake's tables: their upkeep.")
public final class LakeMain implements Callable<Integer> {

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 0;
    }

    @Command(
            name = "maintain",
            mixinStandardHelpOptions = true,
            description = {
                "Compacts the small files of older partitions, expires snapshots, removes orphan files and applies the",
                "events' retention; never changes a query's answer. Safe beside the scheduler (which runs it too,",
                "every --maintenance-interval), other batch commands and another maintain."
            })
    static final class Maintain implements Callable<Integer> {
        @Mixin
        LakeOptions lake;

        @Mixin
        CutOptions cut;

        @Mixin
        MaintenanceOptions maintenance;

        @Override
        public Integer call() throws Exception {
            Maintenance.Settings settings = maintenance.settings(cut.settings().dedupHorizon());
            try (Lake opened = Lake.open(lake.config())) {
                Maintenance.Report report = Maintenance.run(opened, settings, Clock.systemUTC());
                System.out.println("Lake maintained: " + report);
            }
            return 0;
        }
    }

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new LakeMain());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("strata lake: " + e.getMessage());
            LoggerFactory.getLogger(LakeMain.class).debug("Failure", e);
            return 1;
        });
        System.exit(cli.execute(args));
    }
}
