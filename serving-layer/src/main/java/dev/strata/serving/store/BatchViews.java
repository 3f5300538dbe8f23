package dev.strata.serving.store;

import dev.strata.schemas.views.Aggregate;
import dev.strata.schemas.views.AggregateCodec;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.ViewDefinition;
import dev.strata.schemas.views.ViewKey;
import dev.strata.serving.query.BatchSide;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.apache.commons.io.FileUtils;
import org.rocksdb.EnvOptions;
import org.rocksdb.IngestExternalFileOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.SstFileWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The current batch snapshot, in RocksDB. Each announced snapshot is bulk-loaded into a fresh
 * database (its cells sorted and written as one SST file, then ingested: no write path, no
 * compaction) and swapped in with one reference update; a query holds a {@link Lease} on one loaded
 * snapshot for its whole duration, so it never sees two snapshots or two cuts, and a replaced
 * snapshot's database is closed and deleted only when its last lease is released.
 */
public final class BatchViews implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BatchViews.class);

    static {
        RocksDB.loadLibrary();
    }

    private final Path dir;
    private final AtomicReference<Loaded> current = new AtomicReference<>();
    private final AtomicInteger sequence = new AtomicInteger();

    /** Keeps its databases under {@code dir} (emptied: snapshots are loaded again from the lake). */
    public BatchViews(Path dir) throws IOException {
        this.dir = dir;
        if (Files.exists(dir)) {
            FileUtils.deleteDirectory(dir.toFile());
        }
        Files.createDirectories(dir);
    }

    /** Makes {@code cells}, the snapshot {@code commit} announced, current (queries under way keep theirs). */
    public void load(BatchCommit commit, Map<ViewKey, Aggregate> cells) throws IOException {
        long started = System.nanoTime();
        Path db = dir.resolve(String.format("run-%08d-%d", commit.run(), sequence.incrementAndGet()));
        Loaded loaded = Loaded.bulkLoad(commit, cells, db);
        Loaded old = current.getAndSet(loaded);
        if (old != null) {
            old.release(); // the reference "current" held; closed once the last query lets go
        }
        LOG.info(
                "Batch snapshot of run {} (cut {}, {} cells) loaded and current in {} ms",
                commit.run(),
                commit.cutMillis(),
                cells.size(),
                (System.nanoTime() - started) / 1_000_000);
    }

    /** The commit of the current snapshot, if one is loaded. */
    public Optional<BatchCommit> commit() {
        Loaded loaded = current.get();
        return loaded == null ? Optional.empty() : Optional.of(loaded.commit);
    }

    /** A hold on the current snapshot (or on none, before the first); release it with close. */
    public Lease lease() {
        while (true) {
            Loaded loaded = current.get();
            if (loaded == null) {
                return new Lease(null);
            }
            if (loaded.retain()) {
                return new Lease(loaded);
            }
            // It was replaced and released between the read and the retain: read current again.
        }
    }

    @Override
    public void close() {
        Loaded loaded = current.getAndSet(null);
        if (loaded != null) {
            loaded.release();
        }
    }

    /** One loaded snapshot, held by a query. */
    public static final class Lease implements BatchSide, AutoCloseable {
        private final Loaded loaded;
        private boolean closed;

        private Lease(Loaded loaded) {
            this.loaded = loaded;
        }

        @Override
        public Optional<BatchCommit> commit() {
            return loaded == null ? Optional.empty() : Optional.of(loaded.commit);
        }

        /** In key order. */
        @Override
        public void scan(
                byte[] prefix,
                ViewDefinition view,
                Predicate<ViewKey> wanted,
                Consumer<Map.Entry<ViewKey, Aggregate>> cells) {
            if (loaded == null) {
                return;
            }
            try (RocksIterator it = loaded.db.newIterator()) {
                for (it.seek(prefix); it.isValid(); it.next()) {
                    byte[] key = it.key();
                    if (key.length < prefix.length || !Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length)) {
                        break;
                    }
                    ViewKey cell = ViewKey.decode(key);
                    if (wanted.test(cell)) {
                        cells.accept(Map.entry(cell, AggregateCodec.decode(view, it.value())));
                    }
                }
            }
        }

        @Override
        public void close() {
            if (loaded != null && !closed) {
                closed = true;
                loaded.release();
            }
        }
    }

    private static final class Loaded {
        final BatchCommit commit;
        final Path dir;
        final Options options;
        final RocksDB db;
        /** 1 for being current plus 1 per lease; at 0 the database is closed and deleted. */
        private final AtomicInteger references = new AtomicInteger(1);

        private Loaded(BatchCommit commit, Path dir, Options options, RocksDB db) {
            this.commit = commit;
            this.dir = dir;
            this.options = options;
            this.db = db;
        }

        static Loaded bulkLoad(BatchCommit commit, Map<ViewKey, Aggregate> cells, Path dir) throws IOException {
            List<byte[][]> rows = new ArrayList<>(cells.size());
            cells.forEach((key, aggregate) -> rows.add(new byte[][] {key.encode(), AggregateCodec.encode(aggregate)}));
            rows.sort(Comparator.comparing(
                    (byte[][] row) -> row[0], Arrays::compareUnsigned)); // RocksDB's bytewise order
            Files.createDirectories(dir);
            Options options = new Options().setCreateIfMissing(true);
            try {
                RocksDB db = RocksDB.open(options, dir.resolve("db").toString());
                if (!rows.isEmpty()) {
                    Path sst = dir.resolve("snapshot.sst");
                    try (EnvOptions env = new EnvOptions();
                            SstFileWriter writer = new SstFileWriter(env, options)) {
                        writer.open(sst.toString());
                        for (byte[][] row : rows) {
                            writer.put(row[0], row[1]);
                        }
                        writer.finish();
                    }
                    try (IngestExternalFileOptions ingest = new IngestExternalFileOptions().setMoveFiles(true)) {
                        db.ingestExternalFile(List.of(sst.toString()), ingest);
                    }
                }
                return new Loaded(commit, dir, options, db);
            } catch (RocksDBException e) {
                options.close();
                throw new IOException(
                        "cannot load the batch snapshot of run " + commit.run() + " into RocksDB: " + e.getMessage(),
                        e);
            }
        }

        boolean retain() {
            while (true) {
                int n = references.get();
                if (n == 0) {
                    return false;
                }
                if (references.compareAndSet(n, n + 1)) {
                    return true;
                }
            }
        }

        void release() {
            if (references.decrementAndGet() == 0) {
                db.close();
                options.close();
                try {
                    FileUtils.deleteDirectory(dir.toFile());
                } catch (IOException e) {
                    LOG.warn("Could not delete {}: {}", dir, e.toString());
                }
            }
        }
    }
}
