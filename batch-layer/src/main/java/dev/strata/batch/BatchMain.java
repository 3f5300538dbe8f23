package dev.strata.batch;

import dev.strata.batch.engine.Engine;
import dev.strata.batch.lake.Archiver;
import dev.strata.batch.views.BatchCycle;
import dev.strata.batch.views.Change;
import dev.strata.batch.views.ReplayScope;
import dev.strata.lake.ArchiveRun;
import dev.strata.lake.EventsTable;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeOptions;
import dev.strata.lake.ViewsTable;
import dev.strata.schemas.cli.CutOptions;
import dev.strata.schemas.cli.KafkaOptions;
import dev.strata.schemas.cli.RegistryOptions;
import dev.strata.schemas.cli.ViewOptions;
import dev.strata.schemas.topics.StrataTopics;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.CutSettings;
import java.io.IOException;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code strata batch}: the scheduled batch layer ({@code batch scheduler}, a component of the
 * local stack), one cycle now ({@code batch run}) and the run log ({@code batch status}).
 */
@Command(
        name = "batch",
        mixinStandardHelpOptions = true,
        subcommands = {
            SchedulerCommand.class,
            BatchMain.Run.class,
            BatchMain.Status.class,
            BatchMain.Replay.class,
            BatchMain.Rollback.class,
            LakeMain.Maintain.class
        },
        description = "The batch layer: archive Kafka into the Parquet lake and recompute the batch views.")
