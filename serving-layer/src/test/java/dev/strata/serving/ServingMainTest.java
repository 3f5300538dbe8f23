package dev.strata.serving;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The serving layer never opens its API to the network by accident. */
class ServingMainTest {

    @Test
    void anOpenApiOnANonLoopbackAddressIsRefusedUnlessMeantToBePublic() {
        assertThat(ServingMain.exposedWithoutTokens("127.0.0.1", false, false)).isEmpty();
        assertThat(ServingMain.exposedWithoutTokens("localhost", false, false)).isEmpty();
        assertThat(ServingMain.exposedWithoutTokens("0.0.0.0", true, false))
                .as("with tokens")
                .isEmpty();
        assertThat(ServingMain.exposedWithoutTokens("0.0.0.0", false, true))
                .as("--public")
                .isEmpty();
        assertThat(ServingMain.exposedWithoutTokens("0.0.0.0", false, false))
                .hasValueSatisfying(reason -> assertThat(reason)
                        .startsWith("refusing to answer /v1 without --read-tokens on 0.0.0.0, which is not a loopback"
                                + " address"));
    }

    @Test
    void theCommandExitsWithTheReasonBeforeStartingAnything() {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = new CommandLine(new ServingMain())
                    .execute("--host", "0.0.0.0", "--bootstrap-servers", "127.0.0.1:1", "--lake", "target/never");
        } finally {
            System.setErr(err);
        }
        assertThat(code).isEqualTo(2);
        assertThat(captured.toString(StandardCharsets.UTF_8))
                .contains("strata serving: refusing to answer /v1 without --read-tokens on 0.0.0.0");
    }
}
