package dev.strata.bench;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Events sent to the gateway in the background while a benchmark measures something else: batches
 * of 100 events every 100 ms / (rate / 1000), from {@code sources} sources ({@code dev-0} ...), until
 * stopped.
 */
final class BackgroundIngest implements AutoCloseable {

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong sent = new AtomicLong();
    private final Thread thread;

    private BackgroundIngest(HttpClient http, String gatewayHttp, String token, int rate, int sources) {
        this.thread = new Thread(() -> run(http, gatewayHttp, token, rate, sources), "bench-ingest");
    }

    static BackgroundIngest start(HttpClient http, String gatewayHttp, String token, int rate, int sources) {
        BackgroundIngest ingest = new BackgroundIngest(http, gatewayHttp, token, rate, sources);
        ingest.thread.start();
        return ingest;
    }

    /** Events the gateway has acknowledged so far. */
    long sent() {
        return sent.get();
    }

    private void run(HttpClient http, String gatewayHttp, String token, int rate, int sources) {
        URI uri = URI.create(gatewayHttp + "/v1/events");
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setHost(uri.getHost())
                .setPort(uri.getPort())
                .setURI(uri.getPath())
                .putHeader("Authorization", "Bearer " + token)
                .putHeader("Content-Type", "application/x-ndjson");
        long intervalNanos = TimeUnit.SECONDS.toNanos(1) * 100 / Math.max(1, rate);
        long next = System.nanoTime();
        for (long batch = 0; running.get(); batch++) {
            StringBuilder body = new StringBuilder();
            for (int e = 0; e < 100; e++) {
                body.append(IngestBench.event("s-" + batch + "-" + e, "dev-" + (e % sources)))
                        .append('\n');
            }
            http.request(options)
                    .compose(r -> r.send(Buffer.buffer(body.toString())))
                    .compose(r -> r.body())
                    .onSuccess(b -> sent.addAndGet(100));
            next += intervalNanos;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join(10_000);
    }
}
