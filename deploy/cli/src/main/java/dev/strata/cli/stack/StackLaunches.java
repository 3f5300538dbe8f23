package dev.strata.cli.stack;

import dev.strata.schemas.net.LocalPorts;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The launches of a {@link StackSpec}: each component's command line as a user would type it, in
 * the order they start (Kafka, the registry, the object store, the gateway, Flink in cluster mode,
 * the speed job, the batch scheduler, serving, the demo).
 */
final class StackLaunches {

    private final StackSpec spec;
    private final StackSpec.Builder b;

    StackLaunches(StackSpec spec, StackSpec.Builder b) {
        this.spec = spec;
        this.b = b;
    }

    /**
     * The keys of Flink's S3 file system that reach the stack's S3 server (as the lake module's
     * {@code ObjectStore.flinkProperties} writes them for the batch process): the cluster's nodes
     * run the batch jobs' tasks. None for a local lake.
     */
    private Map<String, String> flinkFileSystems() {
        if (!b.objectStore) {
            return Map.of();
        }
        return Map.of(
                "s3.endpoint",
                spec.s3Url(),
                "s3.path.style.access",
                "true",
                "s3.endpoint.region",
                "us-east-1",
                "s3.access-key",
                StackSpec.S3_ACCESS_KEY,
                "s3.secret-key",
                spec.s3SecretKey());
    }

    /** The components to start, in order; stopped in reverse order. */
    List<Supervisor.Launch> all() throws IOException {
        List<Supervisor.Launch> launches = new ArrayList<>();
        if (b.cluster) {
            launches.addAll(ClusterLaunches.kafkaNodes(b.host, b.dataDir, b.ports));
        } else {
            launches.add(new Supervisor.Launch(
                    Component.KAFKA,
                    List.of(
                            "--data", b.dataDir.resolve("kafka").toString(),
                            "--host", b.host,
                            "--port", StackSpec.port(b.ports.kafka().get(0)),
                            "--controller-port",
                                    StackSpec.port(b.ports.kafkaControllers().get(0))),
                    "Kafka",
                    b.host,
                    List.of(b.ports.kafka().get(0), b.ports.kafkaControllers().get(0))));
        }
        launches.add(new Supervisor.Launch(
                Component.REGISTRY,
                List.of(
                        "--bootstrap-servers", spec.bootstrapServers(),
                        "--host", b.host,
                        "--port", StackSpec.port(b.ports.registry()),
                        "--tokens", b.dataDir.resolve("registry-tokens.yaml").toString(),
                        "--create-token", spec.registryTokenFile().toString()),
                "Schema registry",
                b.host,
                List.of(b.ports.registry())));
        if (b.objectStore) {
            launches.add(new Supervisor.Launch(
                    Component.S3,
                    List.of(
                            "--dir",
                            b.dataDir.resolve("s3").toString(),
                            "--host",
                            b.host,
                            "--port",
                            StackSpec.port(b.ports.s3()),
                            "--bucket",
                            StackSpec.S3_BUCKET,
                            "--access-key",
                            StackSpec.S3_ACCESS_KEY,
                            "--secret-key",
                            spec.s3SecretKey()),
                    "S3 object store (the lake)",
                    b.host,
                    List.of(b.ports.s3())));
        }
        if (b.layers == StackSpec.Layers.KAFKA_AND_REGISTRY) {
            return launches;
        }
        launches.add(gateway());
        if (b.layers == StackSpec.Layers.INGEST) {
            return launches;
        }
        if (b.cluster) {
            launches.addAll(ClusterLaunches.flink(b.host, b.dataDir, b.ports, flinkFileSystems()));
        }
        launches.add(speed());
        launches.add(batch());
        launches.add(serving());
        if (b.demo) {
            launches.add(new Supervisor.Launch(
                    Component.DEMO,
                    List.of(
                            "--http", spec.gatewayUrl(),
                            "--mqtt-host", b.host,
                            "--mqtt-port", StackSpec.port(b.ports.mqtt()),
                            "--token-file", spec.tokenFile().toString()),
                    "Demo generator",
                    b.host,
                    List.of()));
        }
        return launches;
    }

