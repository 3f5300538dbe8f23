package dev.strata.lake;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.LongPredicate;
import java.util.zip.CRC32;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.SeekableInputStream;
import org.apache.iceberg.parquet.Parquet;

/**
 * The identity index of one data file of the {@code events} table: the 64-bit hash of every row's
 * identity, (source, id), sorted, and for each its identity, append time, place in Kafka and run.
 * Derived data, kept beside the data file ({@code <data file>.ids}): built from the file when first
 * needed, the same bytes whoever builds it, so racing builders are harmless; a file that is missing,
 * cut short or damaged is built again. Published whole (a local file renamed into place; an object
 * PUT). {@link Maintenance} keeps it while its data file is in the table and removes it with it.
 *
 * <p>A batch cycle reads the hashes of the earlier runs within the dedup horizon from here (8 bytes
 * a row, read sequentially) instead of their Parquet columns, and the rows of the few hashes it
 * shares with the new data by seeking to their blocks: its cost follows the new data, not the history.
 *
 * <p>Layout: a header (magic, version, row count, the file's length, a CRC-32 of the two arrays
 * after it); the hashes, ascending; the offsets of every {@value #BLOCK}th entry and of the end; the
 * entries in hash order (append time in ms, position, run, then the identity's UTF-8 bytes, source
 * and id split by a 0xFF byte, which UTF-8 never holds).
 */
public final class IdentityIndex {

    public static final String SUFFIX = ".ids";
    private static final long MAGIC = 0x5354524154414944L; // "STRATAID"
    private static final int VERSION = 1;
    private static final int HEADER_BYTES = 8 + 4 + 4 + 8 + 8;
    static final int BLOCK = 64;
    private static final byte SEPARATOR = (byte) 0xff;

    private static final Schema COLUMNS =
            EventsTable.SCHEMA.select("source", "id", "append_time", "kafka_partition", "kafka_offset", "run");

    /** One row of the data file: its identity's hash, when it was appended, where in Kafka, its run and identity. */
    public record Entry(long hash, long appendMillis, long position, long run, String source, String id) {}

    private final FileIO io;
    private final String location;
    private final long[] hashes;
    private final long[] blocks;

    private IdentityIndex(FileIO io, String location, long[] hashes, long[] blocks) {
        this.io = io;
        this.location = location;
        this.hashes = hashes;
        this.blocks = blocks;
    }

    // ---- the identity hash ----------------------------------------------------------------------

    /** FNV-1a's offset basis: the hash of no bytes. */
    public static final long SEED = 0xcbf29ce484222325L;

    /** One byte more of FNV-1a. */
    public static long step(long h, int b) {
        return (h ^ (b & 0xff)) * 0x100000001b3L;
    }

    /** After the source's bytes: the separator byte, then the id's bytes follow. */
    public static long separate(long h) {
        return step(h, SEPARATOR);
    }

    /** Spreads the bits of an FNV-1a hash (murmur3's finaliser). */
    public static long finish(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return h;
    }

    /**
     * The 64-bit hash of an identity: FNV-1a over the UTF-8 bytes of the source, a 0xFF byte (so no
     * two (source, id) pairs give the same bytes) and the id's, then {@link #finish}. The batch layer
     * computes the same over Flink's strings in place.
     */
    public static long hash(String source, String id) {
        return hash(identity(source, id));
    }

    private static long hash(byte[] identity) {
        long h = SEED;
        for (byte b : identity) {
            h = step(h, b);
        }
        return finish(h);
    }

    private static byte[] identity(String source, String id) {
        byte[] s = source.getBytes(StandardCharsets.UTF_8);
        byte[] i = id.getBytes(StandardCharsets.UTF_8);
        byte[] out = Arrays.copyOf(s, s.length + 1 + i.length);
        out[s.length] = SEPARATOR;
        System.arraycopy(i, 0, out, s.length + 1, i.length);
        return out;
    }

    // ---- where ----------------------------------------------------------------------------------

