package dev.strata.gateway.demo;

import dev.strata.schemas.net.StrataPorts;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttClientOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code strata up --demo}: simulated devices publishing temperatures over MQTT (QoS 1) and a
 * billing service posting orders over HTTP, with now and then a late event, a client retry that
 * resends an id, and a malformed payload, so a newcomer sees data, late data, duplicates and
 * dead letters flow through the stack.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Generates demo traffic into the gateway.")
public final class DemoMain implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(DemoMain.class);
    static final String[] SITES = {"north", "south", "east"};

    @Option(names = "--http", defaultValue = "http://127.0.0.1:8080", description = "Gateway HTTP URL")
    String httpUrl;

    @Option(names = "--mqtt-host", defaultValue = "127.0.0.1", description = "Gateway MQTT host")
    String mqttHost;

    @Option(names = "--mqtt-port", defaultValue = "" + StrataPorts.MQTT, description = "Gateway MQTT port")
    int mqttPort;

    @Option(names = "--token-file", required = true, description = "File holding the gateway token")
    Path tokenFile;

    @Option(names = "--devices", defaultValue = "30", description = "Simulated MQTT devices. Default: ${DEFAULT-VALUE}")
    int devices;

    @Option(
            names = "--interval",
            defaultValue = "PT1S",
            description = "Time between a device's readings. Default: ${DEFAULT-VALUE}")
    Duration interval;

    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong acknowledged = new AtomicLong();
    private final Random random = new Random(42);

    @Override
    public Integer call() throws Exception {
        String token = Files.readString(tokenFile).trim();
        Vertx vertx = Vertx.vertx();
        List<MqttClient> clients = new ArrayList<>();
        for (int i = 0; i < devices; i++) {
            String device = String.format(Locale.ROOT, "sensor-%02d", i);
            MqttClient client = MqttClient.create(
                    vertx,
                    new MqttClientOptions()
                            .setClientId(device)
                            .setUsername(device)
                            .setPassword(token)
                            .setAutoKeepAlive(true));
            client.publishCompletionHandler(id -> acknowledged.incrementAndGet());
            client.connect(mqttPort, mqttHost)
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get();
            clients.add(client);
            double base = 18 + random.nextInt(8);
            long offset = interval.toMillis() * i / devices;
            vertx.setPeriodic(offset + 1, interval.toMillis(), t -> reading(client, device, base));
        }
        HttpClient http = HttpClient.newHttpClient();
        uploadSites(http, token);
        vertx.setPeriodic(2_000, t -> vertx.executeBlocking(() -> orders(http, token), false));
        vertx.setPeriodic(
                10_000,
                t -> LOG.info("demo: {} events sent, {} MQTT acknowledgements", sent.get(), acknowledged.get()));
        System.out.println("READY demo " + devices + " devices over MQTT, 1 service over HTTP");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            clients.forEach(MqttClient::disconnect);
                            vertx.close();
                            stopped.countDown();
                        },
                        "demo-shutdown"));
        stopped.await();
        return 0;
    }

    private void reading(MqttClient client, String device, double base) {
        if (!client.isConnected()) {
            return;
        }
        double value = Math.round((base + random.nextGaussian()) * 100) / 100.0;
        Instant time = Instant.now();
        int dice = random.nextInt(200);
        if (dice == 0) {
            time = time.minus(Duration.ofHours(2)); // a reading buffered on the device, sent late
        }
        String json = String.format(
                Locale.ROOT,
                "{\"type\":\"temperature\",\"time\":\"%s\",\"value\":%.2f,\"attributes\":{\"site\":\"%s\",\"unit\":\"C\"}}",
                time,
                value,
                SITES[Math.abs(device.hashCode()) % SITES.length]);
        if (dice == 1) {
            json = "{\"type\":\"temperature\",\"value\":\"n/a\"}"; // a firmware bug: rejected with a reason
        }
        client.publish("strata/events/" + device, Buffer.buffer(json), MqttQoS.AT_LEAST_ONCE, false, false);
        sent.incrementAndGet();
    }

    /**
     * The dataset 'sites' (site, city, region), which the demo's transform {@code daily_source_summary}
     * joins the events with; the same bytes again at a restart are answered as a duplicate.
     */
    private void uploadSites(HttpClient http, String token) {
        String csv = "site,city,region\nnorth,Tromsø,Nordics\nsouth,Sevilla,Iberia\neast,Tartu,Baltics\n";
        HttpRequest request = HttpRequest.newBuilder(URI.create(httpUrl + "/v1/files/sites"))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "text/csv")
                .POST(HttpRequest.BodyPublishers.ofString(csv))
                .build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            LOG.info("demo: dataset 'sites' uploaded: {} {}", response.statusCode(), response.body());
        } catch (Exception e) {
            LOG.warn("demo: uploading the dataset 'sites' failed: {}", e.toString());
        }
    }

    private Void orders(HttpClient http, String token) {
        StringBuilder body = new StringBuilder();
        int count = 1 + random.nextInt(10);
        for (int i = 0; i < count; i++) {
            body.append(String.format(
                    Locale.ROOT,
                    "{\"id\":\"order-%d\",\"source\":\"billing-service\",\"type\":\"order\",\"value\":%.2f,"
                            + "\"attributes\":{\"site\":\"%s\"}}\n",
                    sent.get() + i,
                    5 + random.nextDouble() * 95,
                    SITES[random.nextInt(SITES.length)]));
        }
        HttpRequest request = HttpRequest.newBuilder(URI.create(httpUrl + "/v1/events"))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 200) {
                sent.addAndGet(count);
                if (random.nextInt(10) == 0) {
                    http.send(request, HttpResponse.BodyHandlers.discarding()); // a client retry: same ids again
                }
            } else {
                LOG.warn("demo: the gateway answered {}: {}", response.statusCode(), response.body());
            }
        } catch (Exception e) {
            LOG.warn("demo: HTTP post failed: {}", e.toString());
        }
        return null;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new DemoMain()).execute(args));
    }
}