    private Supervisor.Launch gateway() throws IOException {
        List<String> args = new ArrayList<>(List.of(
                "--bootstrap-servers", spec.bootstrapServers(),
                "--registry-url", spec.registryUrl(),
                "--registry-token-file", spec.registryTokenFile().toString(),
                "--host", b.host,
                "--http-port", StackSpec.port(b.ports.gatewayHttp()),
                "--mqtt-port", StackSpec.port(b.ports.mqtt()),
                "--tokens", b.dataDir.resolve("gateway-tokens.yaml").toString(),
                "--create-token", spec.tokenFile().toString()));
        if (b.files) {
            args.addAll(spec.lakeArgs());
            args.addAll(List.of(
                    "--file-spool",
                    b.dataDir.resolve("spool").toString(),
                    "--landing",
                    b.dataDir.resolve("landing").toString()));
        }
        return new Supervisor.Launch(
                Component.GATEWAY, args, "Gateway HTTP, MQTT", b.host, List.of(b.ports.gatewayHttp(), b.ports.mqtt()));
    }

    /** The options every layer that must agree on the cut gets, and the views. */
    private List<String> shared() {
        List<String> args = new ArrayList<>(List.of(
                "--bootstrap-servers", spec.bootstrapServers(),
                "--bucket", b.cut.bucket().toString(),
                "--dedup-horizon", b.cut.dedupHorizon().toString()));
        b.views.ifPresent(v -> args.addAll(List.of("--views", v.toString())));
        return args;
    }

    private Supervisor.Launch speed() {
        List<String> args = shared();
        args.addAll(List.of("--registry-url", spec.registryUrl()));
        b.speedCheckpointInterval.ifPresent(i -> args.addAll(List.of("--checkpoint-interval", i.toString())));
        if (b.cluster) {
            args.addAll(List.of(
                    "submit",
                    "--jobmanager",
                    spec.jobManager(),
                    "--from-checkpoints",
                    b.dataDir.resolve("flink/checkpoints").toString()));
            return new Supervisor.Launch(
                    Component.SPEED, args, "Speed job", b.host, List.of(), "speed", Supervisor.Start.ONE_SHOT);
        }
        args.addAll(List.of(
                "--data", b.dataDir.resolve("speed").toString(),
                "--web-port", StackSpec.port(b.ports.flinkWeb()),
                "--metrics-port", StackSpec.port(b.ports.speedMetrics())));
        return new Supervisor.Launch(
                Component.SPEED,
                args,
                "Speed job (Flink UI)",
                b.host,
                List.of(b.ports.flinkWeb(), b.ports.speedMetrics()));
    }

    private Supervisor.Launch batch() throws IOException {
        List<String> args = new ArrayList<>(List.of("scheduler"));
        args.addAll(shared());
        args.addAll(spec.lakeArgs());
        args.addAll(List.of(
                "--registry-url", spec.registryUrl(),
                "--safety-margin", b.safetyMargin.toString(),
                "--metrics-host", b.host,
                "--metrics-port", StackSpec.port(b.ports.batchMetrics())));
        b.batchInterval.ifPresent(i -> args.addAll(List.of("--interval", i.toString())));
        if (b.transforms.isPresent()) {
            args.addAll(List.of("--transforms", b.transforms.get().toString()));
        } else if (b.demo) {
            // The demo's transforms (the demo uploads the dataset 'sites' they join with).
            args.addAll(List.of("--transforms", "builtin"));
        }
        if (b.cluster) {
            args.addAll(List.of("--jobmanager", spec.jobManager()));
        }
        return new Supervisor.Launch(
                Component.BATCH, args, "Batch scheduler (metrics)", b.host, List.of(b.ports.batchMetrics()));
    }

    private Supervisor.Launch serving() throws IOException {
        List<String> args = shared();
        args.addAll(spec.lakeArgs());
        args.addAll(List.of(
                "--data", b.dataDir.resolve("serving").toString(),
                "--host", b.host,
                "--port", StackSpec.port(b.ports.serving())));
        if (b.servingNoopEndpoint) {
            args.add("--noop-endpoint");
        }
        if (!LocalPorts.loopback(b.host)) {
            // Reachable from the network: /v1 takes the stack's own token (the gateway's tokens file).
            args.addAll(List.of(
                    "--read-tokens", b.dataDir.resolve("gateway-tokens.yaml").toString()));
        }
        return new Supervisor.Launch(
                Component.SERVING, args, "Serving API and dashboard", b.host, List.of(b.ports.serving()));
    }
}
