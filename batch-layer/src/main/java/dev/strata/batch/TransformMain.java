package dev.strata.batch;

import dev.strata.batch.engine.Engine;
import dev.strata.batch.transform.Transforms;
import dev.strata.lake.CuratedTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeOptions;
import dev.strata.schemas.cli.TransformOptions;
import dev.strata.schemas.transforms.TransformDefinition;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code strata transform}: SQL transforms from the lake's tables into curated tables. */
@Command(
        name = "transform",
        mixinStandardHelpOptions = true,
        subcommands = {
            TransformMain.Run.class,
            TransformMain.Status.class,
            TransformMain.Replay.class,
            TransformMain.Rollback.class
        },
        description = "SQL transforms from the lake's tables (events, datasets, batch views, other transforms' outputs)"
                + " into curated tables.")
public final class TransformMain implements Callable<Integer> {

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 0;
    }

    static TransformDefinition named(List<TransformDefinition> transforms, String name) {
        return transforms.stream()
                .filter(t -> t.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no transform named '" + name + "' (the config has "
                        + transforms.stream().map(TransformDefinition::name).toList() + ")"));
    }

    /** What a command does with the lake open and the engine started. */
    @FunctionalInterface
    interface WithEngine {
        void run(Lake lake, Engine engine) throws Exception;
    }

    /** Opens the lake and starts the engine (a MiniCluster, or the --jobmanager's), runs {@code task}, stops both. */
    static void withEngine(LakeOptions lake, EngineOptions engine, WithEngine task) throws Exception {
        Engine.initFileSystems(lake.config().flinkProperties());
        try (Lake opened = Lake.open(lake.config());
                Engine running = engine.engine()) {
            task.run(opened, running);
        }
    }

    @Command(
            name = "run",
            mixinStandardHelpOptions = true,
            description = {
                "Runs a transform now: applies what its inputs have that its output has not (incremental), or",
                "recomputes it (replace). Safe beside the scheduler and another run: each input snapshot is applied",
                "once, and a run that finds another committed first plans again."
            })
    static final class Run implements Callable<Integer> {
        @Mixin
        LakeOptions lake;

        @Mixin
        TransformOptions transforms;

        @Mixin
        EngineOptions engine;

        @Parameters(paramLabel = "NAME", description = "The transform")
        String name;

        @Override
        public Integer call() throws Exception {
            TransformDefinition transform = named(transforms.load(), name);
            withEngine(
                    lake,
                    engine,
                    (opened, running) -> System.out.println(
                            Transforms.run(running, opened, transform).describe()));
            return 0;
        }
    }

    @Command(
            name = "replay",
            mixinStandardHelpOptions = true,
            description = {
                "Recomputes the output from its inputs whole (after a change of the query or of the data) and lists the",
                "partitions that change, rows before and after; without --dry-run replaces them in one commit. --from and",
                "--to limit it to the partitions of a time-partitioned output that overlap the range."
            })
    static final class Replay implements Callable<Integer> {
        @Mixin
        LakeOptions lake;

        @Mixin
        TransformOptions transforms;

        @Mixin
        EngineOptions engine;

        @Option(names = "--from", description = "Only partitions ending after this instant (ISO-8601)")
        Instant from;

        @Option(names = "--to", description = "Only partitions starting before this instant (ISO-8601)")
        Instant to;

        @Option(names = "--dry-run", description = "Only list the partitions that would change")
        boolean dryRun;

        @Parameters(paramLabel = "NAME", description = "The transform")
        String name;

        @Override
        public Integer call() throws Exception {
            TransformDefinition transform = named(transforms.load(), name);
            withEngine(lake, engine, (opened, running) -> {
                dev.strata.batch.transform.Replay.Result result = dev.strata.batch.transform.Replay.run(
                        running, opened, transform, Optional.ofNullable(from), Optional.ofNullable(to), dryRun);
                for (dev.strata.batch.transform.Replay.Change c : result.changes()) {
                    System.out.printf("  %s: %,d rows → %,d rows%n", c.partition(), c.rowsBefore(), c.rowsAfter());
                }
                System.out.printf(
                        "%s: %d of %d partition(s) %s, inputs %s%s%n",
                        transform.name(),
                        result.changes().size(),
                        result.partitionsCompared(),
                        dryRun ? "would change" : "changed",
                        CuratedTable.format(result.inputs()),
                        result.snapshot().map(s -> ", snapshot " + s).orElse(""));
            });
            return 0;
        }
    }

    @Command(
            name = "rollback",
            mixinStandardHelpOptions = true,
            description = {
                "Makes the output's previous run current again, with the input snapshots it covered: the next run",
                "applies the later ones again. Refused if a run commits meanwhile."
            })
    static final class Rollback implements Callable<Integer> {
        @Mixin
        LakeOptions lake;

        @Mixin
        TransformOptions transforms;

        @Parameters(paramLabel = "NAME", description = "The transform")
        String name;

        @Override
        public Integer call() throws Exception {
            TransformDefinition transform = named(transforms.load(), name);
            try (Lake opened = Lake.open(lake.config())) {
                CuratedTable output = opened.curated(transform.output())
                        .orElseThrow(() -> new IllegalStateException("transform '" + name + "' has not run yet"));
                CuratedTable.Run now = output.rollback();
                System.out.printf(
                        "Rolled back: curated.%s is the run of %s again (%,d rows, inputs %s, snapshot %d)%n",
                        transform.output(),
                        Instant.ofEpochMilli(now.committedMillis()),
                        now.rows(),
                        CuratedTable.format(now.inputs()),
                        now.snapshot());
            }
            return 0;
        }
    }

    @Command(
            name = "status",
            mixinStandardHelpOptions = true,
            description =
                    "Lists the transforms with their runs: when, the input snapshots, what was read, rows, duration.")
    static final class Status implements Callable<Integer> {
        @Mixin
        LakeOptions lake;

        @Mixin
        TransformOptions transforms;

        @Option(
                names = "--runs",
                defaultValue = "5",
                description = "Runs shown per transform. Default: ${DEFAULT-VALUE}")
        int runs;

        @Parameters(arity = "0..1", paramLabel = "NAME", description = "Only this transform")
        String name;

        @Override
        public Integer call() throws Exception {
            List<TransformDefinition> all = transforms.load();
            List<TransformDefinition> shown = name == null ? all : List.of(named(all, name));
            try (Lake opened = Lake.open(lake.config())) {
                for (TransformDefinition t : shown) {
                    System.out.printf(
                            "%s → curated.%s (%s%s; %s)%n",
                            t.name(),
                            t.output(),
                            t.mode().yaml(),
                            t.incremental().map(i -> " over new " + i).orElse(""),
                            trigger(t));
                    Optional<CuratedTable> output = opened.curated(t.output());
                    List<CuratedTable.Run> history =
                            output.map(CuratedTable::runs).orElse(List.of());
                    if (history.isEmpty()) {
                        System.out.println("  no runs yet");
                    }
                    for (CuratedTable.Run r : history.stream().limit(runs).toList()) {
                        System.out.printf(
                                "  %s  %-11s %,d rows, %d file(s), %,d ms, inputs %s%s, snapshot %d%n",
                                Instant.ofEpochMilli(r.committedMillis()),
                                r.mode(),
                                r.rows(),
                                r.filesAdded(),
                                r.durationMillis(),
                                CuratedTable.format(r.inputs()),
                                r.read().isEmpty() ? "" : " (read " + r.read() + ")",
                                r.snapshot());
                    }
                }
            }
            return 0;
        }

        private static String trigger(TransformDefinition t) {
            String every = t.every().map(d -> "every " + d).orElse("");
            String onNew = t.onNewInput() ? "on new input" : "";
            return every.isEmpty() ? onNew : onNew.isEmpty() ? every : every + " and " + onNew;
        }
    }

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new TransformMain());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("strata transform: " + e.getMessage());
            LoggerFactory.getLogger(TransformMain.class).debug("Failure", e);
            return 1;
        });
        System.exit(cli.execute(args));
    }
}
