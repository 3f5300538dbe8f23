package dev.strata.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.strata.schemas.net.StrataPorts;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code strata catalog [DATASET]}: what the lake holds, as the serving layer's
 * {@code GET /v1/catalog} says: a line per dataset and view (kind, rows, bytes, partitions, schema
 * version, last update, freshness); with a name, that dataset's schema and partitions.
 */
@Command(
        name = "catalog",
        mixinStandardHelpOptions = true,
        description = {
            "Prints what the lake holds: every dataset (the events, uploaded datasets) and batch view, with rows, bytes,",
            "partitions, schema version, last update and freshness; with DATASET, its schema versions and partitions."
        })
final class CatalogCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "DATASET", description = "One dataset or view")
    String dataset;

    @Option(
            names = "--serving",
            defaultValue = "${env:STRATA_SERVING_URL:-http://127.0.0.1:" + StrataPorts.SERVING + "}",
            description = "Serving layer URL. Default: ${DEFAULT-VALUE}")
    String serving;

    @Option(
            names = "--token",
            defaultValue = "${env:STRATA_READ_TOKEN}",
            description = "Read token, when the serving layer asks for one")
    String token;

    @Option(names = "--json", description = "The answer as JSON, unchanged")
    boolean json;

    PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String url = serving + "/v1/catalog" + (dataset == null ? "" : "/" + dataset);
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60));
        if (token != null && !token.isBlank()) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            System.err.println(
                    "strata catalog: no serving layer at " + serving + " (start the stack, or pass --serving URL)");
            return 1;
        }
        if (response.statusCode() != 200) {
            System.err.println(
                    "strata catalog: " + url + " answered " + response.statusCode() + ": " + response.body());
            return 1;
        }
        if (json) {
            out.println(response.body());
            return 0;
        }
        JsonNode body = StatusCommand.JSON.readTree(response.body());
        if (dataset == null) {
            out.printf(
                    Locale.ROOT,
                    "%-24s %-8s %12s %12s %6s %7s %-24s %s%n",
                    "NAME",
                    "KIND",
                    "ROWS",
                    "BYTES",
                    "PARTS",
                    "SCHEMA",
                    "LAST UPDATE",
                    "FRESHNESS");
            for (JsonNode d : body.get("datasets")) {
                summary(d);
            }
            out.println("lake: " + body.path("lake").asText());
        } else {
            detail(body);
        }
        return 0;
    }

    private void summary(JsonNode d) {
        boolean view = d.path("kind").asText().equals("view");
        out.printf(
                Locale.ROOT,
                "%-24s %-8s %12s %12s %6s %7s %-24s %s%n",
                d.path("name").asText(),
                d.path("kind").asText(),
                view ? "-" : String.format(Locale.ROOT, "%,d", d.path("rows").asLong()),
                view ? "-" : bytes(d.path("bytes").asLong()),
                view ? "-" : d.path("partitionCount").asText(),
                "v" + d.path("schema").path("version").asInt(1),
                text(d.path("lastUpdate"), view ? text(d.path("cut"), "-") : "-"),
                freshness(d.path("freshnessSeconds")));
    }

    private void detail(JsonNode d) {
        out.println(d.path("name").asText() + " (" + d.path("kind").asText() + ")"
                + (d.path("sqlTable").isTextual()
                        ? ", SQL table \"" + d.path("sqlTable").asText() + "\""
                        : ""));
        if (!d.path("kind").asText().equals("view")) {
            out.printf(
                    Locale.ROOT,
                    "  rows %,d in %d file(s), %s; %d partition(s)%n",
                    d.path("rows").asLong(),
                    d.path("files").asInt(),
                    bytes(d.path("bytes").asLong()),
                    d.path("partitionCount").asInt());
        }
        out.println("  last update " + text(d.path("lastUpdate"), "-")
                + (d.has("cut") ? ", cut " + text(d.path("cut"), "-") : "") + ", freshness "
                + freshness(d.path("freshnessSeconds")));
        for (JsonNode v : d.path("schemaVersions")) {
            out.println("  schema v" + v.path("version").asInt()
                    + (v.has("created") ? " (" + v.path("created").asText() + ")" : "") + ":");
            for (JsonNode c : v.path("columns")) {
                out.printf(
                        Locale.ROOT,
                        "    %-28s %-12s %s%n",
                        c.path("name").asText(),
                        c.path("type").asText(),
                        c.path("nullable").asBoolean() ? "nullable" : "not null");
            }
        }
        for (JsonNode p : d.path("partitions")) {
            out.println("  partition " + p.asText());
        }
    }

    private static String text(JsonNode node, String otherwise) {
        return node.isTextual() ? node.asText() : otherwise;
    }

    private static String freshness(JsonNode seconds) {
        if (!seconds.isNumber()) {
            return "-";
        }
        double s = seconds.asDouble();
        return s < 120
                ? String.format(Locale.ROOT, "%.0f s", s)
                : s < 7200
                        ? String.format(Locale.ROOT, "%.0f min", s / 60)
                        : String.format(Locale.ROOT, "%.1f h", s / 3600);
    }

    private static String bytes(long n) {
        return n < 1024
                ? n + " B"
                : n < (1 << 20)
                        ? String.format(Locale.ROOT, "%.1f KiB", n / 1024.0)
                        : n < (1L << 30)
                                ? String.format(Locale.ROOT, "%.1f MiB", n / 1048576.0)
                                : String.format(Locale.ROOT, "%.2f GiB", n / 1073741824.0);
    }
}
