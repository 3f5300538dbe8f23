package dev.strata.schemas.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounds on what an HTTP client may hold, for the gateway, the serving layer and the registry:
 * Vert.x has no timeout for a request's headers or for a body trickled byte by byte, so a client
 * that opens connections and never finishes a request would hold sockets and memory for ever.
 *
 * <ul>
 *   <li>a connection that has not sent a whole request head within {@code headers} is closed;
 *   <li>a connection idle between requests for longer than {@code idle} is closed;
 *   <li>a request body arriving slower than {@code minBodyBytesPerSecond} over any {@code
 *       bodyWindow} is answered 408 naming the limit and its connection closed;
 *   <li>past {@code maxConnections} open connections a new one is closed at once.
 * </ul>
 *
 * Checked by one periodic sweep per server (every quarter of the shortest limit, at most a second),
 * not a timer per connection.
 */
public final class HttpGuard {

    /** The bounds. */
    public record Limits(
            Duration headers, Duration idle, long minBodyBytesPerSecond, Duration bodyWindow, int maxConnections) {

        public static final Limits DEFAULTS =
                new Limits(Duration.ofSeconds(10), Duration.ofSeconds(120), 1024, Duration.ofSeconds(10), 10_000);
    }

    /** What the guard did, for metrics. */
    public static final class Counts {
        public final AtomicLong headerTimeouts = new AtomicLong();
        public final AtomicLong idleTimeouts = new AtomicLong();
        public final AtomicLong slowBodies = new AtomicLong();
        public final AtomicLong refusedConnections = new AtomicLong();
        public final AtomicInteger open = new AtomicInteger();
    }

    private final Limits limits;
    private final Counts counts = new Counts();

    public HttpGuard(Limits limits) {
        this.limits = limits;
    }

    public Counts counts() {
        return counts;
    }

    public Limits limits() {
        return limits;
    }

    /** A connection's requests not yet answered, and since when it has had none. */
    private static final class Conn {
        final HttpConnection connection;
        final List<Req> requests = new ArrayList<>();
        long idleSinceNanos;
        boolean servedOne;

        Conn(HttpConnection connection, long now) {
            this.connection = connection;
            this.idleSinceNanos = now;
        }
    }

    private static final class Req {
        final HttpServerRequest request;
        long windowStartNanos;
        long windowStartBytes;

        Req(HttpServerRequest request, long now) {
            this.request = request;
            this.windowStartNanos = now;
            this.windowStartBytes = request.bytesRead();
        }
    }

    /**
     * A server with {@code options} whose connections and requests pass through the guard, then
     * reach {@code app}; listen on it. Call on the context the server runs on. HTTP/2 without TLS
     * (h2c) is off: to tell it from HTTP/1.1 Vert.x waits for a whole request head before a
     * connection exists for the guard, which is the wait a slow client exploits (HTTP/2 over TLS
     * stays available through ALPN).
     */
    public HttpServer create(Vertx vertx, HttpServerOptions options, Handler<HttpServerRequest> app) {
        HttpServer server = vertx.createHttpServer(new HttpServerOptions(options).setHttp2ClearTextEnabled(false));
        Map<HttpConnection, Conn> connections = new ConcurrentHashMap<>();
        long shortest =
                Math.min(limits.headers().toMillis(), limits.bodyWindow().toMillis());
        long period = Math.max(10, Math.min(1_000, shortest / 4));
        vertx.setPeriodic(period, id -> sweep(connections));
        server.connectionHandler(connection -> {
            if (counts.open.incrementAndGet() > limits.maxConnections()) {
                counts.open.decrementAndGet();
                counts.refusedConnections.incrementAndGet();
                connection.close();
                return;
            }
            connections.put(connection, new Conn(connection, System.nanoTime()));
            connection.closeHandler(v -> {
                if (connections.remove(connection) != null) {
                    counts.open.decrementAndGet();
                }
            });
        });
        server.requestHandler(request -> {
            Conn conn = connections.get(request.connection());
            if (conn != null) {
                synchronized (conn) {
                    conn.requests.add(new Req(request, System.nanoTime()));
                }
            }
            app.handle(request);
        });
        server.exceptionHandler(e -> {
            // A client's broken connection: nothing to answer.
        });
        return server;
    }

    private void sweep(Map<HttpConnection, Conn> connections) {
        long now = System.nanoTime();
        for (Conn conn : connections.values()) {
            boolean close = false;
            synchronized (conn) {
                for (var it = conn.requests.iterator(); it.hasNext(); ) {
                    Req req = it.next();
                    HttpServerResponse response = req.request.response();
                    if (response.ended() || response.closed()) {
                        it.remove();
                        conn.servedOne = true;
                        if (conn.requests.isEmpty()) {
                            conn.idleSinceNanos = now;
                        }
                        continue;
                    }
                    if (req.request.isEnded()) {
                        continue; // the body is in: the application answers in its own time
                    }
                    long elapsed = now - req.windowStartNanos;
                    if (elapsed >= limits.bodyWindow().toNanos()) {
                        long bytes = req.request.bytesRead() - req.windowStartBytes;
                        long needed = limits.minBodyBytesPerSecond() * elapsed / 1_000_000_000L;
                        if (bytes < needed) {
                            counts.slowBodies.incrementAndGet();
                            if (!response.headWritten()) {
                                String message =
                                        "{\"error_code\":408,\"message\":\"the request body arrived slower than "
                                                + limits.minBodyBytesPerSecond() + " bytes/s over "
                                                + limits.bodyWindow()
                                                + "; the connection is closed\"}";
                                response.setStatusCode(408)
                                        .putHeader("Content-Type", "application/json")
                                        .putHeader("Connection", "close")
                                        .end(message);
                            }
                            close = true;
                            break;
                        }
                        req.windowStartNanos = now;
                        req.windowStartBytes = req.request.bytesRead();
                    }
                }
                if (!close && conn.requests.isEmpty()) {
                    long idle = now - conn.idleSinceNanos;
                    if (!conn.servedOne && idle > limits.headers().toNanos()) {
                        counts.headerTimeouts.incrementAndGet();
                        close = true;
                    } else if (conn.servedOne && idle > limits.idle().toNanos()) {
                        counts.idleTimeouts.incrementAndGet();
                        close = true;
                    }
                }
            }
            if (close) {
                conn.connection.close();
            }
        }
    }
}
