package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The monitoring files as Prometheus itself reads them, with Debian's promtool: the scrape config
 * and the alert rules load, each alert's unit tests pass (alerts.test.yml), and every query of the
 * Grafana dashboard parses as PromQL. That they name metrics the stack really exports is checked
 * against the running stack in LocalStackIT.
 */
class PrometheusRulesIT {

    static final Path PROMTOOL = Path.of("/usr/bin/promtool");
    static final Path PROMETHEUS = StrataCli.home().resolve("deploy/prometheus");
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void promtool() {
        assumeTrue(Files.isExecutable(PROMTOOL), "promtool is not installed (apt-get install prometheus): skipped");
    }

    @Test
    void theScrapeConfigAndTheAlertRulesLoad() throws Exception {
        String out = promtool(PROMETHEUS, "check", "config", "prometheus.yml");
        assertThat(out).contains("SUCCESS: prometheus.yml is valid").contains("SUCCESS: 10 rules found");
    }

    @Test
    void theComposeStacksScrapeConfigLoadsWithTheAlerts(@TempDir Path dir) throws Exception {
        Files.copy(StrataCli.home().resolve("deploy/compose/prometheus.yml"), dir.resolve("compose.yml"));
        Files.copy(PROMETHEUS.resolve("alerts.yml"), dir.resolve("alerts.yml")); // where compose mounts it
        assertThat(promtool(dir, "check", "config", "compose.yml")).contains("SUCCESS: 10 rules found");
    }

    @Test
    void everyAlertFiresOnItsFailureAndStaysSilentWhenHealthy() throws Exception {
        assertThat(promtool(PROMETHEUS, "test", "rules", "alerts.test.yml")).contains("SUCCESS");
    }

    @Test
    void everyAlertHasATest() throws Exception {
        String rules = Files.readString(PROMETHEUS.resolve("alerts.yml"));
        String tests = Files.readString(PROMETHEUS.resolve("alerts.test.yml"));
        List<String> alerts = rules.lines()
                .map(String::strip)
                .filter(l -> l.startsWith("- alert: "))
                .map(l -> l.substring("- alert: ".length()))
                .toList();
        assertThat(alerts).hasSize(10);
        for (String alert : alerts) {
            assertThat(tests)
                    .as("a test of " + alert)
                    .contains("alertname: " + alert + "\n        exp_alerts:\n          - exp_labels");
        }
    }

    @Test
    void everyDashboardQueryIsPromQl(@TempDir Path dir) throws Exception {
        JsonNode dashboard = JSON.readTree(
                StrataCli.home().resolve("deploy/grafana/strata-pipeline.json").toFile());
        List<String> queries = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            if (panel.get("type").asText().equals("row")) {
                continue;
            }
            assertThat(panel.at("/datasource/uid").asText())
                    .as(panel.get("title").asText())
                    .isEqualTo("${datasource}");
            assertThat(panel.get("targets")).as(panel.get("title").asText()).isNotEmpty();
            panel.get("targets").forEach(t -> queries.add(t.get("expr").asText()));
        }
        // As recording rules, promtool parses each query with Prometheus' own parser.
        ObjectNode file = JSON.createObjectNode();
        ArrayNode rules =
                file.putArray("groups").addObject().put("name", "dashboard").putArray("rules");
        for (int i = 0; i < queries.size(); i++) {
            rules.addObject().put("record", "dashboard:query_" + i).put("expr", queries.get(i));
        }
        Files.writeString(dir.resolve("dashboard-rules.yml"), JSON.writeValueAsString(file)); // JSON is YAML
        assertThat(promtool(dir, "check", "rules", "dashboard-rules.yml"))
                .contains("SUCCESS: " + queries.size() + " rules found");
    }

    private static String promtool(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(PROMTOOL.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
