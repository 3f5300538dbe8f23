package dev.strata.gateway.files;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Reads an uploaded file a row at a time (never the whole file): CSV with Jackson's streaming CSV
 * parser, the first row naming the columns; NDJSON a line at a time, each line at most
 * {@link #MAX_LINE_BYTES}. A row that cannot be read as a row (a wrong number of fields, a line
 * that is not one JSON object) comes back with its problem, for the rejects file.
 */
abstract class RowReader implements AutoCloseable {

    /** An NDJSON line longer than this is rejected (and skipped without being held). */
    static final int MAX_LINE_BYTES = 1 << 20;

    /**
     * A row: its line (1-based; a CSV record's first line), its field names and raw values
     * ({@code String} for CSV, {@link JsonNode} for NDJSON), or the problem that made it no row;
     * {@code original} is what a rejects file shows of it (the CSV fields, the JSON object, the line).
     */
    record Row(long line, String[] names, Object[] values, String problem, Object original) {
        boolean readable() {
            return problem == null;
        }
    }

    /** A file that cannot be read as a whole (a CSV header that names no columns, a quote left open). */
    static final class Unreadable extends IOException {
        Unreadable(String message) {
            super(message);
        }
    }

    /** The next row, or null at the end. */
    abstract Row next() throws IOException;

    @Override
    public abstract void close() throws IOException;

    /** Reads {@code in}, the bytes of a file named {@code name} ({@code .gz}: gzip-compressed). */
    static RowReader open(InputStream in, String name, FileFormat format) throws IOException {
        try {
            if (name.endsWith(".gz")) {
                in = new GZIPInputStream(in, 1 << 16);
            }
            return format == FileFormat.CSV ? new Csv(in) : new Ndjson(in);
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    /** CSV: RFC 4180 (quoted fields may hold commas, quotes and line breaks); empty lines skipped. */
    static final class Csv extends RowReader {
        private static final CsvMapper MAPPER =
                CsvMapper.builder().enable(CsvParser.Feature.SKIP_EMPTY_LINES).build();
        private final JsonParser parser;
        private final String[] header;

        Csv(InputStream in) throws IOException {
            parser = (CsvParser) MAPPER.getFactory().createParser(in);
            List<String> names = new ArrayList<>();
            try {
                if (parser.nextToken() != JsonToken.START_ARRAY) {
                    throw new Unreadable("the file is empty: a CSV file starts with a header row naming its columns");
                }
                for (JsonToken t = parser.nextToken(); t != JsonToken.END_ARRAY; t = parser.nextToken()) {
                    names.add(parser.getText());
                }
            } catch (JsonProcessingException e) {
                throw new Unreadable("malformed CSV header: " + e.getOriginalMessage());
            }
            if (!names.isEmpty() && names.get(0).startsWith("\uFEFF")) {
                names.set(0, names.get(0).substring(1));
            }
            header = names.toArray(String[]::new);
        }

        String[] header() {
            return header.clone();
        }

        @Override
        Row next() throws IOException {
            try {
                JsonToken start = parser.nextToken();
                if (start == null) {
                    return null;
                }
                long line = parser.currentTokenLocation().getLineNr() + 1; // Jackson counts CSV lines from 0
                String[] values = new String[header.length];
                int count = 0;
                for (JsonToken t = parser.nextToken(); t != JsonToken.END_ARRAY; t = parser.nextToken()) {
                    if (t == null) {
                        throw new Unreadable("malformed CSV from line " + line + ": the file ends inside a record");
                    }
                    if (count == values.length) {
                        values = Arrays.copyOf(values, values.length * 2 + 1);
                    }
                    values[count++] = parser.getText();
                }
                if (count != header.length) {
                    String[] fields = Arrays.copyOf(values, count);
                    return new Row(
                            line,
                            header,
                            fields,
                            "expected " + header.length + " field(s) as in the header, found " + count,
                            fields);
                }
                return new Row(line, header, values, null, values);
            } catch (JsonProcessingException e) {
                JsonLocation at = e.getLocation();
                throw new Unreadable(
                        "malformed CSV at line " + (at == null ? "?" : at.getLineNr()) + ": " + e.getOriginalMessage());
            }
        }

        @Override
        public void close() throws IOException {
            parser.close();
        }
    }

    /** NDJSON: one JSON object a line; blank lines skipped. */
    static final class Ndjson extends RowReader {
        private static final ObjectMapper JSON = JsonMapper.builder()
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(JsonReadFeature.ALLOW_LEADING_DECIMAL_POINT_FOR_NUMBERS)
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .build();
        private final InputStream in;
        private final byte[] buffer = new byte[1 << 16];
        private int position;
        private int limit;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        private long lineNumber;
        private boolean ended;

        Ndjson(InputStream in) {
            this.in = in;
        }

        /**
         * Reads up to the next line break into {@link #line} (at most {@link #MAX_LINE_BYTES});
         * true if the line was longer. Sets {@link #ended} at the end of the input.
         */
        private boolean readLine() throws IOException {
            line.reset();
            boolean tooLong = false;
            while (true) {
                if (position == limit) {
                    limit = in.read(buffer);
                    position = 0;
                    if (limit <= 0) {
                        limit = 0;
                        ended = true;
                        return tooLong;
                    }
                }
                int start = position;
                while (position < limit && buffer[position] != '\n') {
                    position++;
                }
                int room = MAX_LINE_BYTES - line.size();
                int length = position - start;
                if (length > room) {
                    tooLong = true;
                    length = room;
                }
                line.write(buffer, start, length);
                if (position < limit) {
                    position++; // the line break
                    return tooLong;
                }
            }
        }

        @Override
        Row next() throws IOException {
            while (!ended) {
                boolean tooLong = readLine();
                if (ended && line.size() == 0 && !tooLong) {
                    return null;
                }
                lineNumber++;
                if (tooLong) {
                    return new Row(lineNumber, null, null, "line longer than " + MAX_LINE_BYTES + " bytes", null);
                }
                String text = line.toString(StandardCharsets.UTF_8);
                if (text.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(text);
                } catch (JsonProcessingException e) {
                    return new Row(lineNumber, null, null, "malformed JSON: " + e.getOriginalMessage(), text);
                }
                if (!node.isObject()) {
                    return new Row(
                            lineNumber,
                            null,
                            null,
                            "not a JSON object but " + node.getNodeType().name().toLowerCase(Locale.ROOT),
                            text);
                }
                String[] names = new String[node.size()];
                Object[] values = new Object[node.size()];
                int i = 0;
                for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); i++) {
                    Map.Entry<String, JsonNode> field = it.next();
                    names[i] = field.getKey();
                    values[i] = field.getValue();
                }
                return new Row(lineNumber, names, values, null, node);
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
