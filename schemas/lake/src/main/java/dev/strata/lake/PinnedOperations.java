package dev.strata.lake;

import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.encryption.EncryptionManager;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.LocationProvider;

/**
 * A table's operations pinned to one version of its metadata: a transaction on them commits only if
 * the catalog still holds exactly that version (its atomic swap compares the metadata location), and
 * is never re-applied to a newer one. Iceberg's own retry re-applies an update to whatever is current,
 * which is right for an append without preconditions but wrong for one that validated the version it
 * read (the archive's offsets); so a commit that loses the race throws {@link Moved} instead, and the
 * caller validates again against the new version.
 */
final class PinnedOperations implements TableOperations {

    /** The catalog's table moved on since the pinned version was read; nothing was committed. */
    static final class Moved extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Moved(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final TableOperations delegate;
    private final TableMetadata pinned;

    PinnedOperations(TableOperations delegate, TableMetadata pinned) {
        this.delegate = delegate;
        this.pinned = pinned;
    }

    @Override
    public TableMetadata current() {
        return pinned;
    }

    @Override
    public TableMetadata refresh() {
        return pinned;
    }

    @Override
    public void commit(TableMetadata base, TableMetadata metadata) {
        if (base != pinned) {
            throw new Moved("the transaction's base is not the pinned version", null);
        }
        try {
            delegate.commit(base, metadata);
        } catch (CommitFailedException e) {
            throw new Moved("another writer committed since " + pinned.metadataFileLocation(), e);
        }
    }

    @Override
    public FileIO io() {
        return delegate.io();
    }

    @Override
    public EncryptionManager encryption() {
        return delegate.encryption();
    }

    @Override
    public String metadataFileLocation(String fileName) {
        return delegate.metadataFileLocation(fileName);
    }

    @Override
    public LocationProvider locationProvider() {
        return delegate.locationProvider();
    }

    @Override
    public TableOperations temp(TableMetadata uncommittedMetadata) {
        return delegate.temp(uncommittedMetadata);
    }

    @Override
    public long newSnapshotId() {
        return delegate.newSnapshotId();
    }

    @Override
    public boolean requireStrictCleanup() {
        return delegate.requireStrictCleanup();
    }
}
