package dev.strata.schemas.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/** Ports on this machine: a free one to listen on, or why one cannot be bound. */
public final class LocalPorts {

    private LocalPorts() {}

    /** Whether {@code host} names a loopback address (only this machine reaches it); false if unresolvable. */
    public static boolean loopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    /** A port that was free on loopback a moment ago (another process may take it before it is bound). */
    public static int free() {
        return free(InetAddress.getLoopbackAddress().getHostAddress());
    }

    /**
     * A port that was free on {@code host} a moment ago, chosen at random below the system's
     * ephemeral range where there is room: a port the system hands out itself (port 0) is also what
     * it gives the next outgoing connection of any process, which then holds it when the component
     * meant to listen on it starts.
     */
    public static int free(String host) {
        int below = ephemeralRangeStart();
        if (below > FIRST_CHOSEN + 1_000) {
            for (int attempt = 0; attempt < 100; attempt++) {
                int port = ThreadLocalRandom.current().nextInt(FIRST_CHOSEN, below);
                if (inUse(host, port).isEmpty()) {
                    return port;
                }
            }
        }
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + host, e);
        }
    }

    /** The lowest port {@link #free} chooses at random (above the well-known services'). */
    static final int FIRST_CHOSEN = 10_000;

    /** The first port of the system's ephemeral range (Linux); 49152 (IANA's) where it cannot be read. */
    static int ephemeralRangeStart() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
                    .trim();
            return Integer.parseInt(range.split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 49_152;
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
