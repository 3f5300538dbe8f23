package dev.strata.batch.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.accumulators.ListAccumulator;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.InstantiationUtil;
import org.apache.iceberg.SerializableTable;
import org.apache.iceberg.Table;

/**
 * How a batch job's tasks hand what they wrote (their data files and counts) back to the client:
 * through a Flink accumulator read from the job's result, not a collect sink (whose task, channel
 * and coordinator's polling cost ~125 ms a job). Java-serialized (as Iceberg's data files are)
 * inline up to 1 MiB; past that, written to a file in the table's metadata directory whose location
 * is handed back instead, read and deleted by the client: the job's result travels in RPC messages
 * of at most 10 MiB by default, which a task writing thousands of partitions' files would exceed. A
 * crash's leftover is an orphan file of the table, which maintenance removes.
 */
public final class HandBack implements Serializable {
    private static final long serialVersionUID = 1L;
    /** What a task hands back inline at most. */
    public static final int INLINE_UP_TO = 1 << 20;

    private static final String ACCUMULATOR = "strata-hand-back";
    private static final byte INLINE = 'I';
    private static final byte IN_FILE = 'F';

    private final Table table;
    private final String attempt;
    private final int inlineUpTo;

    public HandBack(Table table, String attempt) {
        this(table, attempt, INLINE_UP_TO);
    }

    public HandBack(Table table, String attempt, int inlineUpTo) {
        this.table = table instanceof SerializableTable ? table : SerializableTable.copyOf(table);
        this.attempt = attempt;
        this.inlineUpTo = inlineUpTo;
    }

    /** A task's side, made when its operator opens. */
    public Task task(RuntimeContext context) {
        ListAccumulator<byte[]> handed = new ListAccumulator<>();
        context.addAccumulator(ACCUMULATOR, handed);
        return new Task(handed, context.getTaskInfo().getIndexOfThisSubtask());
    }

    /** What one task hands back. */
    public final class Task {
        private final ListAccumulator<byte[]> handed;
        private final int index;

        private Task(ListAccumulator<byte[]> handed, int index) {
            this.handed = handed;
            this.index = index;
        }

        /** Hands {@code written} back (once, at the end of the task's input). */
        public void give(Serializable written) throws IOException {
            byte[] bytes = InstantiationUtil.serializeObject(written);
            if (bytes.length <= inlineUpTo) {
                handed.add(tagged(INLINE, bytes));
                return;
            }
            String location = String.format("%s/metadata/hand-back-%s-%d.bin", table.location(), attempt, index);
            try (OutputStream out = table.io().newOutputFile(location).create()) {
                out.write(bytes);
            }
            handed.add(tagged(IN_FILE, location.getBytes(StandardCharsets.UTF_8)));
        }
    }

    /**
     * Runs the job ending in {@code written}, an operator whose tasks hand back through this (it emits
     * nothing); returns what every task handed back.
     */
    public <T> List<T> run(SingleOutputStreamOperator<Void> written, String jobName) throws Exception {
        written.sinkTo(new DiscardingSink<>()).name("end");
        return takeBack(written.getExecutionEnvironment().execute(jobName));
    }

    /** What every task handed back, from the finished job's result (files handed through deleted once read). */
    private <T> List<T> takeBack(JobExecutionResult result) throws IOException, ClassNotFoundException {
        List<byte[]> handed = result.getAccumulatorResult(ACCUMULATOR);
        List<T> out = new ArrayList<>();
        for (byte[] one : handed == null ? List.<byte[]>of() : handed) {
            byte[] rest = Arrays.copyOfRange(one, 1, one.length);
            if (one[0] == IN_FILE) {
                String location = new String(rest, StandardCharsets.UTF_8);
                try (InputStream in = table.io().newInputFile(location).newStream()) {
                    rest = in.readAllBytes();
                }
                table.io().deleteFile(location);
            }
            out.add(InstantiationUtil.deserializeObject(rest, HandBack.class.getClassLoader()));
        }
        return out;
    }

    private static byte[] tagged(byte tag, byte[] bytes) {
        byte[] out = new byte[bytes.length + 1];
        out[0] = tag;
        System.arraycopy(bytes, 0, out, 1, bytes.length);
        return out;
    }
}
