package dev.strata.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Kafka's own tools, each in a JVM of its own: the references of the archive and the gateway. */
final class KafkaTools {

    private KafkaTools() {}

    /** The command that runs one of Kafka's tools ({@code mainClass}) in a JVM of its own, on this classpath. */
    static List<String> kafkaTool(String mainClass, String... args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-cp",
                System.getProperty("java.class.path"),
                mainClass));
        command.addAll(List.of(args));
        return command;
    }

    /** Kafka's consumer performance tool reading {@code records} records of {@code topic} from the start; its records per second. */
    static double consumerRecordsPerSecond(String bootstrapServers, String topic, int records)
            throws IOException, InterruptedException {
        List<String> command = kafkaTool(
                "org.apache.kafka.tools.ConsumerPerformance",
                "--bootstrap-server",
                bootstrapServers,
                "--topic",
                topic,
                "--num-records",
                Integer.toString(records),
                "--timeout",
                "60000",
                "--command-property",
                "auto.offset.reset=earliest");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                lines.add(line);
            }
        }
        process.waitFor(120, TimeUnit.SECONDS);
        // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms,
        // fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
        for (int i = 0; i + 1 < lines.size(); i++) {
            if (lines.get(i).startsWith("start.time")) {
                String[] f = lines.get(i + 1).split(",\\s*");
                BatchBench.say("  " + lines.get(i + 1));
                return Double.parseDouble(f[5]);
            }
        }
        throw new IllegalStateException("kafka-consumer-perf-test printed no result (exit " + process.exitValue()
                + "):\n" + String.join("\n", lines));
    }
}
