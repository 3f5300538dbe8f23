package dev.strata.schemas.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class LocalPortsTest {

    @Test
    void aFreePortCanBeBoundAndLiesOutsideTheEphemeralRangeWhereThereIsRoom() throws Exception {
        int port = LocalPorts.free();

        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            assertThat(socket.getLocalPort()).isEqualTo(port);
            assertThat(LocalPorts.inUse("127.0.0.1", port)).isPresent();
        }
        if (LocalPorts.ephemeralRangeStart() > LocalPorts.FIRST_CHOSEN + 1_000) {
            assertThat(port).isBetween(LocalPorts.FIRST_CHOSEN, LocalPorts.ephemeralRangeStart() - 1);
        }
    }
}
