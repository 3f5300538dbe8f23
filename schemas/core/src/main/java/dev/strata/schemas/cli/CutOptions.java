package dev.strata.schemas.cli;

import dev.strata.schemas.views.CutSettings;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * {@code --bucket} and {@code --dedup-horizon}: the {@link CutSettings} the speed, batch and
 * serving layers must share (each refuses a batch commit computed with other values).
 */
public final class CutOptions {

    @Option(
            names = "--bucket",
            defaultValue = CutSettings.DEFAULT_BUCKET,
            description = {
                "Ingest bucket: the cut is a multiple of it. The speed, batch and serving layers must agree"
                        + " (each refuses a batch commit computed with another). Default: ${DEFAULT-VALUE}"
            })
    Duration bucket;

    @Option(
            names = "--dedup-horizon",
            defaultValue = CutSettings.DEFAULT_DEDUP_HORIZON,
            description =
                    "Within it, an event's (source, id) counts once. The layers must agree. Default: ${DEFAULT-VALUE}")
    Duration dedupHorizon;

    public CutSettings settings() {
        return new CutSettings(bucket, dedupHorizon);
    }
}
