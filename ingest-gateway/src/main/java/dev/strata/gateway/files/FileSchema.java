package dev.strata.gateway.files;

import com.fasterxml.jackson.databind.JsonNode;
import dev.strata.gateway.files.RowReader.Row;
import dev.strata.gateway.files.RowReader.Unreadable;
import dev.strata.lake.DatasetTable;
import dev.strata.lake.PartitionedFiles;
import dev.strata.schemas.lake.ColumnType;
import dev.strata.schemas.lake.DatasetColumn;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The first pass of a file's conversion: each column's type inferred from the file's first rows
 * ({@link #sample}), then merged with the dataset's current columns ({@link #merge}) — a new column
 * added, a long taken where the dataset has a double, anything where it has a string; any other
 * difference refuses the file, naming the column, both types and the line that showed it.
 */
final class FileSchema {

    private FileSchema() {}

    /** A column as the sample saw it: its type (null: only nulls) and the value that made it so. */
    static final class Sampled {
        final String name;
        int field;
        ColumnType type;
        long line;
        String example;
        /** How many of the sample's values are not null, and how many of them differ. */
        int values;

        final Set<String> distinct = new HashSet<>();

        Sampled(String name) {
            this.name = name;
        }

        /** Whether the column's values hardly repeat: written without a dictionary. */
        boolean nearlyUnique() {
            return PartitionedFiles.nearlyUnique(distinct.size(), values);
        }
    }

    /** A file refused as a whole. */
    static final class Refusal extends Exception {
        final int status;

        Refusal(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /**
     * Most columns a dataset may have: a table of more is no dataset anyone reads, and every column
     * costs a writer's buffers (100,000 columns exhausted the heap).
     */
    public static final int MAX_COLUMNS = 1_000;

    private static Refusal tooManyColumns(String what, long count) {
        return new Refusal(
                422,
                what + " " + count + " columns, more than the " + MAX_COLUMNS
                        + " a dataset may have; nothing was added");
    }

    static LinkedHashMap<String, Sampled> sample(Upload upload) throws IOException, Refusal {
        LinkedHashMap<String, Sampled> columns = new LinkedHashMap<>();
        long readable = 0;
        long rows = 0;
        try (RowReader reader = FileConverter.open(upload)) {
            if (reader instanceof RowReader.Csv csv) {
                String[] header = csv.header();
                if (header.length > MAX_COLUMNS) {
                    throw tooManyColumns("the header names", header.length);
                }
                for (int i = 0; i < header.length; i++) {
                    String problem = badName(header[i]);
                    if (problem != null) {
                        throw new Refusal(
                                422,
                                "header field " + (i + 1) + " " + problem
                                        + ": every column needs a name; nothing was added");
                    }
                    Sampled column = new Sampled(header[i].strip());
                    column.field = i + 1;
                    Sampled previous = columns.putIfAbsent(key(header[i]), column);
                    if (previous != null) {
                        throw new Refusal(
                                422,
                                "the header names column '" + previous.name + "' twice (fields " + previous.field
                                        + " and " + (i + 1) + "); nothing was added");
                    }
                }
            }
            for (Row row = reader.next(); row != null && readable < FileConverter.SAMPLE_ROWS; row = reader.next()) {
                rows++;
                if (!row.readable()) {
                    continue;
                }
                readable++;
                for (int i = 0; i < row.names().length; i++) {
                    String name = row.names()[i];
                    if (badName(name) != null) {
                        continue; // the row is rejected in the second pass
                    }
                    Sampled column = columns.computeIfAbsent(key(name), k -> new Sampled(name));
                    if (columns.size() > MAX_COLUMNS) {
                        throw new Refusal(
                                422,
                                "the rows name more than " + MAX_COLUMNS
                                        + " distinct columns, the most a dataset may have; nothing was added");
                    }
                    if (row.values()[i] != null) {
                        column.values++;
                        column.distinct.add(text(row.values()[i]));
                    }
                    ColumnType type = Values.typeOf(row.values()[i]);
                    if (type == null || type == column.type) {
                        continue;
                    }
                    ColumnType widened = column.type == null ? type : ColumnType.widen(column.type, type);
                    if (widened != column.type) {
                        column.type = widened;
                        column.line = row.line();
                        column.example = text(row.values()[i]);
                    }
                }
            }
        } catch (Unreadable e) {
            throw new Refusal(422, e.getMessage() + "; nothing was added");
        }
        if (rows == 0) {
            throw new Refusal(422, "the file has no rows; nothing was added");
        }
        if (columns.isEmpty() && readable > 0) {
            throw new Refusal(422, "the file's rows have no fields; nothing was added");
        }
        return columns;
    }

    /** The dataset's columns once this file is in, or a refusal naming the column and both types. */
    static List<DatasetColumn> merge(
            String dataset, int schemaId, List<DatasetColumn> current, Map<String, Sampled> sampled) throws Refusal {
        List<DatasetColumn> target = new ArrayList<>(current);
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < target.size(); i++) {
            index.put(key(target.get(i).name()), i);
        }
        for (Map.Entry<String, Sampled> e : sampled.entrySet()) {
            Sampled s = e.getValue();
            if (DatasetTable.reserved(s.name)) {
                throw new Refusal(
                        422,
                        "column '" + s.name + "' is a name the lake sets itself (" + DatasetTable.INGESTED_AT + ", "
                                + DatasetTable.UPLOAD + "); nothing was added");
            }
            Integer at = index.get(e.getKey());
            if (at == null) {
                index.put(e.getKey(), target.size());
                target.add(new DatasetColumn(s.name, s.type == null ? ColumnType.STRING : s.type, true));
                continue;
            }
            DatasetColumn existing = target.get(at);
            if (s.type == null
                    || s.type == existing.type()
                    || existing.type() == ColumnType.STRING
                    || (existing.type() == ColumnType.DOUBLE && s.type == ColumnType.LONG)) {
                continue;
            }
            throw new Refusal(
                    409,
                    "column '" + existing.name() + "' is " + article(existing.type()) + " in dataset '" + dataset
                            + "' (schema " + schemaId + ") but " + article(s.type)
                            + " in this file (line " + s.line
                            + ": '" + Values.abbreviate(s.example) + "')"
                            + (existing.type() == ColumnType.LONG && s.type == ColumnType.DOUBLE
                                    ? " (the lake's tables cannot widen a long column to double)"
                                    : "")
                            + "; nothing was added");
        }
        return List.copyOf(target);
    }

    static String key(String name) {
        return name.strip().toLowerCase(Locale.ROOT);
    }

    /** Why a column name is not one, or null. */
    static String badName(String name) {
        if (name == null || name.isBlank()) {
            return "is empty";
        }
        if (name.length() > 255) {
            return "is longer than 255 characters";
        }
        if (name.chars().anyMatch(Character::isISOControl)) {
            return "holds a control character";
        }
        return null;
    }

    private static String article(ColumnType type) {
        return "a " + Values.name(type);
    }

    private static String text(Object raw) {
        return raw instanceof JsonNode node
                ? (node.isTextual() ? node.textValue() : node.toString())
                : String.valueOf(raw);
    }
}
