package dev.strata.lake;

import java.util.function.Consumer;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.Transactions;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A commit that holds only on the version of the table it was checked against: the check reads the
 * catalog's current metadata, the changes are made on a transaction pinned to exactly that version
 * ({@link PinnedOperations}), and the catalog's atomic swap refuses them if another writer committed
 * in between. Then the check runs again on the new version: it either throws (the commit's basis is
 * gone: the caller plans again) or passes (another writer's change left the basis alone, as
 * maintenance does), and the changes are made again on top. A commit whose outcome is unknown
 * (the catalog did not answer) is looked up by its attempt id in the table's snapshots.
 */
final class PinnedCommit {

    private static final Logger LOG = LoggerFactory.getLogger(PinnedCommit.class);

    /** Checks that a version of the table is still the one the commit was planned from. */
    @FunctionalInterface
    interface Check<E extends Exception> {
        void check(TableMetadata current) throws E;
    }

    private PinnedCommit() {}

    /**
     * Commits {@code changes} (which must record {@code attempt} under {@code attemptKey} in the
     * snapshot they make) once {@code check} passes on the table's current version.
     *
     * @return the snapshot the commit made
     * @throws E as soon as the check fails (nothing of this commit is in the table)
     */
    static <E extends Exception> Snapshot commit(
            Table table, Check<E> check, Consumer<Transaction> changes, String attemptKey, String attempt) throws E {
        TableOperations ops = ((HasTableOperations) table).operations();
        for (int tries = 1; ; tries++) {
            TableMetadata base = ops.refresh();
            check.check(base);
            Transaction tx = Transactions.newTransaction(table.name(), new PinnedOperations(ops, base));
            changes.accept(tx);
            try {
                tx.commitTransaction();
                return tx.table().currentSnapshot();
            } catch (PinnedOperations.Moved e) {
                LOG.info("{}: another writer committed first (try {}); checking again", table.name(), tries);
            } catch (CommitStateUnknownException e) {
                Snapshot committed = byAttempt(ops.refresh(), attemptKey, attempt);
                if (committed != null) {
                    return committed;
                }
                LOG.warn("{}: a commit's outcome was unknown and it is not there; trying again", table.name());
            }
        }
    }

    /** The snapshot that recorded an attempt, or null. */
    static Snapshot byAttempt(TableMetadata metadata, String attemptKey, String attempt) {
        for (Snapshot s : metadata.snapshots()) {
            if (attempt.equals(s.summary().get(attemptKey))) {
                return s;
            }
        }
        return null;
    }
}
