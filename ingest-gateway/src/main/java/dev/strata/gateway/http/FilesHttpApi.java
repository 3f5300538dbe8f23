package dev.strata.gateway.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.strata.gateway.auth.Principal;
import dev.strata.gateway.files.FileFormat;
import dev.strata.gateway.files.FileIngest;
import dev.strata.gateway.files.Outcome;
import dev.strata.gateway.metrics.GatewayMetrics;
import dev.strata.schemas.lake.DatasetNames;
import io.vertx.core.Context;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/files/{dataset}}: a CSV ({@code text/csv}, header row first) or NDJSON
 * ({@code application/x-ndjson}) file, streamed to the raw zone as it arrives (never held in
 * memory), then converted; answered with its {@link Outcome} once its rows are in the dataset (201),
 * it was a duplicate (200), or it was refused (409 schema conflict, 422 nothing readable).
 * {@code GET /v1/files/{dataset}[/{upload}]}: the outcomes of its uploads, landing-folder files
 * included.
 */
final class FilesHttpApi {

    private static final Logger LOG = LoggerFactory.getLogger(FilesHttpApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int RETRY_AFTER_BUSY = 5;
    /** Room the lake's disk must keep beyond an upload of known length. */
    static final long DISK_HEADROOM = 64L << 20;
    /** How often, in bytes received, an upload checks the disk's free space. */
    static final long SPACE_CHECK_BYTES = 16L << 20;

    private final HttpAnswers api;
    private final Optional<FileIngest> files;
    private final GatewayMetrics metrics;

    FilesHttpApi(HttpAnswers api, Optional<FileIngest> files, GatewayMetrics metrics) {
        this.api = api;
        this.files = files;
        this.metrics = metrics;
    }

    /** The dataset of the path if the gateway takes files and the token may use it; else answered. */
    private Optional<String> dataset(RoutingContext ctx) {
        if (files.isEmpty()) {
            api.error(ctx, 404, "File uploads are off on this gateway: start it with --lake");
            return Optional.empty();
        }
        String dataset = ctx.pathParam("dataset");
        Optional<String> invalid = DatasetNames.invalid(dataset);
        if (invalid.isPresent()) {
            api.error(ctx, 400, "Dataset '" + dataset + "': " + invalid.get());
            return Optional.empty();
        }
        Principal principal = RequestGate.principal(ctx);
        if (!principal.mayUploadTo(dataset)) {
            api.error(
                    ctx,
                    403,
                    "Token '" + principal.name() + "' may not upload to dataset '" + dataset
                            + "' (its entry in the tokens file lists the datasets it may: datasets: [...])");
            return Optional.empty();
        }
        return Optional.of(dataset);
    }

    void upload(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        request.pause();
        // A refusal before the body is read closes the connection once answered: the body (it may be
        // gigabytes) is never read; a client that waits for 100 Continue never sends it.
        boolean[] reading = {false};
        boolean http2 = request.version() == HttpVersion.HTTP_2;
        if (!http2) {
            ctx.response().putHeader("Connection", "close");
        }
        ctx.response().endHandler(v -> {
            if (!reading[0]) {
                stopReading(ctx);
            }
        });
        Optional<String> maybeDataset = dataset(ctx);
        if (maybeDataset.isEmpty()) {
            metrics.file("http", Outcome.Status.REFUSED.json(), "not_allowed");
            return;
        }
        String dataset = maybeDataset.get();
        FileIngest ingest = files.get();
        Optional<FileFormat> format = FileFormat.ofContentType(request.getHeader("Content-Type"));
        if (format.isEmpty()) {
            metrics.file("http", Outcome.Status.REFUSED.json(), "unsupported");
            api.error(
                    ctx,
                    415,
                    "Unsupported Content-Type '" + request.getHeader("Content-Type")
                            + "': send text/csv (a header row, then one row a line) or application/x-ndjson (one JSON object a line)");
            return;
        }
        long max = ingest.settings().maxFileBytes();
        long length = contentLength(request);
        if (length > max) {
            metrics.file("http", Outcome.Status.REFUSED.json(), "too_large");
            api.error(ctx, 413, "File of " + length + " bytes is larger than the limit of " + max + " bytes");
            return;
        }
        Path spool;
        try {
            spool = ingest.spool(dataset);
        } catch (IOException e) {
            api.error(ctx, 500, "Cannot create the upload spool: " + e.getMessage());
            return;
        }
        try {
            long usable = Files.getFileStore(spool).getUsableSpace();
            if (length > 0 && usable < 2 * length + DISK_HEADROOM) {
                metrics.file("http", Outcome.Status.REFUSED.json(), "no_space");
                api.error(
                        ctx,
                        507,
                        "The disk uploads arrive on (" + spool + ") has " + usable + " bytes free; a file of " + length
                                + " bytes needs about twice that (the original and its Parquet)");
                return;
            }
        } catch (IOException e) {
            LOG.warn("Cannot read the free space of {}: {}", spool, e.toString());
        }
        // The conversion slot is taken once the whole body is here (a slow sender holds none); a full
        // queue is answered now, before the body is read.
        if (!ingest.hasRoom()) {
            busy(ctx);
            return;
        }
        long received = System.currentTimeMillis();
        String id = ingest.newId();
        Path partial;
        try {
            partial = ingest.partialFile(dataset, id, format.get());
        } catch (IOException e) {
            api.error(ctx, 500, "Cannot create the upload's file: " + e.getMessage());
            return;
        }
        Context context = ctx.vertx().getOrCreateContext();
        reading[0] = true;
        if (!http2) {
            ctx.response().headers().remove("Connection");
        }
        ctx.vertx()
                .fileSystem()
                .open(partial.toString(), new OpenOptions().setWrite(true).setCreateNew(true))
                .onFailure(e -> refuseAndClose(
                        ctx, noSpace(e) ? 507 : 500, "Cannot create the upload's file: " + e.getMessage()))
                .onSuccess(file -> new UploadReceiver(
                                this,
                                ctx,
                                context,
                                new UploadReceiver.Target(ingest, dataset, id, format.get(), partial, spool),
                                file,
                                max,
                                received)
                        .start());
    }

    /** Counts an upload refused for {@code reason}. */
    void refused(String reason) {
        metrics.file("http", Outcome.Status.REFUSED.json(), reason);
    }

    HttpAnswers answers() {
        return api;
    }

    /** Answers that the conversion queue is full: 503 with Retry-After. */
    void busy(RoutingContext ctx) {
        refused("busy");
        ctx.response().putHeader("Retry-After", Integer.toString(RETRY_AFTER_BUSY));
        api.error(ctx, 503, "Too many files waiting for conversion; retry after " + RETRY_AFTER_BUSY + " s");
    }

    /** Whether a failed write ran out of disk (ENOSPC). */
    static boolean noSpace(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (String.valueOf(t.getMessage()).contains("No space left")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Answers without reading the rest of the body: the connection is closed once the answer is
     * out (a client that waits for 100 Continue never sends the body).
     */
    void refuseAndClose(RoutingContext ctx, int status, String message) {
        if (ctx.request().version() != HttpVersion.HTTP_2) {
            ctx.response().putHeader("Connection", "close");
        }
        ctx.response().endHandler(v -> stopReading(ctx));
        api.error(ctx, status, message);
    }

    /**
     * Ends a request whose body is not wanted, after its answer: HTTP/2 resets just the stream with
     * NO_ERROR (RFC 9113 §8.1), its connection's other streams go on. HTTP/1.1 closes the connection
     * once the body has ended, or after {@link #LINGER_MILLIS} of reading and dropping what still
     * arrives (a lingering close, as web servers do): closed at once, the body's next bytes would
     * make the kernel reset the connection, and a reset can discard the answer before the client
     * has read it.
     */
    private static void stopReading(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        if (request.version() == HttpVersion.HTTP_2) {
            ctx.response().reset(0);
            return;
        }
        if (request.isEnded()) {
            request.connection().close();
            return;
        }
        long linger =
                ctx.vertx().setTimer(LINGER_MILLIS, t -> request.connection().close());
        request.handler(dropped -> {});
        request.endHandler(v -> {
            ctx.vertx().cancelTimer(linger);
            request.connection().close();
        });
        request.resume();
    }

    /** How long a refused HTTP/1.1 body is read and dropped at most before its connection closes. */
    static final long LINGER_MILLIS = 2_000;

    void list(RoutingContext ctx) {
        Optional<String> dataset = dataset(ctx);
        if (dataset.isEmpty()) {
            return;
        }
        ctx.vertx()
                .executeBlocking(() -> files.get().outcomes(dataset.get(), 100))
                .onComplete(ar -> {
                    if (ar.failed()) {
                        api.error(
                                ctx,
                                500,
                                "Cannot read the uploads of '" + dataset.get() + "': "
                                        + ar.cause().getMessage());
                        return;
                    }
                    ObjectNode body = JSON.createObjectNode().put("dataset", dataset.get());
                    ArrayNode uploads = body.putArray("uploads");
                    List<Outcome> outcomes = ar.result();
                    outcomes.forEach(o -> uploads.add(JSON.valueToTree(o)));
                    api.json(ctx, 200, body);
                });
    }

    void get(RoutingContext ctx) {
        Optional<String> dataset = dataset(ctx);
        if (dataset.isEmpty()) {
            return;
        }
        String upload = ctx.pathParam("upload");
        if (!upload.matches("[0-9]{8}T[0-9]{9}Z-[0-9a-f]{8}")) {
            api.error(ctx, 404, "No upload '" + upload + "' in dataset '" + dataset.get() + "'");
            return;
        }
        ctx.vertx()
                .executeBlocking(() -> files.get().outcome(dataset.get(), upload))
                .onComplete(ar -> {
                    if (ar.failed()) {
                        api.error(ctx, 500, String.valueOf(ar.cause().getMessage()));
                    } else if (ar.result().isEmpty()) {
                        api.error(
                                ctx,
                                404,
                                "No outcome for upload '" + upload + "' in dataset '" + dataset.get()
                                        + "' (unknown, or still converting)");
                    } else {
                        api.json(ctx, 200, JSON.valueToTree(ar.result().get()));
                    }
                });
    }

    private static long contentLength(HttpServerRequest request) {
        String header = request.getHeader("Content-Length");
        try {
            return header == null ? -1 : Long.parseLong(header.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
