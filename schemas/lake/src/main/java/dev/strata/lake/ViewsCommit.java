package dev.strata.lake;

import static dev.strata.lake.ViewsTable.ATTEMPT;
import static dev.strata.lake.ViewsTable.BUCKET;
import static dev.strata.lake.ViewsTable.CELLS;
import static dev.strata.lake.ViewsTable.CUT;
import static dev.strata.lake.ViewsTable.DEDUP_HORIZON;
import static dev.strata.lake.ViewsTable.DEFINITIONS;
import static dev.strata.lake.ViewsTable.KIND;
import static dev.strata.lake.ViewsTable.RUN;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.schemas.views.ViewKey;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.OverwriteFiles;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One commit of {@code batch_views}: the snapshot's files written ({@link ViewFiles}), then
 * committed with the snapshot's summary, pinned to the snapshot it was planned from
 * ({@link PinnedCommit}); a commit that loses the race deletes its files.
 */
final class ViewsCommit {

    private static final Logger LOG = LoggerFactory.getLogger(ViewsTable.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private ViewsCommit() {}

    /**
     * Commits {@code contents}' cells and the rows {@code copied} on top of {@code base} (which must
     * still be the table's current snapshot; the caller has added the columns its views need,
     * {@link ViewColumns#addMissing}): replacing
     * every cell, or, given {@code replaced}, those files only; {@code totalCells} is how many the
     * snapshot then holds.
     */
    static long commit(
            Table table,
            OptionalLong base,
            ViewsTable.Contents contents,
            Map<ViewKey, Record> copied,
            Optional<List<DataFile>> replaced,
            long totalCells)
            throws ViewsConflict {
        String attempt = EventsTable.newAttempt();
        long started = System.nanoTime();
        List<DataFile> files = ViewFiles.write(table, contents, copied, attempt);
        long written = System.nanoTime();
        Snapshot snapshot;
        try {
            snapshot = PinnedCommit.commit(
                    table,
                    current -> expect(current, base),
                    tx -> {
                        OverwriteFiles overwrite = tx.newOverwrite();
                        if (replaced.isPresent()) {
                            replaced.get().forEach(overwrite::deleteFile);
                        } else {
                            overwrite.overwriteByRowFilter(Expressions.alwaysTrue());
                        }
                        files.forEach(overwrite::addFile);
                        overwrite
                                .set(RUN, Long.toString(contents.run()))
                                .set(CUT, Long.toString(contents.cutMillis()))
                                .set(BUCKET, Long.toString(contents.settings().bucketMillis()))
                                .set(
                                        DEDUP_HORIZON,
                                        Long.toString(contents.settings()
                                                .dedupHorizon()
                                                .toMillis()))
                                .set(DEFINITIONS, json(contents.definitions()))
                                .set(KIND, contents.kind())
                                .set(CELLS, Long.toString(totalCells))
                                .set(ATTEMPT, attempt)
                                .commit();
                    },
                    ATTEMPT,
                    attempt);
        } catch (ViewsConflict e) {
            files.forEach(f -> table.io().deleteFile(f.location()));
            throw e;
        }
        LOG.info(
                "batch_views: {} of run {} (cut {}, {} cells, {} written in {} file(s){}) committed as snapshot {} ({} ms"
                        + " to write, {} ms to commit)",
                contents.kind(),
                contents.run(),
                contents.cutMillis(),
                totalCells,
                contents.cells().size() + copied.size(),
                files.size(),
                replaced.map(r -> ", " + r.size() + " replaced").orElse(", all replaced"),
                snapshot.snapshotId(),
                (written - started) / 1_000_000,
                (System.nanoTime() - written) / 1_000_000);
        return snapshot.snapshotId();
    }

    /** Passes if the table's current snapshot is still {@code base}. */
    static void expect(TableMetadata current, OptionalLong base) throws ViewsConflict {
        Snapshot s = current.currentSnapshot();
        OptionalLong now = s == null ? OptionalLong.empty() : OptionalLong.of(s.snapshotId());
        if (!now.equals(base)) {
            ViewsTable.Head head = s == null ? ViewsTable.Head.EMPTY : ViewsTable.head(s);
            throw new ViewsConflict("another batch process committed the batch views' snapshot "
                    + now.getAsLong() + " (" + head.kind() + " of run " + head.run() + ")"
                    + " since this one read " + (base.isPresent() ? "snapshot " + base.getAsLong() : "none"));
        }
    }

    private static String json(Map<String, String> definitions) {
        try {
            return JSON.writeValueAsString(new TreeMap<>(definitions));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