    /** Where the index of a data file is kept. */
    public static String location(String dataFile) {
        return dataFile + SUFFIX;
    }

    /** The data file an index location belongs to, if it is one. */
    public static Optional<String> dataFileOf(String location) {
        return location.endsWith(SUFFIX)
                ? Optional.of(location.substring(0, location.length() - SUFFIX.length()))
                : Optional.empty();
    }

    // ---- reading --------------------------------------------------------------------------------

    /**
     * The index of a data file, its hashes read; built from the data file first if it is missing or
     * damaged.
     */
    public static IdentityIndex of(FileIO io, String dataFile) {
        return open(io, dataFile).orElseGet(() -> {
            build(io, dataFile);
            return open(io, dataFile)
                    .orElseThrow(() -> new IllegalStateException("the index of " + dataFile + " cannot be read back"));
        });
    }

    /** The index of a data file with its hashes read, or empty if there is none (or it is cut short or damaged). */
    public static Optional<IdentityIndex> open(FileIO io, String dataFile) {
        String location = location(dataFile);
        InputFile file = io.newInputFile(location);
        if (!file.exists()) {
            return Optional.empty();
        }
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(file.newStream(), 1 << 16))) {
            if (in.readLong() != MAGIC || in.readInt() != VERSION) {
                return Optional.empty();
            }
            int count = in.readInt();
            long length = in.readLong();
            long crc = in.readLong();
            if (count < 0 || length != file.getLength()) {
                return Optional.empty();
            }
            long[] hashes = new long[count];
            long[] blocks = new long[blockCount(count) + 1];
            byte[] buffer = new byte[8 * 4096];
            CRC32 check = new CRC32();
            readLongs(in, hashes, buffer, check);
            readLongs(in, blocks, buffer, check);
            return check.getValue() == crc
                    ? Optional.of(new IdentityIndex(io, location, hashes, blocks))
                    : Optional.empty();
        } catch (NotFoundException | NoSuchFileException | EOFException e) {
            return Optional.empty(); // removed or cut short meanwhile
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void readLongs(DataInputStream in, long[] into, byte[] buffer, CRC32 check) throws IOException {
        for (int done = 0; done < into.length; ) {
            int n = Math.min(buffer.length / 8, into.length - done);
            in.readFully(buffer, 0, n * 8);
            check.update(buffer, 0, n * 8);
            ByteBuffer.wrap(buffer, 0, n * 8).asLongBuffer().get(into, done, n);
            done += n;
        }
    }

    /** The identity hashes of the data file's rows, ascending (one per row: a resent identity repeats). */
    public long[] hashes() {
        return hashes;
    }

    /** The entries whose hash is {@code wanted}: only the blocks holding one are read. */
    public List<Entry> entries(LongPredicate wanted) {
        List<Entry> out = new ArrayList<>();
        int lastBlock = -1;
        try (SeekableInputStream in = io.newInputFile(location).newStream()) {
            for (int i = 0; i < hashes.length; i++) {
                if (!wanted.test(hashes[i]) || i / BLOCK == lastBlock) {
                    continue;
                }
                lastBlock = i / BLOCK;
                byte[] block = new byte[(int) (blocks[lastBlock + 1] - blocks[lastBlock])];
                in.seek(blocks[lastBlock]);
                new DataInputStream(in).readFully(block);
                DataInputStream entries = new DataInputStream(new ByteArrayInputStream(block));
                for (int j = lastBlock * BLOCK; j < Math.min(hashes.length, (lastBlock + 1) * BLOCK); j++) {
                    Entry e = readEntry(entries, hashes[j]);
                    if (wanted.test(e.hash())) {
                        out.add(e);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static Entry readEntry(DataInputStream in, long hash) throws IOException {
        long append = in.readLong();
        long position = in.readLong();
        long run = in.readLong();
        byte[] identity = new byte[in.readInt()];
        in.readFully(identity);
        int split = 0;
        while (identity[split] != SEPARATOR) {
            split++;
        }
        return new Entry(
                hash,
                append,
                position,
                run,
                new String(identity, 0, split, StandardCharsets.UTF_8),
                new String(identity, split + 1, identity.length - split - 1, StandardCharsets.UTF_8));
    }

    private static int blockCount(int count) {
        return (count + BLOCK - 1) / BLOCK;
    }

    // ---- building -------------------------------------------------------------------------------

    /** Reads a data file's identity columns and writes its index. */
    public static void build(FileIO io, String dataFile) {
        List<long[]> numbers = new ArrayList<>();
        List<byte[]> identities = new ArrayList<>();
        try (CloseableIterable<Record> rows = Parquet.read(io.newInputFile(dataFile))
                .project(COLUMNS)
                .createReaderFunc(type -> GenericParquetReaders.buildReader(COLUMNS, type))
                .build()) {
            for (Record row : rows) {
                byte[] identity = identity((String) row.getField("source"), (String) row.getField("id"));
                long appendMillis = ((OffsetDateTime) row.getField("append_time"))
                        .toInstant()
                        .toEpochMilli();
                long position =
                        ((long) (Integer) row.getField("kafka_partition") << 48) | (Long) row.getField("kafka_offset");
                numbers.add(new long[] {hash(identity), appendMillis, position, (Long) row.getField("run")});
                identities.add(identity);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Integer[] order = new Integer[numbers.size()];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, (a, b) -> Long.compare(numbers.get(a)[0], numbers.get(b)[0]));
        try {
            publish(io, location(dataFile), encode(order, numbers, identities));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] encode(Integer[] order, List<long[]> numbers, List<byte[]> identities) throws IOException {
        int count = order.length;
        long[] blocks = new long[blockCount(count) + 1];
        ByteArrayOutputStream entryBytes = new ByteArrayOutputStream();
        DataOutputStream entries = new DataOutputStream(entryBytes);
        long start = HEADER_BYTES + 8L * count + 8L * blocks.length;
        for (int i = 0; i < count; i++) {
            if (i % BLOCK == 0) {
                blocks[i / BLOCK] = start + entries.size();
            }
            long[] n = numbers.get(order[i]);
            byte[] identity = identities.get(order[i]);
            entries.writeLong(n[1]);
            entries.writeLong(n[2]);
            entries.writeLong(n[3]);
            entries.writeInt(identity.length);
            entries.write(identity);
        }
        blocks[blocks.length - 1] = start + entries.size();
        ByteArrayOutputStream arrayBytes = new ByteArrayOutputStream(8 * (count + blocks.length));
        DataOutputStream arrays = new DataOutputStream(arrayBytes);
        for (Integer i : order) {
            arrays.writeLong(numbers.get(i)[0]);
        }
        for (long b : blocks) {
            arrays.writeLong(b);
        }
        CRC32 crc = new CRC32();
        crc.update(arrayBytes.toByteArray());
        ByteArrayOutputStream file = new ByteArrayOutputStream((int) start + entries.size());
        DataOutputStream out = new DataOutputStream(file);
        out.writeLong(MAGIC);
        out.writeInt(VERSION);
        out.writeInt(count);
        out.writeLong(start + entries.size());
        out.writeLong(crc.getValue());
        arrayBytes.writeTo(out);
        entryBytes.writeTo(out);
        out.flush();
        return file.toByteArray();
    }

    /** Writes a file whole: a local one renamed into place from a temporary file of its own, an object PUT. */
    private static void publish(FileIO io, String location, byte[] bytes) throws IOException {
        Optional<Path> local = localPath(location);
        if (local.isPresent()) {
            Path target = local.get();
            Path tmp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return;
        }
        try (OutputStream out =
                new BufferedOutputStream(io.newOutputFile(location).createOrOverwrite())) {
            out.write(bytes);
        }
    }

    private static Optional<Path> localPath(String location) {
        String normalized = OrphanFiles.normalize(location);
        return normalized.startsWith("/") ? Optional.of(Path.of(normalized)) : Optional.empty();
    }
}
