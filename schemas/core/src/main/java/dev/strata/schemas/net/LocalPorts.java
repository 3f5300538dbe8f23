package dev.strata.schemas.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Optional;

/** Ports on this machine: a free one to listen on, or why one cannot be bound. */
public final class LocalPorts {

    private LocalPorts() {}

    /** A port that was free on loopback a moment ago (another process may take it before it is bound). */
    public static int free() {
        return free(InetAddress.getLoopbackAddress().getHostAddress());
    }

    /** A port that was free on {@code host} a moment ago. */
    public static int free(String host) {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + host, e);
        }
    }

    /** Empty if {@code host:port} can be bound now, else why not. */
    public static Optional<String> inUse(String host, int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName(host), port));
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        }
    }
}
