package dev.strata.schemas.cli;

import dev.strata.schemas.transforms.TransformConfig;
import dev.strata.schemas.transforms.TransformDefinition;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/** {@code --transforms}: the transform config the batch layer runs. */
public final class TransformOptions {

    /** The value of {@code --transforms} that names the built-in transforms (the demo's). */
    public static final String BUILTIN = "builtin";

    @Option(
            names = "--transforms",
            defaultValue = "${env:STRATA_TRANSFORMS}",
            description = {
                "Transform config (YAML), or '" + BUILTIN + "' for the built-in transforms (the demo's).",
                "Default: the built-in ones for `transform` commands; none for the batch scheduler"
            })
    String file;

    /** The transforms of the file, or the built-in ones; a bad file fails naming the transform and the problem. */
    public List<TransformDefinition> load() throws IOException {
        return configured().orElse(TransformConfig.defaults());
    }

    /** The transforms named by {@code --transforms} (or {@code STRATA_TRANSFORMS}); empty when neither is set. */
    public Optional<List<TransformDefinition>> configured() throws IOException {
        if (file == null || file.isBlank()) {
            return Optional.empty();
        }
        return Optional.of(file.equals(BUILTIN) ? TransformConfig.defaults() : TransformConfig.load(Path.of(file)));
    }
}
