package dev.strata.registry;

import dev.strata.schemas.auth.TokenFile;
import dev.strata.schemas.cli.KafkaOptions;
import dev.strata.schemas.net.StrataPorts;
import dev.strata.schemas.topics.StrataTopics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code strata registry}: the Schema-Registry-compatible service as its own process. */
@Command(
        name = "registry",
        mixinStandardHelpOptions = true,
        description = "Runs the Schema-Registry-compatible API, stored in the compacted _schemas topic.")
public final class RegistryMain implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(RegistryMain.class);

    @Mixin
    KafkaOptions kafka;

    @Option(
            names = "--host",
            defaultValue = "${env:STRATA_REGISTRY_HOST:-127.0.0.1}",
            description = "Address to listen on (env STRATA_REGISTRY_HOST). Default: ${DEFAULT-VALUE}")
    String host;

    @Option(
            names = "--port",
            defaultValue = "${env:STRATA_REGISTRY_PORT:-" + StrataPorts.REGISTRY + "}",
            description = "HTTP port (env STRATA_REGISTRY_PORT). Default: ${DEFAULT-VALUE}")
    int port;

    @Option(
            names = "--topic",
            defaultValue = "${env:STRATA_REGISTRY_TOPIC:-" + StrataTopics.SCHEMAS + "}",
            description = "Compacted topic holding the schemas. Default: ${DEFAULT-VALUE}")
    String topic;

    @Option(
            names = "--compatibility",
            defaultValue = "${env:STRATA_REGISTRY_COMPATIBILITY:-BACKWARD}",
            description = "Default compatibility level. Default: ${DEFAULT-VALUE}")
    String compatibility;

    @Option(
            names = "--tokens",
            defaultValue = "${env:STRATA_REGISTRY_TOKENS}",
            description = {
                "Tokens file (hashes only; the gateway's format): registering schemas, changing compatibility and",
                "deleting need 'Authorization: Bearer <token>' with one of them. Reads stay open, and so does",
                "registering a schema the subject already has (it changes nothing). Required unless --open-writes"
            })
    Path tokens;

    @Option(
            names = "--create-token",
            defaultValue = "${env:STRATA_REGISTRY_CREATE_TOKEN}",
            description = "If the --tokens file does not exist, create it with one new token and write the token"
                    + " itself to this file (the local stack's data/registry.token)")
    Path createToken;

    @Spec
    CommandSpec spec;

    @Option(
            names = "--open-writes",
            defaultValue = "false",
            description = "Start without --tokens: anyone who reaches the registry may register schemas and change"
                    + " compatibility (tests only). Default: ${DEFAULT-VALUE}")
    boolean openWrites;

    @Override
    public Integer call() throws Exception {
        if (tokens == null && !openWrites) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "the registry's writes need tokens: give --tokens FILE (hashes, the gateway's format; writers send"
                            + " 'Authorization: Bearer <token>'), or --open-writes to let anyone register schemas and"
                            + " set compatibility");
        }
        if (createToken != null && tokens != null && !Files.exists(tokens)) {
            String token = TokenFile.generateToken();
            Files.createDirectories(createToken.toAbsolutePath().getParent());
            Path partial = Files.createTempFile(createToken.toAbsolutePath().getParent(), "registry", ".token");
            Files.writeString(partial, token + "\n"); // a temporary file: readable by its owner only
            Files.move(partial, createToken, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            TokenFile.write(tokens, Map.of("local", new TokenFile.Grant(token, List.of(), List.of())));
            LOG.info("Created a registry write token: {} (hash in {})", createToken, tokens);
        }
        RegistryServer.Config config = new RegistryServer.Config(
                kafka.bootstrapServers(),
                host,
                port,
                topic,
                CompatibilityLevel.parse(compatibility),
                Duration.ofSeconds(10),
                Optional.ofNullable(tokens));
        LOG.info("Effective config: {}", config);
        RegistryServer server = RegistryServer.start(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            LOG.info("Stopping the schema registry");
                            server.close();
                            stopped.countDown();
                        },
                        "registry-shutdown"));
        System.out.println("READY registry " + server.url());
        stopped.await();
        return 0;
    }

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new RegistryMain());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("strata registry: cannot start: " + rootMessage(e));
            LOG.debug("Startup failure", e);
            return 1;
        });
        System.exit(cli.execute(args));
    }

    static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + root + ")";
    }
}
