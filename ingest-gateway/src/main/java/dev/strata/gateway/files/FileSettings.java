package dev.strata.gateway.files;

import dev.strata.lake.LakeConfig;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How the gateway takes files: the lake, where uploads arrive, the landing folder, and the bounds.
 *
 * @param lake the lake (its warehouse and catalog)
 * @param spool where uploads arrive before they are whole, when the lake is not a local directory
 * @param landing the landing folder to watch, or null for none
 * @param maxFileBytes the largest upload taken
 * @param workers conversions at once
 * @param queue conversions waiting at most; beyond, uploads get 503
 * @param poll how often the landing folder is listed
 * @param settle how long a landing file must keep its size and time before it is taken
 */
public record FileSettings(
        LakeConfig lake,
        Path spool,
        Path landing,
        long maxFileBytes,
        int workers,
        int queue,
        Duration poll,
        Duration settle) {

    public static final long DEFAULT_MAX_FILE_BYTES = 64L << 30;
    public static final int DEFAULT_WORKERS = 1;
    public static final int DEFAULT_QUEUE = 16;
    public static final String DEFAULT_POLL = "PT1S";
    public static final String DEFAULT_SETTLE = "PT2S";
    public static final String DEFAULT_SPOOL = "data/spool";

    /** Uploads into {@code lake}, the landing folder watched if given, every limit at its default. */
    public static FileSettings of(LakeConfig lake, Path landing) {
        return new FileSettings(
                lake,
                Path.of(DEFAULT_SPOOL).toAbsolutePath(),
                landing,
                DEFAULT_MAX_FILE_BYTES,
                DEFAULT_WORKERS,
                DEFAULT_QUEUE,
                Duration.parse(DEFAULT_POLL),
                Duration.parse(DEFAULT_SETTLE));
    }

    public FileSettings withLimits(long maxFileBytes, int workers, int queue) {
        return new FileSettings(lake, spool, landing, maxFileBytes, workers, queue, poll, settle);
    }

    public FileSettings withTimes(Duration poll, Duration settle) {
        return new FileSettings(lake, spool, landing, maxFileBytes, workers, queue, poll, settle);
    }

    public FileSettings withSpool(Path spool) {
        return new FileSettings(lake, spool, landing, maxFileBytes, workers, queue, poll, settle);
    }

    public FileSettings {
        if (lake == null) {
            throw new IllegalArgumentException("--lake is needed for file uploads");
        }
        if (maxFileBytes < 1 || workers < 1 || queue < 0) {
            throw new IllegalArgumentException("--max-file-bytes and --file-workers must be >= 1, --file-queue >= 0");
        }
    }
}
