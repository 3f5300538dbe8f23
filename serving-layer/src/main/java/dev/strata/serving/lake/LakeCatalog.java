package dev.strata.serving.lake;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.strata.lake.CuratedTable;
import dev.strata.lake.TableVersion;
import dev.strata.schemas.views.BatchCommit;
import dev.strata.schemas.views.Measure;
import dev.strata.schemas.views.ViewDefinition;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What the lake holds, for {@code GET /v1/catalog}: the events dataset, every uploaded dataset and
 * the batch views, each with its schema (and schema versions), partitions, files, rows, bytes, last
 * update and freshness. An Iceberg table's schemas and snapshots come from its metadata (the
 * version its files were planned from); a dataset's from its manifest; a view's from its definition.
 */
public final class LakeCatalog {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final LakeTables tables;
    private final List<ViewDefinition> views;
    private final Supplier<Optional<BatchCommit>> batch;
    private final Clock clock;

    public LakeCatalog(
            LakeTables tables, List<ViewDefinition> views, Supplier<Optional<BatchCommit>> batch, Clock clock) {
        this.tables = tables;
        this.views = views;
        this.batch = batch;
        this.clock = clock;
    }

    /** Every dataset and view, without partition lists (the summary). */
    public ObjectNode all() throws IOException {
        ObjectNode answer = JSON.createObjectNode();
        ArrayNode datasets = answer.putArray("datasets");
        List<LakeTables.Table> all = tables.tables();
        for (LakeTables.Table table : all) {
            datasets.add(lineage(describe(table, false), table, all));
        }
        for (ViewDefinition view : views) {
            datasets.add(describe(view));
        }
        answer.put("lake", tables.lake());
        return answer;
    }

    /** One dataset or view, with its partitions; empty if there is none by that name. */
    public Optional<ObjectNode> one(String name) throws IOException {
        List<LakeTables.Table> all = tables.tables();
        Optional<LakeTables.Table> table =
                all.stream().filter(t -> t.name().equals(name)).findFirst();
        if (table.isPresent()) {
            return Optional.of(lineage(describe(table.get(), true), table.get(), all));
        }
        return views.stream().filter(v -> v.name().equals(name)).findFirst().map(this::describe);
    }

    /**
     * Which transform feeds a table (its output's current commit: the transform and the input
     * snapshots it covers) and which transforms it feeds (with the snapshot of it each has applied).
     */
    private static ObjectNode lineage(ObjectNode node, LakeTables.Table table, List<LakeTables.Table> all) {
        String inputs = table.iceberg().summary().get(CuratedTable.INPUTS);
        if (inputs != null) {
            ObjectNode fed = node.putObject("fedBy");
            fed.put("transform", table.iceberg().summary().get(CuratedTable.TRANSFORM));
            table.iceberg().snapshotId().ifPresent(id -> fed.put("snapshot", id));
            ObjectNode from = fed.putObject("inputs");
            CuratedTable.parse(inputs).forEach(from::put);
        }
        ArrayNode feeds = node.putArray("feeds");
        for (LakeTables.Table other : all) {
            String theirs = other.iceberg().summary().get(CuratedTable.INPUTS);
            if (theirs == null) {
                continue;
            }
            Long applied = CuratedTable.parse(theirs).get(table.name());
            if (applied != null) {
                feeds.addObject()
                        .put("transform", other.iceberg().summary().get(CuratedTable.TRANSFORM))
                        .put("output", other.name())
                        .put("appliedSnapshot", applied);
            }
        }
        return node;
    }

    private ObjectNode describe(LakeTables.Table table, boolean withPartitions) throws IOException {
        ObjectNode node = JSON.createObjectNode();
        node.put("name", table.name()).put("kind", table.kind());
        node.put("sqlTable", table.files().isEmpty() ? null : table.name());
        node.put("files", table.files().size()).put("rows", table.rows()).put("bytes", table.bytes());
        node.put("partitionCount", table.partitions().size());
        if (withPartitions) {
            ArrayNode partitions = node.putArray("partitions");
            table.partitions().forEach(partitions::add);
        }
        node.put(
                "lastUpdate",
                table.updatedMillis() > 0
                        ? Instant.ofEpochMilli(table.updatedMillis()).toString()
                        : null);
        if (table.cutMillis().isPresent()) {
            // The events are complete up to the cut: that is how fresh the dataset is.
            node.put("cut", Instant.ofEpochMilli(table.cutMillis().getAsLong()).toString());
            node.put("freshnessSeconds", (clock.millis() - table.cutMillis().getAsLong()) / 1000.0);
        } else if (table.updatedMillis() > 0) {
            node.put("freshnessSeconds", (clock.millis() - table.updatedMillis()) / 1000.0);
        } else {
            node.putNull("freshnessSeconds");
        }
        describe(table.iceberg(), node, node.putArray("schemaVersions"), withPartitions);
        return node;
    }

