package dev.strata.cluster;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Predicate;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ConfigurationUtils;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.entrypoint.EntrypointClusterConfiguration;
import org.apache.flink.runtime.entrypoint.EntrypointClusterConfigurationParserFactory;
import org.apache.flink.runtime.entrypoint.FlinkParseException;
import org.apache.flink.runtime.entrypoint.parser.CommandLineParser;

/**
 * What the JobManager and TaskManager launchers share: the configuration as Flink's entry points
 * read it ({@code --configDir} and {@code -Dkey=value}), and the {@code READY} line the
 * supervisor waits for, printed once the JobManager's REST API says the process serves.
 */
final class FlinkNode {

    private FlinkNode() {}

    /** The configuration the entry point will run with: the directory's config.yaml and the -D properties. */
    static Configuration configuration(String[] args) throws FlinkParseException {
        EntrypointClusterConfiguration parsed =
                new CommandLineParser<>(new EntrypointClusterConfigurationParserFactory()).parse(args);
        return GlobalConfiguration.loadConfiguration(
                parsed.getConfigDir(), ConfigurationUtils.createConfiguration(parsed.getDynamicProperties()));
    }

    static String restUrl(Configuration conf) {
        return "http://" + conf.get(RestOptions.ADDRESS) + ":" + conf.get(RestOptions.PORT);
    }

    /**
     * Prints {@code READY <name> <endpoint>} once {@code path} of the JobManager's REST API answers
     * 200 with a body that {@code ready} accepts; polls from a daemon thread.
     */
    static void announceWhenReady(
            String name, String endpoint, Configuration conf, String path, Predicate<String> ready) {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        URI uri = URI.create(restUrl(conf) + path);
        Thread watcher = new Thread(
                () -> {
                    while (true) {
                        try {
                            HttpResponse<String> response = http.send(
                                    HttpRequest.newBuilder(uri)
                                            .timeout(Duration.ofSeconds(5))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString());
                            if (response.statusCode() == 200 && ready.test(response.body())) {
                                System.out.println("READY " + name + " " + endpoint);
                                System.out.flush();
                                return;
                            }
                        } catch (IOException e) {
                            // not serving yet
                        } catch (InterruptedException e) {
                            return;
                        }
                        try {
                            Thread.sleep(250);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                },
                name + "-ready");
        watcher.setDaemon(true);
        watcher.start();
    }
}