public final class BatchMain implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(BatchMain.class);

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 0;
    }

    /** What every batch command needs. */
    static final class Options {
        @Mixin
        KafkaOptions kafka;

        @Mixin
        RegistryOptions registry;

        @Mixin
        CutOptions cut;

        @Mixin
        ViewOptions views;

        @Mixin
        LakeOptions lake;

        @Mixin
        EngineOptions engineOptions;

        @Option(names = "--events-topic", defaultValue = StrataTopics.EVENTS, description = "Default: ${DEFAULT-VALUE}")
        String eventsTopic;

        @Option(
                names = "--commits-topic",
                defaultValue = StrataTopics.BATCH_COMMITS,
                description = "Default: ${DEFAULT-VALUE}")
        String commitsTopic;

        @Option(
                names = "--safety-margin",
                defaultValue = CutSettings.DEFAULT_SAFETY_MARGIN,
                description = "How far behind the clock the cut stays. Default: ${DEFAULT-VALUE}")
        Duration margin;

        @Option(
                names = "--keep-snapshots",
                defaultValue = BatchCycle.Settings.DEFAULT_KEEP_SNAPSHOTS,
                description = "Default: ${DEFAULT-VALUE}")
        int keep;

        @Option(
                names = "--in-memory-rows-per-subtask",
                defaultValue = BatchCycle.Settings.DEFAULT_IN_MEMORY_ROWS_PER_SUBTASK,
                description = {
                    "Rows per subtask up to which the recompute finds retry candidates with a hash set in memory",
                    "(16 bytes a row) instead of Flink's sort, which spills to disk; 0 always sorts. Default: ${DEFAULT-VALUE}"
                })
        long inMemoryRowsPerSubtask;

        BatchCycle.Settings settings() throws IOException {
            return new BatchCycle.Settings(views.load(), cut.settings(), margin, keep, inMemoryRowsPerSubtask);
        }

        BatchCycle cycle() throws Exception {
            BatchCycle.Settings settings = settings();
            Engine.initFileSystems(lake.config().flinkProperties());
            EventsTable events = lake().events();
            Engine engine = engine();
            LOG.info(
                    "Batch jobs run on the {}; lake {}",
                    engine.describe(),
                    lake.config().describe());
            Archiver archiver =
                    new Archiver(events, engine, kafka.bootstrapServers(), registry.registryUrl(), eventsTopic);
            return new BatchCycle(
                    events, lake().views(), archiver, engine, settings, kafka.bootstrapServers(), commitsTopic);
        }

        /** The lake, opened once per command (its catalog's connections live as long as the process). */
        Lake lake() {
            if (opened == null) {
                opened = Lake.open(lake.config());
            }
            return opened;
        }

        private Lake opened;

        Engine engine() throws IOException {
            return engineOptions.engine();
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true, description = "Runs one batch cycle now.")
    static final class Run implements Callable<Integer> {
        @Mixin
        Options options;

        @Override
        public Integer call() throws Exception {
            Optional<BatchCommit> commit = options.cycle().run(System.currentTimeMillis());
            if (commit.isPresent()) {
                BatchCommit c = commit.get();
                System.out.println("Batch snapshot of run " + c.run() + " announced, cut "
                        + Instant.ofEpochMilli(c.cutMillis()) + " (" + c.snapshot() + ")");
                return 0;
            }
            ViewsTable.Head head = options.lake().views().head();
            System.out.println(
                    head.run() == 0
                            ? "Nothing new to archive."
                            : "Nothing new to archive or fold: batch snapshot "
                                    + head.snapshotId().getAsLong()
                                    + " holds run " + head.run() + ", cut " + Instant.ofEpochMilli(head.cutMillis())
                                    + " (made by this process or another), and is announced.");
            return 0;
        }
    }

    @Command(
            name = "status",
            mixinStandardHelpOptions = true,
            description = "Lists the runs, cuts, rows and the current snapshot.")
    static final class Status implements Callable<Integer> {
        @Mixin
        Options options;

        @Override
        public Integer call() throws Exception {
            List<ArchiveRun> runs = options.lake().events().runs();
            System.out.printf("%-6s %-26s %10s %8s %6s %20s%n", "run", "cut", "rows", "skipped", "files", "snapshot");
            for (ArchiveRun r : runs) {
                System.out.printf(
                        "%-6d %-26s %10d %8d %6d %20d%n",
                        r.run(), Instant.ofEpochMilli(r.cutMillis()), r.rows(), r.skipped(), r.files(), r.snapshotId());
            }
            BatchCycle cycle = options.cycle();
            cycle.changedViews().forEach(System.out::println);
            List<ViewsTable.Head> history = options.lake().views().history();
            if (history.isEmpty()) {
                System.out.println("No batch snapshot yet.");
                return 0;
            }
            System.out.printf("%n%-20s %-9s %-6s %-26s %8s  %s%n", "batch snapshot", "kind", "run", "cut", "cells", "");
            for (ViewsTable.Head h : history) {
                System.out.printf(
                        "%-20d %-9s %-6d %-26s %8d  %s%n",
                        h.snapshotId().getAsLong(),
                        h.kind(),
                        h.run(),
                        h.run() == 0 ? "-" : Instant.ofEpochMilli(h.cutMillis()).toString(),
                        h.cells(),
                        h == history.get(0) ? "current" : "");
            }
            return 0;
        }
    }

    @Command(
            name = "replay",
            mixinStandardHelpOptions = true,
            description = {
                "Recomputes batch views from the lake with today's view definitions, as a new snapshot version.",
                "--dry-run prints the windows whose values would change, old and new, and writes nothing."
            })
    static final class Replay implements Callable<Integer> {
        @Mixin
        Options options;

        @Option(names = "--view", description = "Only this view")
        String view;

        @Option(names = "--from", description = "Only windows starting at or after this time (ISO-8601 or epoch ms)")
        String from;

        @Option(names = "--to", description = "Only windows starting before this time (ISO-8601 or epoch ms)")
        String to;

        @Option(names = "--dry-run", description = "Print the changes only")
        boolean dryRun;

        @Override
        public Integer call() throws Exception {
            BatchCycle cycle = options.cycle();
            ReplayScope scope = new ReplayScope(
                    Optional.ofNullable(view),
                    Optional.ofNullable(from).map(BatchMain::time),
                    Optional.ofNullable(to).map(BatchMain::time));
            BatchCycle.Replayed replayed = cycle.replay(scope, dryRun);
            List<Change> changes = replayed.changes();
            int shown = 0;
            for (Change c : changes) {
                if (shown++ == 200) {
                    System.out.println("… and " + (changes.size() - 200) + " more");
                    break;
                }
                System.out.println(c.cell().view() + " " + c.cell().group() + " "
                        + Instant.ofEpochMilli(c.cell().windowStartMillis()) + ": " + c.before() + " -> " + c.after());
            }
            System.out.println(
                    changes.size() + " window(s) would change" + (dryRun ? " (dry run: nothing written)" : ""));
            replayed.commit().ifPresent(commit -> System.out.println("Replay committed as " + commit.snapshot()));
            return 0;
        }
    }

    @Command(
            name = "rollback",
            mixinStandardHelpOptions = true,
            description = "Makes the previous snapshot version current again and announces it.")
    static final class Rollback implements Callable<Integer> {
        @Mixin
        Options options;

        @Override
        public Integer call() throws Exception {
            BatchCommit commit = options.cycle().rollback();
            System.out.println("Current snapshot: " + commit.snapshot() + " (run " + commit.run() + ", cut "
                    + Instant.ofEpochMilli(commit.cutMillis()) + ")");
            return 0;
        }
    }

    static long time(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            try {
                return OffsetDateTime.parse(text).toInstant().toEpochMilli();
            } catch (DateTimeException bad) {
                throw new IllegalArgumentException(
                        "'" + text + "' is neither epoch milliseconds nor an ISO-8601 time with offset");
            }
        }
    }

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new BatchMain());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("strata batch: " + e.getMessage());
            LOG.debug("Failure", e);
            return 1;
        });
        System.exit(cli.execute(args));
    }
}
