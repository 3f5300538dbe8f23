package dev.strata.gateway.files;

import dev.strata.lake.DatasetTable;
import dev.strata.lake.DatasetWriter;
import dev.strata.schemas.lake.DatasetColumn;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.DataFile;

/**
 * An upload's rows written into several data files at once, each by a thread of its own: Parquet's
 * writer (encoding, dictionaries, statistics) is two thirds of a conversion, so the reading thread
 * hands rows in batches of {@value #BATCH} to the parts in turn. The heap stays bounded: each part
 * holds at most {@value #QUEUED} batches waiting and one being written, and the reader waits for room.
 * With one part the rows are written on the reading thread, as before.
 */
final class PartWriters implements AutoCloseable {

    static final int BATCH = 1024;
    static final int QUEUED = 2;
    /** An upload is split into parts of at least this many bytes of the original. */
    static final long BYTES_PER_PART = 64L << 20;

    private static final Object[][] END = new Object[0][];

    private final List<DatasetWriter> writers;
    private final List<BlockingQueue<Object[][]>> queues = new ArrayList<>();
    private final List<Future<DataFile>> written = new ArrayList<>();
    private final ExecutorService threads;
    private Object[][] batch = new Object[BATCH][];
    private int size;
    private int next;

    /** How many parts an original of {@code bytes} is written into on this machine: one per core, each of {@code bytesPerPart} or more. */
    static int parts(long bytes, long bytesPerPart) {
        return (int) Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), bytes / bytesPerPart));
    }

    /** Writers of {@code parts} files; the {@code plain} columns without a dictionary. */
    PartWriters(DatasetTable table, String uploadId, long receivedMillis, int parts, Set<String> plain) {
        this.writers = table.writers(uploadId, receivedMillis, parts, plain);
        if (parts == 1) {
            threads = null;
            return;
        }
        threads = Executors.newFixedThreadPool(parts, r -> {
            Thread t = new Thread(r, "convert-" + uploadId + "-part");
            t.setDaemon(true);
            return t;
        });
        for (DatasetWriter writer : writers) {
            BlockingQueue<Object[][]> queue = new ArrayBlockingQueue<>(QUEUED);
            queues.add(queue);
            written.add(threads.submit(() -> {
                for (Object[][] rows = queue.take(); rows != END; rows = queue.take()) {
                    for (Object[] row : rows) {
                        writer.write(row);
                    }
                }
                return writer.finish();
            }));
        }
    }

    /** The columns a row's values are in, in order (the same for every part). */
    List<DatasetColumn> columns() {
        return writers.get(0).columns();
    }

    int schemaId() {
        return writers.get(0).schemaId();
    }

    void write(Object[] row) throws IOException {
        if (threads == null) {
            writers.get(0).write(row);
            return;
        }
        batch[size++] = row;
        if (size == BATCH) {
            hand(batch);
            batch = new Object[BATCH][];
            size = 0;
        }
    }

    private void hand(Object[][] rows) throws IOException {
        BlockingQueue<Object[][]> queue = queues.get(next);
        next = (next + 1) % queues.size();
        try {
            while (!queue.offer(rows, 100, TimeUnit.MILLISECONDS)) {
                for (Future<DataFile> f : written) {
                    if (f.isDone()) {
                        result(f); // a part failed: its error, not a reader waiting forever
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while converting", e);
        }
    }

    /** Writes what is left, closes every part; the data files written. */
    List<DataFile> finish() throws IOException {
        if (threads == null) {
            return List.of(writers.get(0).finish());
        }
        if (size > 0) {
            hand(Arrays.copyOf(batch, size));
            size = 0;
        }
        for (int i = 0; i < queues.size(); i++) {
            hand(END);
        }
        List<DataFile> files = new ArrayList<>();
        for (Future<DataFile> f : written) {
            files.add(result(f));
        }
        threads.shutdown();
        return files;
    }

    private static DataFile result(Future<DataFile> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while converting", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException(e.getCause());
        }
    }

    /** Stops every part and deletes what it wrote (nothing of it is committed). */
    void abandon() {
        if (threads != null) {
            threads.shutdownNow();
            for (Future<DataFile> f : written) {
                try {
                    f.get();
                } catch (Exception e) {
                    // stopped: its file is deleted below
                }
            }
        }
        writers.forEach(DatasetWriter::abandon);
    }

    @Override
    public void close() {
        if (threads != null) {
            threads.shutdownNow();
        }
    }
}