    /** An Iceberg table's schema versions (the current one as {@code schema}) and snapshots. */
    private static void describe(TableVersion version, ObjectNode node, ArrayNode versions, boolean withSnapshots) {
        ObjectNode current = null;
        for (TableVersion.SchemaVersion v : version.schemaVersions()) {
            ObjectNode schema = versions.addObject().put("version", v.id());
            if (v.firstUsedMillis().isPresent()) {
                schema.put(
                        "created",
                        Instant.ofEpochMilli(v.firstUsedMillis().getAsLong()).toString());
            }
            ArrayNode columns = schema.putArray("columns");
            for (TableVersion.Column c : v.columns()) {
                columns.addObject().put("name", c.name()).put("type", c.type()).put("nullable", c.nullable());
            }
            if (v.id() == version.schema().schemaId()) {
                current = schema;
            }
        }
        node.set("schema", current == null ? JSON.createObjectNode() : current);
        node.put("format", "iceberg");
        if (version.snapshotId().isPresent()) {
            node.put("snapshot", version.snapshotId().getAsLong());
        } else {
            node.putNull("snapshot");
        }
        node.put("snapshotCount", version.snapshots().size());
        node.put("metadataLocation", version.metadataLocation());
        if (withSnapshots) {
            ArrayNode snapshots = node.putArray("snapshots");
            for (TableVersion.SnapshotEntry s : version.snapshots()) {
                ObjectNode entry = snapshots
                        .addObject()
                        .put("id", s.id())
                        .put(
                                "committed",
                                Instant.ofEpochMilli(s.committedMillis()).toString())
                        .put("operation", s.operation());
                ObjectNode summary = entry.putObject("summary");
                s.summary().forEach(summary::put);
            }
        }
    }

    private ObjectNode describe(ViewDefinition view) {
        ObjectNode node = JSON.createObjectNode();
        node.put("name", view.name()).put("kind", "view").put("sqlTable", LakeTables.BATCH_VIEWS);
        node.put("sql", "SELECT * FROM " + LakeTables.BATCH_VIEWS + " WHERE view = '" + view.name() + "'");
        node.put("window", view.window().toString());
        ArrayNode columns = JSON.createArrayNode();
        for (String g : view.groupBy()) {
            columns.addObject()
                    .put("name", g)
                    .put("type", "string")
                    .put("nullable", false)
                    .put("role", "group");
        }
        columns.addObject()
                .put("name", "window_start")
                .put("type", "timestamp")
                .put("nullable", false)
                .put("role", "window");
        for (Measure m : view.measures()) {
            columns.addObject()
                    .put("name", m.name())
                    .put("type", m.kind() == Measure.Kind.COUNT ? "long" : "double")
                    .put("nullable", m.kind() != Measure.Kind.COUNT)
                    .put("role", "measure");
        }
        ObjectNode schema = JSON.createObjectNode().put("version", 1);
        schema.set("columns", columns);
        node.set("schema", schema);
        node.putArray("schemaVersions").add(schema);
        Optional<BatchCommit> commit = batch.get();
        node.put("batchRun", commit.map(BatchCommit::run).orElse(null));
        node.put(
                "cut",
                commit.map(c -> Instant.ofEpochMilli(c.cutMillis()).toString()).orElse(null));
        if (commit.isPresent()) {
            node.put("freshnessSeconds", (clock.millis() - commit.get().cutMillis()) / 1000.0);
        } else {
            node.putNull("freshnessSeconds");
        }
        node.put("merged", "batch below the cut + speed at or after it: GET /v1/views/" + view.name());
        return node;
    }
}
