package dev.strata.batch.transform;

import dev.strata.batch.engine.CrashPoints;
import dev.strata.batch.engine.HandBack;
import dev.strata.schemas.transforms.TransformDefinition;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.core.fs.Path;
import org.apache.flink.formats.parquet.ParquetColumnarRowInputFormat;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.iceberg.DataFile;

/**
 * A transform's query on Flink SQL in batch mode: each table the query names is a view over
 * exactly the data files this run reads of it (the planned files of its input snapshot, or of the
 * snapshots since the last applied one), read with flink-parquet's vectorized reader; the result is
 * written by the tasks into the output table's files, which go back to the client to commit.
 */
final class TransformJob {

    private static final Pattern NOT_FOUND = Pattern.compile("Object '([^']+)' not found");
    /** Rows per batch of column vectors (flink-parquet's default). */
    private static final int BATCH_ROWS = 2048;

    private TransformJob() {}

    /** An input table as one run reads it. */
    record Input(
            String name,
            Optional<Long> snapshot,
            Optional<Long> after,
            List<String> files,
            LakeTypes.InputColumns columns) {}

    /** Finds a table the query names, as this run reads it; empty when the lake has none by that name. */
    @FunctionalInterface
    interface Inputs {
        Optional<Input> resolve(String name) throws TransformException;
    }

    /** A planned query: its environment, its result, the inputs it reads (in the order met). */
    record Planned(StreamTableEnvironment tables, Table result, Map<String, Input> inputs) {}

    /**
     * Plans the query: the tables it names are registered as Flink's planner asks for them (so only
     * those are read and recorded as inputs).
     */
    static Planned plan(StreamExecutionEnvironment env, TransformDefinition transform, Inputs lake)
            throws TransformException {
        StreamTableEnvironment tables = StreamTableEnvironment.create(env, EnvironmentSettings.inBatchMode());
        tables.getConfig().setLocalTimeZone(java.time.ZoneOffset.UTC);
        Map<String, Input> used = new LinkedHashMap<>();
        while (true) {
            try {
                return new Planned(tables, tables.sqlQuery(transform.sql()), used);
            } catch (RuntimeException e) {
                String message = messages(e);
                Matcher m = NOT_FOUND.matcher(message);
                if (!m.find()) {
                    throw new TransformException(
                            transform, "its SQL does not plan: " + firstLine(message) + inputs(used), e);
                }
                String name = m.group(1);
                if (used.containsKey(name)) {
                    throw new TransformException(
                            transform, "its SQL does not plan: " + firstLine(message) + inputs(used), e);
                }
                Optional<Input> input = lake.resolve(name);
                if (input.isEmpty()) {
                    throw new TransformException(
                            transform,
                            "unknown table '" + name + "': the lake has events, batch_views, the uploaded datasets"
                                    + " and the transforms' outputs" + inputs(used));
                }
                used.put(name, input.get());
                tables.createTemporaryView(name, tables.fromDataStream(stream(env, input.get())));
            }
        }
    }

    private static DataStream<RowData> stream(StreamExecutionEnvironment env, Input input) {
        LakeTypes.InputColumns columns = input.columns();
        InternalTypeInfo<RowData> type = InternalTypeInfo.of(columns.type());
        if (input.files().isEmpty()) {
            // No rows (Flink's fromData cannot take an empty collection): one row, filtered out.
            return env.fromData(
                            List.<RowData>of(new GenericRowData(columns.names().size())), type)
                    .filter(row -> false)
                    .returns(type)
                    .name(input.name() + " (no files)");
        }
        // SQL takes the reader's rows as they are: views of its column batches, which SQL's
        // operators copy where they keep a row (as with Flink's own file system tables).
        ParquetColumnarRowInputFormat<FileSourceSplit> format = new ParquetColumnarRowInputFormat<>(
                new org.apache.hadoop.conf.Configuration(false), columns.type(), type, BATCH_ROWS, true, true);
        FileSource<RowData> source = FileSource.forBulkFileFormat(
                        format, input.files().stream().map(Path::new).toArray(Path[]::new))
                .build();
        return env.fromSource(source, WatermarkStrategy.noWatermarks(), input.name())
                .name("read " + input.name());
    }

    /** What the tasks wrote: their files and rows. */
    record Written(List<DataFile> files, long rows) implements Serializable {}

    /**
     * Runs the planned query, its result written by {@code writers}; returns every task's files
     * (handed back as {@link dev.strata.batch.engine.HandBack} says).
     */
    static Written write(Planned planned, OutputWriter.Factory writers, String jobName) throws Exception {
        ResolvedSchema schema = planned.result().getResolvedSchema();
        DataStream<RowData> rows = planned.tables()
                .toDataStream(planned.result(), schema.toPhysicalRowDataType().bridgedTo(RowData.class));
        List<Written> handed = writers.handBack()
                .run(
                        rows.transform(
                                "write output",
                                TypeInformation.of(Void.class),
                                new WriteRows(
                                        writers,
                                        schema.getColumnDataTypes().stream()
                                                .map(DataType::getLogicalType)
                                                .toList())),
                        jobName);
        List<DataFile> files = new ArrayList<>();
        long count = 0;
        for (Written w : handed) {
            files.addAll(w.files());
            count += w.rows();
        }
        return new Written(files, count);
    }

    /** Writes a task's rows; at the end of its input, hands its files back. */
    static final class WriteRows extends AbstractStreamOperator<Void>
            implements OneInputStreamOperator<RowData, Void>, BoundedOneInput {
        private static final long serialVersionUID = 1L;
        private final OutputWriter.Factory writers;
        private final List<LogicalType> types;
        private transient OutputWriter writer;
        private transient HandBack.Task handBack;

        WriteRows(OutputWriter.Factory writers, List<LogicalType> types) {
            this.writers = writers;
            this.types = new ArrayList<>(types);
        }

        @Override
        public void open() throws Exception {
            super.open();
            writer = writers.open(getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
            handBack = writers.handBack().task(getRuntimeContext());
        }

        @Override
        public void processElement(StreamRecord<RowData> element) throws IOException {
            writer.write(element.getValue(), types);
            if (writer.rows() == 50) {
                CrashPoints.reached("transform-mid-write"); // some files open, none finished
            }
        }

        @Override
        public void endInput() throws Exception {
            handBack.give(new Written(writer.finish(), writer.rows()));
        }
    }

    /** The input snapshots met so far, for an error message. */
    static String inputs(Map<String, Input> used) {
        if (used.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder("; inputs ");
        used.values()
                .forEach(in -> out.append(out.length() > 9 ? "," : "")
                        .append(in.name())
                        .append('=')
                        .append(in.snapshot().orElse(0L)));
        return out.toString();
    }

    static String messages(Throwable e) {
        StringBuilder out = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            out.append(t.getMessage()).append('\n');
        }
        return out.toString();
    }

    private static String firstLine(String message) {
        // Flink's validation messages: the useful one is the innermost ("From line 1, column 8 to …: …")
        String[] lines = message.split("\n");
        for (int i = lines.length - 1; i >= 0; i--) {
            if (lines[i].contains("line ") || lines[i].contains("column")) {
                return lines[i].strip();
            }
        }
        return lines[0].strip();
    }
}
