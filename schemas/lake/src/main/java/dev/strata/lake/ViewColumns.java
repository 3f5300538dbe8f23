package dev.strata.lake;

import dev.strata.schemas.views.Measure;
import dev.strata.schemas.views.ViewDefinition;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The readable columns of {@code batch_views} beside each cell's encoded state: a column per
 * group-by field and per measure, so outside engines read the views without Strata's codec; added
 * as views that need them appear (schema evolution).
 */
final class ViewColumns {

    private static final Logger LOG = LoggerFactory.getLogger(ViewColumns.class);

    private ViewColumns() {}

    /** The readable column of a group-by field: {@code source}, {@code type}, {@code attr_<key>}. */
    static String groupColumn(String field) {
        String name = field.startsWith("attributes.") ? "attr_" + field.substring("attributes.".length()) : field;
        return sanitize(name);
    }

    /** The readable column of a measure: its name. */
    static String measureColumn(Measure m) {
        return sanitize(m.name());
    }

    static String sanitize(String name) {
        return name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    }

    static Type measureType(Measure m) {
        return m.kind() == Measure.Kind.COUNT || m.kind() == Measure.Kind.DISTINCT
                ? Types.LongType.get()
                : Types.DoubleType.get();
    }

    /** The readable columns the views need, by name. */
    static Map<String, Type> readableColumns(Collection<ViewDefinition> views) {
        Map<String, Type> columns = new LinkedHashMap<>();
        for (ViewDefinition view : views) {
            view.groupBy().forEach(f -> columns.putIfAbsent(groupColumn(f), Types.StringType.get()));
        }
        for (ViewDefinition view : views) {
            view.measures().forEach(m -> columns.putIfAbsent(measureColumn(m), measureType(m)));
        }
        return columns;
    }

    /**
     * Adds the readable columns the views need and the table lacks (schema evolution; another
     * process adding the same column at once is fine). On return {@code table} is current (read
     * again from the catalog), with every column the views need.
     */
    static void addMissing(Table table, Collection<ViewDefinition> views) {
        for (int attempt = 1; ; attempt++) {
            table.refresh();
            Schema schema = table.schema();
            Map<String, Type> missing = new LinkedHashMap<>();
            readableColumns(views).forEach((name, type) -> {
                Types.NestedField existing = schema.findField(name);
                if (existing == null) {
                    missing.put(name, type);
                } else if (!existing.type().equals(type)) {
                    throw new IllegalStateException("the column " + name + " of " + ViewsTable.NAME + " is "
                            + existing.type() + ", but the views need it as " + type);
                }
            });
            if (missing.isEmpty()) {
                return;
            }
            try {
                UpdateSchema update = table.updateSchema();
                missing.forEach(update::addColumn);
                update.commit();
                table.refresh(); // the table object still had the schema without them
                LOG.info("batch_views: columns {} added", missing.keySet());
                return;
            } catch (IllegalArgumentException | CommitFailedException e) {
                if (attempt == 5) {
                    throw e;
                }
                LOG.info("batch_views: another process changed the schema first ({}); checking again", e.getMessage());
            }
        }
    }
}
