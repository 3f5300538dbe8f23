package dev.strata.gateway.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.gateway.files.FileFormat;
import dev.strata.gateway.files.FileIngest;
import dev.strata.gateway.files.Upload;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One upload's body, streamed to its file, pausing the request while the disk catches up. The body
 * is counted as it is written (decompressed, whatever its Content-Length said, chunked or not)
 * against the limit, and the disk's free space is checked every
 * {@link FilesHttpApi#SPACE_CHECK_BYTES}: past either, or when a write fails, the upload stops, its
 * file is deleted and the client is answered (413, 507, 500), so a truncated file is never
 * converted. Once the whole body is written, the upload takes a conversion slot and is converted;
 * the client is answered with its outcome. All its handlers run on the request's event loop.
 */
final class UploadReceiver {

    private static final Logger LOG = LoggerFactory.getLogger(UploadReceiver.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where an upload goes and what it is. */
    record Target(FileIngest ingest, String dataset, String id, FileFormat format, Path partial, Path spool) {}

    private final FilesHttpApi api;
    private final RoutingContext ctx;
    private final Context context;
    private final Target target;
    private final AsyncFile file;
    private final long max;
    private final long receivedMillis;
    private final MessageDigest digest = Upload.digest();

    private long bytes;
    private long nextSpaceCheck = FilesHttpApi.SPACE_CHECK_BYTES;
    /** Refused or aborted: the upload's file is gone. */
    private boolean over;
    /** The whole body arrived. */
    private boolean ended;
    /** The first failed write: a truncated file is never converted. */
    private Throwable writeFailure;

    UploadReceiver(
            FilesHttpApi api,
            RoutingContext ctx,
            Context context,
            Target target,
            AsyncFile file,
            long max,
            long receivedMillis) {
        this.api = api;
        this.ctx = ctx;
        this.context = context;
        this.target = target;
        this.file = file;
        this.max = max;
        this.receivedMillis = receivedMillis;
    }

    /** Starts reading the body (sends 100 Continue if the client waits for it). */
    void start() {
        HttpServerRequest request = ctx.request();
        file.exceptionHandler(this::writeFailed);
        request.handler(this::chunk);
        request.exceptionHandler(this::aborted);
        request.endHandler(v -> ended());
        if ("100-continue".equalsIgnoreCase(request.getHeader("Expect"))) {
            request.response().writeContinue(); // the checks passed: now the client sends the body
        }
        request.resume();
    }

    private void chunk(Buffer chunk) {
        if (over) {
            return;
        }
        bytes += chunk.length();
        if (bytes > max) {
            stop(
                    "too_large",
                    "File larger than the limit of " + max + " bytes (--max-file-bytes, counted after decompression)");
            return;
        }
        if (bytes >= nextSpaceCheck) {
            nextSpaceCheck = bytes + FilesHttpApi.SPACE_CHECK_BYTES;
            long usable = usableSpace(target.spool());
            if (usable < bytes + FilesHttpApi.DISK_HEADROOM) {
                stop(
                        "no_space",
                        "The disk uploads arrive on has " + usable + " bytes free after " + bytes
                                + " bytes of this upload: its Parquet needs about as much again, and "
                                + FilesHttpApi.DISK_HEADROOM + " bytes stay free; nothing was kept");
                return;
            }
        }
        digest.update(chunk.getBytes());
        file.write(chunk).onFailure(this::writeFailed);
        if (file.writeQueueFull()) {
            ctx.request().pause();
            file.drainHandler(v -> ctx.request().resume());
        }
    }

    /** Stops the upload: its file deleted, the client answered and its connection closed. */
    private void stop(String reason, String message) {
        over = true;
        abandon();
        api.refused(reason);
        api.refuseAndClose(ctx, reason.equals("too_large") ? 413 : reason.equals("no_space") ? 507 : 500, message);
    }

    private void abandon() {
        file.close()
                .onComplete(ignored ->
                        ctx.vertx().fileSystem().delete(target.partial().toString()));
    }

    private void writeFailed(Throwable e) {
        if (writeFailure == null) {
            writeFailure = e;
        }
        if (!over && !ended) {
            LOG.warn(
                    "Upload {} to {}: writing failed after {} bytes: {}",
                    target.id(),
                    target.dataset(),
                    bytes,
                    e.toString());
            boolean full = FilesHttpApi.noSpace(e);
            stop(
                    full ? "no_space" : "write_failed",
                    (full ? "The disk uploads arrive on is full" : "Writing the upload failed") + " after " + bytes
                            + " bytes (" + e.getMessage() + "); nothing was kept: send it again later");
        }
    }

    private void aborted(Throwable e) {
        if (!over && !ended) {
            over = true;
            abandon();
            api.refused("aborted");
            LOG.info("Upload {} to {} aborted after {} bytes: {}", target.id(), target.dataset(), bytes, e.toString());
        }
    }

    private void ended() {
        if (over) {
            return;
        }
        ended = true;
        file.close().onComplete(closed -> {
            if (over) {
                return;
            }
            Throwable failure = closed.failed() ? closed.cause() : writeFailure;
            if (failure != null) {
                ctx.vertx().fileSystem().delete(target.partial().toString());
                boolean full = FilesHttpApi.noSpace(failure);
                api.refused(full ? "no_space" : "write_failed");
                api.answers()
                        .error(
                                ctx,
                                full ? 507 : 500,
                                (full ? "The disk uploads arrive on is full" : "Cannot write the upload") + " ("
                                        + failure.getMessage() + "); nothing was kept: send it again later");
                return;
            }
            if (!target.ingest().tryReserve()) {
                ctx.vertx().fileSystem().delete(target.partial().toString());
                api.busy(ctx);
                return;
            }
            convert();
        });
    }

    /** Converts the whole upload (its conversion slot taken) and answers with the outcome. */
    private void convert() {
        String sha256 = HexFormat.of().formatHex(digest.digest());
        String dataset = target.dataset();
        String id = target.id();
        target.ingest()
                .convertUpload(dataset, id, target.format(), target.partial(), bytes, sha256, receivedMillis)
                .whenComplete((outcome, e) -> context.runOnContext(x -> {
                    if (e instanceof FileIngest.NotKept notKept) {
                        api.answers().error(ctx, 500, "Cannot keep the upload: " + notKept.getMessage());
                        return;
                    }
                    if (e != null) {
                        api.answers()
                                .error(
                                        ctx,
                                        500,
                                        "Converting upload " + id + " failed: " + e + "; it is converted again at the"
                                                + " gateway's next start (GET /v1/files/" + dataset + "/" + id + ")");
                        return;
                    }
                    if (outcome.httpStatus() == 201) {
                        ctx.response().putHeader("Location", "/v1/files/" + dataset + "/" + id);
                    }
                    api.answers().json(ctx, outcome.httpStatus(), JSON.valueToTree(outcome));
                }));
    }

    private static long usableSpace(Path dir) {
        try {
            return Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            return Long.MAX_VALUE; // unknown: the write itself fails if the disk is full
        }
    }
}
