package dev.strata.gateway.files;

import dev.strata.gateway.metrics.GatewayMetrics;
import dev.strata.lake.Lake;
import dev.strata.lake.LakeFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Uploaded files: each arrives in a local spool (on a local lake, hidden in the raw zone itself),
 * then is put whole into the lake's raw zone ({@code raw/{dataset}/{upload}.{csv|ndjson}}, through
 * {@link LakeFiles}: a local directory or an object store), converted on worker threads
 * ({@link FileConverter}) into the dataset's Iceberg table, one conversion of a dataset at a time in
 * this process (other processes on the same lake are safe by the table's commit), each outcome
 * written beside its original ({@code {upload}.json}). Also takes the landing folder's files
 * ({@link LandingFolder}) and, at start, converts originals a crash left without an outcome.
 */
public final class FileIngest implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FileIngest.class);
    private static final DateTimeFormatter ID_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC);

    private final FileSettings settings;
    private final Lake lake;
    private final LakeFiles files;
    private final RawOutcomes outcomes;
    private final GatewayMetrics metrics;
    private final Clock clock;
    private final FileConverter converter;
    private final ExecutorService workers;
    /** Makes uploads durable beside their conversion. */
    private final ExecutorService syncer;

    private final Semaphore slots;
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    private final ScheduledExecutorService watcher;
    private final LandingFolder landing;

    public FileIngest(FileSettings settings, GatewayMetrics metrics, Clock clock) {
        this.settings = settings;
        this.lake = Lake.open(settings.lake());
        this.files = lake.files();
        this.outcomes = new RawOutcomes(files);
        this.metrics = metrics;
        this.clock = clock;
        this.converter = new FileConverter(lake, clock);
        this.workers = Executors.newFixedThreadPool(settings.workers(), r -> new Thread(r, "file-converter"));
        this.syncer = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "upload-sync");
            t.setDaemon(true);
            return t;
        });
        this.slots = new Semaphore(settings.workers() + settings.queue());
        this.watcher = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "landing-watcher"));
        this.landing = settings.landing() == null
                ? null
                : new LandingFolder(
                        settings.landing(), settings.settle(), clock, metrics, files, this::newId, this::takeLanding);
    }

    public FileSettings settings() {
        return settings;
    }

    /** Converts what a crash left unconverted, then starts watching the landing folder. */
    public void start() throws IOException {
        watcher.execute(() -> {
            try {
                recover();
            } catch (IOException | RuntimeException e) {
                LOG.error("Looking for unconverted originals in {} failed", files.location(RAW), e);
            }
        });
        if (settings.landing() != null) {
            Files.createDirectories(settings.landing());
            watcher.scheduleWithFixedDelay(landing::poll, 0, settings.poll().toMillis(), TimeUnit.MILLISECONDS);
            LOG.info("Watching {} for files (taken when unchanged for {})", settings.landing(), settings.settle());
        }
    }

    /** A new upload id: the time received, then random hex (sorts by arrival). */
    public String newId() {
        return ID_TIME.format(Instant.ofEpochMilli(clock.millis())) + "-"
                + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    }

    static final String RAW = "raw";

    /**
     * Where uploads arrive before they are whole: on a local lake its raw zone (an upload is then
     * renamed into place), else the spool.
     */
    public Path spool(String dataset) throws IOException {
        Path dir = files.localRoot()
                .map(root -> root.resolve(RAW))
                .orElse(settings.spool())
                .resolve(dataset);
        Files.createDirectories(dir);
        return dir;
    }

    /** Where an upload's bytes go while they arrive (put into the raw zone once whole). */
    public Path partialFile(String dataset, String id, FileFormat format) throws IOException {
        return spool(dataset).resolve("." + id + "." + format.extension() + ".partial");
    }

    /** The lake's description, for messages. */
    public String lakeDescription() {
        return settings.lake().describe();
    }

    /** Whether a conversion could be taken now (uploads check before they read a body). */
    public boolean hasRoom() {
        return slots.availablePermits() > 0;
    }

    /** A place for one more conversion, or false when workers and queue are full (503). */
    public boolean tryReserve() {
        return slots.tryAcquire();
    }

    public void release() {
        slots.release();
    }

    /**
     * Renames a whole partial upload to its original and converts it (the caller reserved a slot).
     */
    public CompletableFuture<Outcome> convertUpload(
            String dataset,
            String id,
            FileFormat format,
            Path partial,
            long bytes,
            String sha256,
            long receivedMillis) {
        String original = RAW + "/" + dataset + "/" + id + "." + format.extension();
        // Into the raw zone on the worker, not the caller's thread: on object storage this is the
        // whole file's upload, which would hold an HTTP event loop (and its other clients) meanwhile.
        return submit(new Upload(id, dataset, format, "http", files, original, bytes, sha256, receivedMillis), () -> {
            try {
                files.put(partial, original);
            } catch (IOException e) {
                Files.deleteIfExists(partial);
                throw new NotKept(
                        "keeping upload " + id + " in the raw zone failed (" + e
                                + "); nothing was kept: send it again later",
                        e);
            }
            // Synced while it converts; the answer waits for both (the sync of 1 GiB before the
            // conversion was a tenth of the upload's time).
            return CompletableFuture.runAsync(
                    () -> {
                        try {
                            files.sync(original);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    },
                    syncer);
        });
    }

    /** Something done on the worker before the conversion; the conversion's answer also waits for what it returns. */
    private interface Step {
        CompletableFuture<Void> run() throws IOException;
    }

    /** An upload that could not be kept in the raw zone, with what that means for the client. */
    public static final class NotKept extends IOException {
        private static final long serialVersionUID = 1L;

        NotKept(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private CompletableFuture<Outcome> submit(Upload upload) {
        return submit(upload, () -> CompletableFuture.completedFuture(null));
    }

    private CompletableFuture<Outcome> submit(Upload upload, Step first) {
        CompletableFuture<Outcome> result = new CompletableFuture<>();
        try {
            workers.execute(() -> {
                try {
                    CompletableFuture<Void> durable = first.run();
                    Outcome outcome = convertLocked(upload);
                    if (outcome.status() != Outcome.Status.ADDED) {
                        // A duplicate's bytes are in the lake already, a refused file's were never
                        // taken: no copy is kept (its outcome says what it was: size, hash, reason).
                        // Deleted once its sync has ended (which would fail on a missing file), outside
                        // the dataset's lock; only a kept original's failed sync is an error.
                        durable.exceptionally(e -> null).join();
                        files.delete(upload.original());
                        result.complete(outcome);
                        return;
                    }
                    try {
                        durable.join();
                    } catch (CompletionException e) {
                        throw new NotKept(
                                "upload " + upload.id() + " was converted, but its original could not be written to"
                                        + " the disk (" + e.getCause() + "): send it again later",
                                e.getCause());
                    }
                    result.complete(outcome);
                } catch (NotKept e) {
                    LOG.error("Upload {} not kept", upload.original(), e);
                    metrics.file(sourceTag(upload), Outcome.Status.REFUSED.json(), "write_failed");
                    result.completeExceptionally(e);
                } catch (Throwable e) {
                    LOG.error("Converting {} failed; it is converted again at the next start", upload.original(), e);
                    metrics.file(sourceTag(upload), Outcome.Status.REFUSED.json(), "error");
                    result.completeExceptionally(e);
                } finally {
                    slots.release();
                }
            });
        } catch (RuntimeException e) {
            slots.release();
            result.completeExceptionally(e);
        }
        return result;
    }

    /** Converts under the dataset's lock and writes the outcome beside the original. */
    private Outcome convertLocked(Upload upload) throws IOException {
        ReentrantLock lock = locks.computeIfAbsent(upload.dataset(), d -> new ReentrantLock());
        lock.lock();
        try {
            long started = System.nanoTime();
            Outcome outcome = converter.convert(upload);
            boolean kept = outcome.status() == Outcome.Status.ADDED;
            if (!kept) {
                outcome = outcome.withoutOriginal();
            }
            outcomes.write(upload.dataset(), upload.id(), outcome);
            metrics.file(sourceTag(upload), outcome.status().json(), reason(outcome));
            if (outcome.added() != null) {
                metrics.fileRows("written", outcome.rowsWritten());
                metrics.fileRows("rejected", outcome.rowsRejected());
            }
            LOG.info(
                    "{} {} ({}, {} bytes) in {} ms: {}",
                    outcome.status().json(),
                    upload.original(),
                    upload.source(),
                    upload.bytes(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
                    outcome.message());
            return outcome;
        } finally {
            lock.unlock();
        }
    }

    private static String reason(Outcome outcome) {
        return switch (outcome.httpStatus()) {
            case 409 -> "conflict";
            case 422 -> "unreadable";
            default ->
                outcome.status() == Outcome.Status.ADDED
                        ? (outcome.rowsRejected() > 0 ? "some_rows_rejected" : "ok")
                        : outcome.status().json();
        };
    }

    private static String sourceTag(Upload upload) {
        int colon = upload.source().indexOf(':');
        return colon < 0 ? upload.source() : upload.source().substring(0, colon);
    }

    /** The outcome of one upload, if it has one yet. */
    public Optional<Outcome> outcome(String dataset, String id) throws IOException {
        return outcomes.read(dataset, id);
    }

    /** The outcomes of a dataset's uploads, newest first. */
    public List<Outcome> outcomes(String dataset, int limit) throws IOException {
        return outcomes.list(dataset, limit);
    }

    /** Originals without an outcome (a crash during their conversion) are converted again. */
    private void recover() throws IOException {
        for (String dataset : files.directories(RAW)) {
            Set<String> names = new HashSet<>();
            List<LakeFiles.Entry> entries = files.list(RAW + "/" + dataset);
            entries.forEach(e -> names.add(e.name()));
            for (LakeFiles.Entry e : entries) {
                String name = e.name();
                if (name.endsWith(".partial") && e.modifiedMillis() < clock.millis() - 60_000) {
                    LOG.warn("Deleting {}: an upload that never completed (its client got no answer)", name);
                    files.delete(RAW + "/" + dataset + "/" + name);
                    continue;
                }
                Optional<FileFormat> format = FileFormat.ofFileName(name);
                int dot = name.indexOf('.');
                if (name.startsWith(".")
                        || format.isEmpty()
                        || dot < 0
                        || names.contains(name.substring(0, dot) + ".json")) {
                    continue;
                }
                LOG.info("Converting {} again: a stop interrupted its conversion", name);
                slots.acquireUninterruptibly();
                submit(Upload.read(
                        files,
                        name.substring(0, dot),
                        dataset,
                        format.get(),
                        "recovered",
                        RAW + "/" + dataset + "/" + name,
                        e.modifiedMillis()));
            }
        }
        if (files.localRoot().isEmpty() && Files.isDirectory(settings.spool())) {
            // Uploads into an object store that never completed: their spool files.
            try (var spooled = Files.walk(settings.spool())) {
                for (Path f : spooled.filter(p -> p.getFileName().toString().endsWith(".partial"))
                        .toList()) {
                    if (Files.getLastModifiedTime(f).toMillis() < clock.millis() - 60_000) {
                        Files.deleteIfExists(f);
                    }
                }
            }
        }
    }

    /** Takes a settled landing file into the raw zone and converts it; false if there is no room now. */
    private boolean takeLanding(String dataset, Path file, FileFormat format) throws IOException {
        if (!slots.tryAcquire()) {
            return false;
        }
        String name = file.getFileName().toString();
        String id = newId();
        String original = RAW + "/" + dataset + "/" + id + "." + format.extension()
                + (name.toLowerCase(Locale.ROOT).endsWith(".gz") ? ".gz" : "");
        try {
            files.put(file, original);
            submit(Upload.read(files, id, dataset, format, "landing:" + name, original, clock.millis()));
            return true;
        } catch (IOException | RuntimeException e) {
            slots.release();
            throw e;
        }
    }

    @Override
    public void close() {
        watcher.shutdownNow();
        syncer.shutdown();
        workers.shutdown();
        try {
            if (!workers.awaitTermination(60, TimeUnit.SECONDS)) {
                LOG.warn("Conversions still running at stop; they are converted again at the next start");
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            lake.close();
        } catch (IOException e) {
            LOG.warn("Closing the lake: {}", e.toString());
        }
    }
}
