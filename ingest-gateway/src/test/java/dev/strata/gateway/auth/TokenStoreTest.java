package dev.strata.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.schemas.auth.TokenFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenStoreTest {

    @TempDir
    Path dir;

    @Test
    void authenticatesByHashAndKeepsOnlyTheHashOnDisk() throws Exception {
        String token = TokenFile.generateToken();
        Path file = dir.resolve("tokens.yaml");
        TokenFile.write(file, Map.of("plant", new TokenFile.Grant(token, List.of("plant-3/*"), List.of())));

        TokenStore store = TokenStore.load(file);

        assertThat(Files.readString(file)).doesNotContain(token).contains(TokenFile.sha256(token));
        Principal principal = store.authenticate(token).orElseThrow();
        assertThat(principal.name()).isEqualTo("plant");
        assertThat(principal.mayPublishAs("plant-3/dev-1")).isTrue();
        assertThat(principal.mayPublishAs("plant-4/dev-1")).isFalse();
        assertThat(store.authenticate(token + "x")).isEmpty();
        assertThat(store.authenticate(null)).isEmpty();
    }

    @Test
    void aBadEntryFailsLoadingWithItsName() throws IOException {
        Path file = dir.resolve("tokens.yaml");
        Files.writeString(file, "tokens:\n  - name: broken\n    sha256: abc\n    sources: [\"*\"]\n");

        assertThatThrownBy(() -> TokenStore.load(file))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("token 'broken' needs sha256");
    }

    @Test
    void aTokenThatMayPublishAsNoSourceFailsLoading() throws IOException {
        Path file = dir.resolve("tokens.yaml");
        Files.writeString(file, "tokens:\n  - name: readers\n    sha256: " + "a".repeat(64) + "\n");

        assertThatThrownBy(() -> TokenStore.load(file))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("token 'readers' allows no sources");
    }
}
