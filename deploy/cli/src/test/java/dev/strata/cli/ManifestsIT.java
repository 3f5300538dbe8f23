package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.cli.stack.Component;
import dev.strata.schemas.kafka.StrataAcls;
import dev.strata.schemas.topics.StrataTopics;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The deploy manifests (deploy/k8s, deploy/compose) against the code they run: every image is one
 * the build makes (at the project's version) or the upstream image of the versions the build
 * uses; every command-line option a container passes exists in that component's command; every
 * container port is the port the arguments open; probes and Services name ports that exist; the
 * Kafka topics are DESIGN.md's (StrataTopics) with replication 3 and min.insync.replicas 2; every
 * workload asks for resources, runs as non-root, and (if long-running) has health probes.
 */
class ManifestsIT {

    static final Path HOME = StrataCli.home();
    /** What an image runs: a main class of a component's module, and the arguments that print its options. */
    record Image(Component component, String mainClass, List<String> help) {}

    /** Image name → the command whose options its arguments must use. */
    static final Map<String, Image> IMAGES = Map.of(
            "strata/registry", new Image(Component.REGISTRY, "dev.strata.registry.RegistryMain", List.of("--help")),
            "strata/gateway", new Image(Component.GATEWAY, "dev.strata.gateway.GatewayMain", List.of("--help")),
            "strata/batch", new Image(Component.BATCH, "dev.strata.batch.BatchMain", List.of("scheduler", "--help")),
            "strata/serving", new Image(Component.SERVING, "dev.strata.serving.ServingMain", List.of("--help")),
            "strata/speed-job", new Image(Component.SPEED, "dev.strata.speed.SpeedJobMain", List.of("--help")),
            "strata/s3", new Image(Component.S3, "dev.strata.s3.S3Main", List.of("--help")));

    /** The images whose containers read or write the lake: its settings come from the environment. */
    static final Set<String> LAKE_USERS = Set.of("strata/gateway", "strata/batch", "strata/serving");

    static final Map<String, Set<String>> OPTIONS = new HashMap<>();

    static final Set<String> PORT_OPTIONS = Set.of("--port", "--http-port", "--mqtt-port", "--metrics-port");

    static String version;
    static Map<String, String> properties = new HashMap<>();
    static List<Map<String, Object>> k8s = new ArrayList<>();
    static Map<String, Object> compose;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void load() throws IOException {
        String pom = Files.readString(HOME.resolve("pom.xml"));
        Matcher v = Pattern.compile("<artifactId>strata-parent</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(pom);
        assertThat(v.find()).isTrue();
        version = v.group(1);
        Matcher p = Pattern.compile("<([a-z0-9.-]+\\.version)>([^<]+)</").matcher(pom);
        while (p.find()) {
            properties.put(p.group(1), p.group(2));
        }
        try (Stream<Path> files = Files.list(HOME.resolve("deploy/k8s"))) {
            for (Path f :
                    files.filter(x -> x.toString().endsWith(".yaml")).sorted().toList()) {
                try (Reader r = Files.newBufferedReader(f)) {
                    for (Object doc : yaml().loadAll(r)) {
                        if (doc != null) {
                            Map<String, Object> m = (Map<String, Object>) doc;
                            m.put("_file", f.getFileName().toString());
                            k8s.add(m);
                        }
                    }
                }
            }
        }
        try (Reader r = Files.newBufferedReader(HOME.resolve("deploy/compose/compose.yaml"))) {
            compose = yaml().load(r);
        }
    }

    static Yaml yaml() {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        return new Yaml(options);
    }

    @Test
    void kustomizationListsEveryManifest() throws IOException {
        Map<String, Object> kustomization = k8s.stream()
                .filter(d -> "Kustomization".equals(d.get("kind")))
                .findFirst()
                .orElseThrow();
        Set<String> files;
        try (Stream<Path> list = Files.list(HOME.resolve("deploy/k8s"))) {
            files = new TreeSet<>(list.map(f -> f.getFileName().toString())
                    .filter(f -> f.endsWith(".yaml") && !f.equals("kustomization.yaml"))
                    .toList());
        }
        assertThat(new TreeSet<>(list(kustomization.get("resources")))).isEqualTo(files);
    }

    @Test
    void everyK8sContainerRunsCodeThatExistsWithOptionsThatExistOnPortsItOpens() throws IOException {
        int checked = 0;
        for (Map<String, Object> doc : k8s) {
            for (Map<String, Object> pod : pods(doc)) {
                for (Map<String, Object> c : containers(pod)) {
                    String where = doc.get("_file") + " " + name(doc) + "/" + c.get("name");
                    String image = (String) c.get("image");
                    if (image == null) {
                        continue; // a FlinkDeployment's main container takes spec.image
                    }
                    checkImage(where, image);
                    String repo = image.substring(0, image.lastIndexOf(':'));
                    List<String> args = list(c.getOrDefault("args", List.of()));
                    if (IMAGES.containsKey(repo) && !repo.equals("strata/speed-job")) {
                        checkArgs(where, repo, args, envNames(c));
                        if (LAKE_USERS.contains(repo)) {
                            assertThat(maps(c.get("envFrom")))
                                    .as(where + ": the lake's settings (lake.yaml)")
                                    .anySatisfy(from -> assertThat(map(from.get("configMapRef")))
                                            .containsEntry("name", "strata-lake"))
                                    .anySatisfy(from -> assertThat(map(from.get("secretRef")))
                                            .containsEntry("name", "strata-lake-credentials"));
                            assertThat(args)
                                    .as(where + ": no lake on a shared volume")
                                    .doesNotContain("--lake");
                        }
                        for (Map<String, Object> port : maps(c.get("ports"))) {
                            assertThat(portsOpened(args))
                                    .as(where + " containerPort")
                                    .contains(String.valueOf(port.get("containerPort")));
                        }
                        checked++;
                    }
                    Set<String> portNames = new TreeSet<>();
                    maps(c.get("ports")).forEach(port -> portNames.add(String.valueOf(port.get("name"))));
                    for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
                        Map<String, Object> p = map(c.get(probe));
                        if (p != null && p.get("httpGet") != null) {
                            assertThat(portNames)
                                    .as(where + " " + probe + " port")
                                    .contains(
                                            String.valueOf(map(p.get("httpGet")).get("port")));
                        }
                    }
                }
            }
        }
        assertThat(checked).as("strata containers checked").isEqualTo(5);
    }

    @Test
    void everyWorkloadAsksForResourcesRunsAsNonRootAndLongRunningOnesHaveProbes() {
        for (Map<String, Object> doc : k8s) {
            String kind = (String) doc.get("kind");
            if (!Set.of("Deployment", "StatefulSet", "CronJob").contains(kind)) {
                continue;
            }
            for (Map<String, Object> pod : pods(doc)) {
                assertThat(map(pod.get("securityContext")))
                        .as(name(doc) + " pod securityContext")
                        .containsEntry("runAsNonRoot", true);
                for (Map<String, Object> c : containers(pod)) {
                    String where = name(doc) + "/" + c.get("name");
                    assertThat(map(map(c.get("resources")).get("requests")))
                            .as(where + " requests")
                            .containsKeys("cpu", "memory");
                    if (!kind.equals("CronJob")) {
                        assertThat(c).as(where + " probes").containsKeys("readinessProbe", "livenessProbe");
                    }
                    if (Boolean.TRUE.equals(map(c.get("securityContext")).get("readOnlyRootFilesystem"))) {
                        assertThat(maps(c.get("volumeMounts")))
                                .as(where + " /tmp (RocksDB, Netty and the JVM write there)")
                                .anyMatch(m -> "/tmp".equals(m.get("mountPath")));
                    }
                }
            }
        }
        Map<String, Object> speed = only("FlinkDeployment");
        Map<String, Object> podTemplate = map(map(speed.get("spec")).get("podTemplate"));
        assertThat(map(map(podTemplate.get("spec")).get("securityContext"))).containsEntry("runAsNonRoot", true);
        assertThat(map(map(speed.get("spec")).get("jobManager")).get("resource"))
                .isNotNull();
        assertThat(map(map(speed.get("spec")).get("taskManager")).get("resource"))
                .isNotNull();
    }

    @Test
    void servicesSelectPodsAndNameTheirPorts() {
        for (Map<String, Object> service :
                k8s.stream().filter(d -> "Service".equals(d.get("kind"))).toList()) {
            Map<String, Object> selector = map(map(service.get("spec")).get("selector"));
            Map<String, Object> deployment = k8s.stream()
                    .filter(d -> "Deployment".equals(d.get("kind")) || "StatefulSet".equals(d.get("kind")))
                    .filter(d -> map(map(map(map(d.get("spec")).get("template")).get("metadata"))
                                    .get("labels"))
                            .entrySet()
                            .containsAll(selector.entrySet()))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(name(service) + " selects no Deployment or StatefulSet"));
            Set<String> ports = new TreeSet<>();
            for (Map<String, Object> c : containers(
                    map(map(map(deployment.get("spec")).get("template")).get("spec")))) {
                maps(c.get("ports")).forEach(p -> ports.add(String.valueOf(p.get("name"))));
            }
            for (Map<String, Object> p : maps(map(service.get("spec")).get("ports"))) {
                assertThat(ports).as(name(service) + " targetPort").contains(String.valueOf(p.get("targetPort")));
            }
        }
    }

    @Test
    void theSpeedJobRunsOnFlinksImageWithItsOwnEntryPointAndParameters() throws IOException {
        Map<String, Object> spec = map(only("FlinkDeployment").get("spec"));
        String flink = properties.get("flink.version");
        assertThat(spec.get("image")).isEqualTo("flink:" + flink + "-java17");
        assertThat(spec.get("flinkVersion"))
                .isEqualTo("v" + flink.substring(0, flink.lastIndexOf('.')).replace('.', '_'));
        Map<String, Object> job = map(spec.get("job"));
        assertThat(HOME.resolve(
                        "speed-layer/src/main/java/" + ((String) job.get("entryClass")).replace('.', '/') + ".java"))
                .exists();
        checkArgs("speed job", "strata/speed-job", list(job.get("args")), Set.of());
        Map<String, Object> conf = map(spec.get("flinkConfiguration"));
        assertThat(conf)
                .containsEntry("state.backend.type", "rocksdb")
                .containsEntry(
                        "metrics.reporter.prom.factory.class",
                        "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        // The keys the local speed job sets are the keys the cluster gets.
        String speedMain = Files.readString(HOME.resolve("speed-layer/src/main/java/dev/strata/speed/SpeedMain.java"));
        for (String key : conf.keySet()) {
            if (!Set.of("taskmanager.numberOfTaskSlots", "execution.checkpointing.savepoint-dir")
                    .contains(key)) {
                assertThat(speedMain)
                        .as("Flink key " + key + " as the local speed job sets it")
                        .contains("\"" + key + "\"");
            }
        }
        String jar = ((String) job.get("jarURI")).substring("local://".length());
        Map<String, Object> init = maps(map(map(spec.get("podTemplate")).get("spec"))
                        .get("initContainers"))
                .get(0);
        assertThat(list(init.get("command"))).contains(jar.substring(0, jar.lastIndexOf('/') + 1));
        assertThat(String.join(" ", list(init.get("command")))).contains(jar.substring(jar.lastIndexOf('/') + 1));
    }

    @Test
    void kafkaHasThreeNodesAndTheTopicsOfTheDesign() {
        Map<String, Object> pool = only("KafkaNodePool");
        assertThat(map(pool.get("spec")).get("replicas")).isEqualTo(3);
        Map<String, Object> kafka = map(map(only("Kafka").get("spec")).get("kafka"));
        assertThat(kafka.get("version")).isEqualTo(properties.get("kafka.version"));
        assertThat(map(kafka.get("config")))
                .containsEntry("min.insync.replicas", 2)
                .containsEntry("default.replication.factor", 3);

        Map<String, Map<String, Object>> topics = new LinkedHashMap<>();
        for (Map<String, Object> t :
                k8s.stream().filter(d -> "KafkaTopic".equals(d.get("kind"))).toList()) {
            Map<String, Object> spec = map(t.get("spec"));
            topics.put((String) spec.getOrDefault("topicName", name(t)), spec);
            assertThat(spec.get("replicas")).isEqualTo(3);
        }
        Map<String, Map<String, Object>> composeTopics = composeTopics();
        for (StrataTopics.TopicSpec expected : StrataTopics.all()) {
            Map<String, Object> spec = topics.get(expected.name());
            assertThat(spec).as("KafkaTopic " + expected.name()).isNotNull();
            assertThat(spec.get("partitions")).as(expected.name()).isEqualTo(expected.partitions());
            Map<String, String> config = new HashMap<>();
            map(spec.get("config")).forEach((k, v) -> config.put(k, String.valueOf(v)));
            assertThat(config).as(expected.name()).isEqualTo(expected.configs());
            assertThat(composeTopics.get(expected.name()))
                    .as("compose topic " + expected.name())
                    .isEqualTo(Map.of("partitions", expected.partitions(), "configs", expected.configs()));
        }
        assertThat(topics.keySet()).hasSameSizeAs(StrataTopics.all());
    }

    @Test
    @SuppressWarnings("unchecked")
    void composeRunsThreeBrokersAndStrataServicesWithOptionsAndPortsThatExist() throws IOException {
        Map<String, Object> services = map(compose.get("services"));
        int brokers = 0;
        for (Map.Entry<String, Object> e : services.entrySet()) {
            Map<String, Object> s = map(e.getValue());
            String image = (String) s.get("image");
            checkImage("compose " + e.getKey(), image);
            String repo = image.substring(0, image.lastIndexOf(':'));
            if (repo.equals("apache/kafka") && map(s.get("environment")).containsKey("KAFKA_NODE_ID")) {
                brokers++;
                assertThat(map(s.get("environment")))
                        .containsEntry("KAFKA_MIN_INSYNC_REPLICAS", 2)
                        .containsEntry("KAFKA_DEFAULT_REPLICATION_FACTOR", 3);
            }
            if (LAKE_USERS.contains(repo)) {
                assertThat(map(s.get("environment")))
                        .as("compose " + e.getKey() + ": the lake on the S3 server, its catalog in PostgreSQL")
                        .containsEntry("STRATA_LAKE", "s3://strata/lake")
                        .containsEntry("AWS_ENDPOINT_URL", "http://s3:9000")
                        .containsKey("STRATA_CATALOG_URI");
            }
            if (IMAGES.containsKey(repo) && !repo.equals("strata/speed-job")) {
                List<String> args = list(s.get("command"));
                checkArgs("compose " + e.getKey(), repo, args, Set.of());
                for (String published : (List<String>) s.getOrDefault("ports", List.of())) {
                    assertThat(portsOpened(args))
                            .as("compose " + e.getKey() + " port " + published)
                            .contains(published.substring(published.indexOf(':') + 1));
                }
                assertThat(s.get("user"))
                        .as("compose " + e.getKey() + " runs as non-root")
                        .isEqualTo("10001:10001");
            }
            for (Object dep : s.get("depends_on") instanceof Map<?, ?> m
                    ? m.keySet()
                    : list(s.getOrDefault("depends_on", List.of()))) {
                assertThat(services).as("compose " + e.getKey() + " depends on").containsKey(String.valueOf(dep));
            }
        }
        assertThat(brokers).isEqualTo(3);
        String submit = String.join(" ", list(map(services.get("speed-submit")).get("command")));
        List<String> submitArgs =
                List.of(submit.substring(submit.indexOf(".jar ") + 5).split(" "));
        checkArgs("compose speed-submit", "strata/speed-job", submitArgs, Set.of());
        // Prometheus in compose scrapes the ports the services open.
        String scrape = Files.readString(HOME.resolve("deploy/compose/prometheus.yml"));
        assertThat(scrape).contains("gateway:8080", "serving:8088", "batch:9250", "jobmanager:9249");
    }

    /** The Kafka identity each workload runs as: its container's STRATA_KAFKA_USER → the workload's name. */
    static final Map<String, String> KAFKA_USERS = Map.of(
            "strata-gateway", StrataAcls.GATEWAY,
            "strata-registry", StrataAcls.REGISTRY,
            "strata-speed", StrataAcls.SPEED,
            "strata-batch", StrataAcls.BATCH,
            "strata-serving", StrataAcls.SERVING);

    @Test
    void kafkaIsNotOpenAndEachComponentHasItsOwnIdentityWithExactlyStrataAcls() {
        // Kubernetes: SCRAM on the listener, the simple authorizer, one KafkaUser per identity with the ACLs of the
        // table.
        Map<String, Object> kafka = only("Kafka");
        Map<String, Object> kafkaSpec = map(map(kafka.get("spec")).get("kafka"));
        assertThat(map(map(maps(kafkaSpec.get("listeners")).get(0)).get("authentication")))
                .containsEntry("type", "scram-sha-512");
        assertThat(map(kafkaSpec.get("authorization"))).containsEntry("type", "simple");
        Map<String, Set<String>> expected = new TreeMap<>();
        StrataAcls.components()
                .forEach(g -> expected.computeIfAbsent(g.principal(), k -> new TreeSet<>())
                        .add(aclKey(
                                g.type().name(),
                                g.name(),
                                g.pattern().name(),
                                g.operations().stream()
                                        .map(o -> o.name().replace("_", ""))
                                        .toList())));
        Map<String, Set<String>> users = new TreeMap<>();
        for (Map<String, Object> doc : k8s) {
            if (!"KafkaUser".equals(doc.get("kind")) || name(doc).startsWith("producer-")) {
                continue;
            }
            Map<String, Object> spec = map(doc.get("spec"));
            assertThat(map(spec.get("authentication"))).containsEntry("type", "scram-sha-512");
            Set<String> acls = new TreeSet<>();
            for (Map<String, Object> acl : maps(map(spec.get("authorization")).get("acls"))) {
                Map<String, Object> r = map(acl.get("resource"));
                acls.add(aclKey(
                        String.valueOf(r.get("type")),
                        String.valueOf(r.get("name")),
                        String.valueOf(r.get("patternType")).replace("prefix", "prefixed"),
                        list(acl.get("operations")).stream()
                                .map(o -> o.toUpperCase(Locale.ROOT))
                                .toList()));
            }
            users.put(name(doc), acls);
        }
        assertThat(users).isEqualTo(expected);
        // ...and every workload that talks to Kafka runs as its own user, its password from the user's Secret.
        Set<String> runAs = new TreeSet<>();
        for (Map<String, Object> doc : k8s) {
            for (Map<String, Object> pod : pods(doc)) {
                for (Map<String, Object> c : containers(pod)) {
                    for (Map<String, Object> e : maps(c.get("env"))) {
                        if ("STRATA_KAFKA_USER".equals(e.get("name"))) {
                            String user = String.valueOf(e.get("value"));
                            assertThat(user).as(name(doc)).isEqualTo(KAFKA_USERS.get(name(doc)));
                            Map<String, Object> password = maps(c.get("env")).stream()
                                    .filter(x -> "STRATA_KAFKA_PASSWORD".equals(x.get("name")))
                                    .findFirst()
                                    .orElseThrow();
                            assertThat(map(map(map(password.get("valueFrom")).get("secretKeyRef"))))
                                    .containsEntry("name", user)
                                    .containsEntry("key", "password");
                            runAs.add(user);
                        }
                    }
                }
            }
        }
        assertThat(runAs).isEqualTo(expected.keySet());

        // Compose: each identity made and given exactly the table's ACLs by the topics one-shot; each service runs as
        // its own.
        String script = String.join(
                "\n", list(map(map(compose.get("services")).get("topics")).get("command")));
        Set<String> aclLines = new TreeSet<>();
        for (String line : script.split("\n")) {
            if (line.strip().startsWith("acl --")) {
                aclLines.add(line.strip().substring("acl ".length()));
            }
        }
        assertThat(aclLines)
                .isEqualTo(new TreeSet<>(StrataAcls.components().stream()
                        .map(StrataAcls.Grant::kafkaAclsArguments)
                        .toList()));
        List<String> identities = List.of(
                StrataAcls.GATEWAY, StrataAcls.REGISTRY, StrataAcls.SPEED, StrataAcls.BATCH, StrataAcls.SERVING);
        assertThat(new TreeSet<>(identities)).isEqualTo(expected.keySet());
        assertThat(script).contains("for user in " + String.join(" ", identities) + "; do");
        Map<String, Object> services = map(compose.get("services"));
        Map<String, String> composeUsers = Map.of(
                "gateway", StrataAcls.GATEWAY,
                "registry", StrataAcls.REGISTRY,
                "speed-submit", StrataAcls.SPEED,
                "batch", StrataAcls.BATCH,
                "serving", StrataAcls.SERVING);
        composeUsers.forEach(
                (service, user) -> assertThat(map(map(services.get(service)).get("environment")))
                        .as("compose " + service)
                        .containsEntry("STRATA_KAFKA_USER", user)
                        .containsKey("STRATA_KAFKA_PASSWORD"));
        Map<String, Object> brokerEnv = map(map(services.get("kafka-1")).get("environment"));
        assertThat(brokerEnv)
                .containsEntry("KAFKA_AUTHORIZER_CLASS_NAME", "org.apache.kafka.metadata.authorizer.StandardAuthorizer")
                .containsEntry("KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND", "false")
                .containsEntry("KAFKA_SUPER_USERS", "User:admin");
        assertThat(String.valueOf(brokerEnv.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP")))
                .doesNotContain("PLAINTEXT:PLAINTEXT")
                .doesNotContain(":PLAINTEXT");
    }

    static String aclKey(String type, String name, String pattern, List<String> operations) {
        return type.toLowerCase(Locale.ROOT) + " " + name + " " + pattern.toLowerCase(Locale.ROOT) + " "
                + new TreeSet<>(operations);
    }

    // --- helpers ---

    /** The topics the compose file's one-shot creates: name → {partitions, configs}. */
    static Map<String, Map<String, Object>> composeTopics() {
        String script = String.join(
                "\n", list(map(map(compose.get("services")).get("topics")).get("command")));
        Map<String, Map<String, Object>> topics = new HashMap<>();
        for (String line : script.split("\n")) {
            if (!line.startsWith("t --topic")) {
                continue;
            }
            String[] w = line.split("\\s+");
            Map<String, String> configs = new HashMap<>();
            int partitions = 0;
            for (int i = 1; i < w.length - 1; i++) {
                if (w[i].equals("--partitions")) {
                    partitions = Integer.parseInt(w[i + 1]);
                } else if (w[i].equals("--config")) {
                    configs.put(
                            w[i + 1].substring(0, w[i + 1].indexOf('=')),
                            w[i + 1].substring(w[i + 1].indexOf('=') + 1));
                }
            }
            topics.put(w[2], Map.of("partitions", partitions, "configs", configs));
        }
        return topics;
    }

    static void checkImage(String where, String image) {
        assertThat(image).as(where + " image has a tag").contains(":");
        String repo = image.substring(0, image.lastIndexOf(':'));
        String tag = image.substring(image.lastIndexOf(':') + 1);
        if (repo.startsWith("strata/")) {
            assertThat(IMAGES).as(where + ": an image the build makes").containsKey(repo);
            assertThat(tag).as(where).isEqualTo(version);
        } else if (repo.equals("flink")) {
            assertThat(tag).as(where).isEqualTo(properties.get("flink.version") + "-java17");
        } else if (repo.equals("apache/kafka")) {
            assertThat(tag).as(where).isEqualTo(properties.get("kafka.version"));
        } else {
            assertThat(repo).as(where + ": an upstream image").isIn("prom/prometheus", "grafana/grafana", "postgres");
        }
    }

    /** Options the image's command declares: what its own --help lists (option groups included). */
    static Set<String> options(String repo) throws IOException {
        if (OPTIONS.containsKey(repo)) {
            return OPTIONS.get(repo);
        }
        Image image = IMAGES.get(repo);
        List<String> command = new ArrayList<>(
                List.of(Component.javaExecutable(), "-cp", image.component().classpath(HOME), image.mainClass()));
        command.addAll(image.help());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String help = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Set<String> options = new TreeSet<>();
        Matcher option = Pattern.compile("(--[a-z][a-z-]+)").matcher(help);
        while (option.find()) {
            options.add(option.group(1));
        }
        OPTIONS.put(repo, options);
        return options;
    }

    static void checkArgs(String where, String repo, List<String> args, Set<String> env) throws IOException {
        Set<String> options = options(repo);
        assertThat(options).as(repo + " options its --help lists").contains("--help");
        for (String arg : args) {
            if (arg.startsWith("--")) {
                assertThat(options).as(where + ": option " + arg).contains(arg);
            }
            Matcher var = Pattern.compile("\\$\\(([A-Z_]+)\\)").matcher(arg);
            while (var.find()) {
                assertThat(env)
                        .as(where + ": $(" + var.group(1) + ") is defined")
                        .contains(var.group(1));
            }
        }
    }

    static Set<String> portsOpened(List<String> args) {
        Set<String> ports = new TreeSet<>();
        for (int i = 0; i + 1 < args.size(); i++) {
            if (PORT_OPTIONS.contains(args.get(i))) {
                ports.add(args.get(i + 1));
            }
        }
        return ports;
    }

    static Set<String> envNames(Map<String, Object> container) {
        Set<String> names = new TreeSet<>();
        maps(container.get("env")).forEach(e -> names.add((String) e.get("name")));
        return names;
    }

    /** The pod specs of a workload: Deployment, StatefulSet, CronJob, or a FlinkDeployment's pod template. */
    static List<Map<String, Object>> pods(Map<String, Object> doc) {
        Map<String, Object> spec = map(doc.get("spec"));
        return switch (String.valueOf(doc.get("kind"))) {
            case "Deployment", "StatefulSet" ->
                List.of(map(map(spec.get("template")).get("spec")));
            case "CronJob" ->
                List.of(map(map(map(map(spec.get("jobTemplate")).get("spec")).get("template"))
                        .get("spec")));
            case "FlinkDeployment" -> List.of(map(map(spec.get("podTemplate")).get("spec")));
            default -> List.of();
        };
    }

    static List<Map<String, Object>> containers(Map<String, Object> pod) {
        List<Map<String, Object>> all = new ArrayList<>(maps(pod.get("initContainers")));
        all.addAll(maps(pod.get("containers")));
        return all;
    }

    Map<String, Object> only(String kind) {
        List<Map<String, Object>> found =
                k8s.stream().filter(d -> kind.equals(d.get("kind"))).toList();
        assertThat(found).as(kind).hasSize(1);
        return found.get(0);
    }

    static String name(Map<String, Object> doc) {
        return String.valueOf(map(doc.get("metadata")).get("name"));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return o == null ? Map.of() : (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> maps(Object o) {
        return o == null ? List.of() : (List<Map<String, Object>>) o;
    }

    @SuppressWarnings("unchecked")
    static List<String> list(Object o) {
        return o == null
                ? List.of()
                : ((List<Object>) o).stream().map(String::valueOf).toList();
    }
}
