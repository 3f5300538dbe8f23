package dev.strata.schemas.cli;

import dev.strata.schemas.transforms.TransformConfig;
import dev.strata.schemas.transforms.TransformDefinition;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code --transforms}: the transform config the batch layer runs. */
public final class TransformOptions {

    @Option(
            names = "--transforms",
            defaultValue = "${env:STRATA_TRANSFORMS}",
            description = "Transform config (YAML). Default: the built-in transforms (the demo's)")
    Path file;

    /** The transforms of the file, or the built-in ones; a bad file fails naming the transform and the problem. */
    public List<TransformDefinition> load() throws IOException {
        return file == null ? TransformConfig.defaults() : TransformConfig.load(file);
    }
}
