package dev.strata.schemas.cli;

import dev.strata.schemas.views.ViewConfig;
import dev.strata.schemas.views.ViewDefinition;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/** {@code --views}: the view config the speed, batch and serving layers read. */
public final class ViewOptions {

    @Option(names = "--views", description = "View config (YAML). Default: the built-in views")
    Path file;

    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    /** The views of the file, or the built-in ones; a bad file fails naming the view and the problem. */
    public List<ViewDefinition> load() throws IOException {
        return file == null ? ViewConfig.defaults() : ViewConfig.load(file);
    }
}
