package dev.strata.gateway.auth;

import dev.strata.schemas.auth.TokenFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The gateway's tokens: a {@link TokenFile} (hashes only) whose entries name the sources each
 * token may publish as and the datasets it may upload files to. A pattern is a name, {@code *}
 * (any), or a prefix ending in {@code *} ({@code plant-3/*}).
 */
public final class TokenStore {

    private final TokenFile file;

    private TokenStore(TokenFile file) {
        this.file = file;
    }

    /** Loads and checks a tokens file; a bad file fails with a message naming the entry. */
    public static TokenStore load(Path path) throws IOException {
        TokenFile file = TokenFile.load(path);
        for (TokenFile.Entry entry : file.entries()) {
            if (entry.sources().isEmpty()) {
                throw new IOException("tokens file " + path + ": token '" + entry.name()
                        + "' allows no sources (sources: [\"name\", \"prefix*\", \"*\"])");
            }
        }
        return new TokenStore(file);
    }

    /** The principal of {@code token}, if it is one of ours. */
    public Optional<Principal> authenticate(String token) {
        return file.lookup(token).map(e -> new Principal(e.name(), e.sources(), e.datasets()));
    }
}
