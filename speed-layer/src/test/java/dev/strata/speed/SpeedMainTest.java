package dev.strata.speed;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpeedMainTest {

    /** The managed memory of the slot the probe ran in (RocksDB's block cache and write buffers come from it). */
    static final AtomicLong SLOT_MANAGED_BYTES = new AtomicLong();

    /**
     * The local MiniCluster's slot gets the managed memory {@code localConfiguration} names, not
     * Flink's local default of 128 MiB: the setting was once declared and never passed, and the
     * speed job's RocksDB ran on a quarter of the memory the README named (half the throughput).
     */
    @Test
    void aLocalJobsSlotHasTheManagedMemoryTheConfigurationNames(@TempDir Path data) throws Exception {
        Configuration conf = SpeedMain.localConfiguration(data, Duration.ofSeconds(10));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(conf);
        env.setParallelism(1);
        env.fromData(1L)
                .transform("probe", org.apache.flink.api.common.typeinfo.Types.LONG, new SlotMemoryProbe())
                .sinkTo(new DiscardingSink<>());
        env.execute("managed-memory-probe");

        assertThat(SLOT_MANAGED_BYTES.get())
                .isEqualTo(MemorySize.parse(SpeedMain.LOCAL_MANAGED_MEMORY).getBytes());
    }

    static final class SlotMemoryProbe extends AbstractStreamOperator<Long>
            implements OneInputStreamOperator<Long, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(StreamRecord<Long> element) {
            SLOT_MANAGED_BYTES.set(
                    getContainingTask().getEnvironment().getMemoryManager().getMemorySize());
            output.collect(element);
        }
    }
}
