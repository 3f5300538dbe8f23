package dev.strata.lake;

import org.apache.iceberg.Table;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The lake's upkeep: snapshot expiry (more to come: compaction, orphan files, retention). */
final class Maintenance {

    private static final Logger LOG = LoggerFactory.getLogger(Maintenance.class);

    private Maintenance() {}

    /**
     * Expires every snapshot but the current one and the {@code keep - 1} before it, deleting the
     * files only they use. Snapshots only ever go: a commit racing with it is re-applied by Iceberg.
     */
    static void expire(Table table, int keep) {
        table.refresh();
        if (table.currentSnapshot() == null) {
            return;
        }
        try {
            table.expireSnapshots()
                    .retainLast(keep)
                    .expireOlderThan(System.currentTimeMillis())
                    .cleanExpiredFiles(true)
                    .commit();
        } catch (CommitFailedException e) {
            LOG.info("{}: expiring snapshots met other commits; the next time expires them", table.name());
        }
    }
}
