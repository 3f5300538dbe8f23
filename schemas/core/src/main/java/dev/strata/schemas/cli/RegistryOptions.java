package dev.strata.schemas.cli;

import picocli.CommandLine.Option;

/** {@code --registry-url}: the Schema-Registry-compatible API, as every Strata command takes it. */
public final class RegistryOptions {

    public static final String DEFAULT_REGISTRY_URL = "http://127.0.0.1:8081";

    @Option(
            names = "--registry-url",
            defaultValue = "${env:STRATA_REGISTRY_URL:-" + DEFAULT_REGISTRY_URL + "}",
            description = "Schema registry URL (env STRATA_REGISTRY_URL). Default: ${DEFAULT-VALUE}")
    String registryUrl;

    public String registryUrl() {
        return registryUrl;
    }
}
