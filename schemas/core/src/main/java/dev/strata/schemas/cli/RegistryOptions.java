package dev.strata.schemas.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** {@code --registry-url}: the Schema-Registry-compatible API, as every Strata command takes it. */
public final class RegistryOptions {

    public static final String DEFAULT_REGISTRY_URL = "http://127.0.0.1:8081";

    @Option(
            names = "--registry-url",
            defaultValue = "${env:STRATA_REGISTRY_URL:-" + DEFAULT_REGISTRY_URL + "}",
            description = "Schema registry URL (env STRATA_REGISTRY_URL). Default: ${DEFAULT-VALUE}")
    String registryUrl;

    @Option(
            names = "--registry-token-file",
            defaultValue = "${env:STRATA_REGISTRY_TOKEN_FILE}",
            description = "A file holding a token of the registry's --tokens, sent as 'Authorization: Bearer' to"
                    + " register schemas on a registry whose writes need one (env STRATA_REGISTRY_TOKEN_FILE)")
    Path registryTokenFile;

    public String registryUrl() {
        return registryUrl;
    }

    public Path registryTokenFile() {
        return registryTokenFile;
    }

    /** The token of {@code --registry-token-file}, if given. */
    public Optional<String> registryToken() {
        return token(registryTokenFile);
    }

    /** The token a token file holds (its first line); none for no file. */
    public static Optional<String> token(Path file) {
        if (file == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.readString(file).strip()).filter(t -> !t.isEmpty());
        } catch (IOException e) {
            throw new UncheckedIOException("--registry-token-file " + file + ": " + e.getMessage(), e);
        }
    }
}
