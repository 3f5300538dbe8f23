package dev.strata.registry;

import static dev.strata.registry.RegistryHttp.schemaRequest;
import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.registry.RegistryHttp.Answer;
import dev.strata.schemas.auth.TokenFile;
import dev.strata.testing.KafkaBrokerExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The registry's HTTP API against a real broker, driven with the requests Confluent's client
 * ({@code RestService}) sends: its paths, query parameters, headers and bodies.
 */
class RegistryApiIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final String ORDER_V1 = """
            {"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"string"}]}""";
    static final String ORDER_V2 = """
            {"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"string"},
             {"name":"amount","type":"double","default":0.0}]}""";
    static final String ORDER_INCOMPATIBLE = """
            {"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"string"},
             {"name":"amount","type":"double"}]}""";

    static RegistryServer registry;
    static RegistryHttp http;

    @BeforeAll
    static void startRegistry() throws Exception {
        RegistryServer.Config config = RegistryServer.Config.of(KAFKA.bootstrapServers())
                .withPort(0)
                .withTopic("_schemas-api-" + ProcessHandle.current().pid());
        registry = RegistryServer.start(config);
        http = new RegistryHttp(registry.url());
    }

    @AfterAll
    static void stopRegistry() {
        registry.close();
    }

    @Test
    void confluentClientsRegisterLookUpAndFetchSchemas() {
        Answer registered = http.post("/subjects/orders-value/versions?normalize=false", schemaRequest(ORDER_V1));
        assertThat(registered.status()).isEqualTo(200);
        assertThat(registered.contentType()).isEqualTo(RegistryHttp.CONFLUENT_CONTENT_TYPE);
        int id = registered.json().get("id").asInt();

        Answer lookup = http.post("/subjects/orders-value?normalize=false&deleted=false", schemaRequest(ORDER_V1));
        assertThat(lookup.status()).isEqualTo(200);
        assertThat(lookup.json().get("id").asInt()).isEqualTo(id);
        assertThat(lookup.json().get("version").asInt()).isEqualTo(1);
        assertThat(lookup.json().get("subject").asText()).isEqualTo("orders-value");

        Answer byId = http.get("/schemas/ids/" + id + "?fetchMaxId=false&subject=orders-value");
        assertThat(byId.status()).isEqualTo(200);
        assertThat(new Schema.Parser().parse(byId.json().get("schema").asText()))
                .isEqualTo(new Schema.Parser().parse(ORDER_V1));

        assertThat(http.get("/subjects").json()).extracting(n -> n.asText()).contains("orders-value");
        assertThat(http.get("/subjects/orders-value/versions?deleted=false").body())
                .isEqualTo("[1]");
        assertThat(http.get("/subjects/orders-value/versions/latest")
                        .json()
                        .get("id")
                        .asInt())
                .isEqualTo(id);
        assertThat(http.get("/subjects/orders-value/versions/1?deleted=false")
                        .json()
                        .get("version")
                        .asInt())
                .isEqualTo(1);
        assertThat(http.get("/subjects/orders-value/versions/1/schema")
                        .json()
                        .get("name")
                        .asText())
                .isEqualTo("Order");
        assertThat(http.get("/schemas/ids/" + id + "/versions").body())
                .isEqualTo("[{\"subject\":\"orders-value\",\"version\":1}]");

        // Registering the same schema again, even spelled differently, returns the same id.
        Answer again = http.post("/subjects/orders-value/versions", schemaRequest(ORDER_V1.replace(",", " , ")));
        assertThat(again.json().get("id").asInt()).isEqualTo(id);
        // A compatible evolution becomes version 2 with a new id.
        Answer evolved = http.post("/subjects/orders-value/versions?normalize=false", schemaRequest(ORDER_V2));
        assertThat(evolved.json().get("id").asInt()).isNotEqualTo(id);
        assertThat(http.get("/subjects/orders-value/versions").body()).isEqualTo("[1,2]");
    }

    @Test
    void anIncompatibleSchemaIsRefusedWith409AndConfluentsMessage() {
        assertThat(http.post("/subjects/refused-value/versions", schemaRequest(ORDER_V1))
                        .status())
                .isEqualTo(200);

        Answer refused =
                http.post("/subjects/refused-value/versions?normalize=false", schemaRequest(ORDER_INCOMPATIBLE));

        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.json().get("error_code").asInt()).isEqualTo(409);
        assertThat(refused.json().get("message").asText())
                .startsWith(
                        "Schema being registered is incompatible with an earlier schema for subject \"refused-value\", details: [")
                .contains("READER_FIELD_MISSING_DEFAULT_VALUE")
                .contains("The field 'amount' at path '/fields/1' in the new schema has no default value");
        assertThat(http.get("/subjects/refused-value/versions").body()).isEqualTo("[1]");
    }

    @Test
    void compatibilityChecksAnswerWithoutRegistering() {
        http.post("/subjects/check-value/versions", schemaRequest(ORDER_V1));

        Answer good = http.post(
                "/compatibility/subjects/check-value/versions/latest?normalize=false&verbose=true",
                schemaRequest(ORDER_V2));
        Answer bad = http.post(
                "/compatibility/subjects/check-value/versions/1?normalize=false&verbose=true",
                schemaRequest(ORDER_INCOMPATIBLE));
        // Confluent's client asks for "all versions" with a trailing slash.
        Answer all = http.post(
                "/compatibility/subjects/check-value/versions/?normalize=false&verbose=false",
                schemaRequest(ORDER_INCOMPATIBLE));

        assertThat(good.json().get("is_compatible").asBoolean()).isTrue();
        assertThat(bad.json().get("is_compatible").asBoolean()).isFalse();
        assertThat(bad.json().get("messages").toString()).contains("READER_FIELD_MISSING_DEFAULT_VALUE");
        assertThat(all.status()).isEqualTo(200);
        assertThat(all.json().get("is_compatible").asBoolean()).isFalse();
        assertThat(http.get("/subjects/check-value/versions").body()).isEqualTo("[1]");
    }

    @Test
    void compatibilityLevelsAreConfiguredGloballyAndPerSubject() {
        assertThat(http.get("/config").json().get("compatibilityLevel").asText())
                .isEqualTo("BACKWARD");

        Answer set = http.put("/config/levels-value", "{\"compatibility\":\"NONE\"}");
        assertThat(set.status()).isEqualTo(200);
        assertThat(set.json().get("compatibility").asText()).isEqualTo("NONE");
        assertThat(http.get("/config/levels-value")
                        .json()
                        .get("compatibilityLevel")
                        .asText())
                .isEqualTo("NONE");

        http.post("/subjects/levels-value/versions", schemaRequest(ORDER_V1));
        assertThat(http.post("/subjects/levels-value/versions", schemaRequest(ORDER_INCOMPATIBLE))
                        .status())
                .isEqualTo(200);

        Answer unset = http.get("/config/unset-value");
        assertThat(unset.status()).isEqualTo(404);
        assertThat(unset.json().get("error_code").asInt()).isEqualTo(40408);
        assertThat(http.get("/config/unset-value?defaultToGlobal=true")
                        .json()
                        .get("compatibilityLevel")
                        .asText())
                .isEqualTo("BACKWARD");

        Answer invalid = http.put("/config", "{\"compatibility\":\"SIDEWAYS\"}");
        assertThat(invalid.status()).isEqualTo(422);
        assertThat(invalid.json().get("error_code").asInt()).isEqualTo(42203);
    }

    @Test
    void errorsCarryConfluentsStatusCodeAndMessage() {
        http.post("/subjects/errors-value/versions", schemaRequest(ORDER_V1));

        assertError(http.get("/subjects/no-such-subject/versions"), 404, 40401, "Subject 'no-such-subject' not found.");
        assertError(http.get("/subjects/errors-value/versions/9"), 404, 40402, "Version 9 not found.");
        assertError(http.get("/schemas/ids/987654"), 404, 40403, "Schema 987654 not found.");
        assertError(http.post("/subjects/errors-value", schemaRequest(ORDER_V2)), 404, 40403, "Schema not found");
        assertError(http.get("/subjects/errors-value/versions/zero"), 422, 42202, "The specified version 'zero'");
        assertError(
                http.post("/subjects/errors-value/versions", schemaRequest("{\"type\":\"nonsense\"}")),
                422,
                42201,
                "Invalid schema");
        assertError(http.post("/subjects/errors-value/versions", "{\"schema\": "), 400, 400, "Unrecognized JSON");
        assertError(
                http.send("POST", "/subjects/errors-value/versions", schemaRequest(ORDER_V1), "text/plain"),
                415,
                415,
                "HTTP 415");
        assertError(
                http.post(
                        "/subjects/errors-value/versions", "{\"schema\":\"\\\"int\\\"\",\"schemaType\":\"PROTOBUF\"}"),
                422,
                42201,
                "Invalid schema type PROTOBUF");
        assertError(http.get("/no/such/path"), 404, 404, "HTTP 404 Not Found");
    }

    @Test
    void registeredSchemasSurviveARegistryRestart() throws Exception {
        RegistryServer.Config config = RegistryServer.Config.of(KAFKA.bootstrapServers())
                .withPort(0)
                .withTopic("_schemas-restart-" + ProcessHandle.current().pid());
        int id;
        try (RegistryServer first = RegistryServer.start(config)) {
            RegistryHttp firstHttp = new RegistryHttp(first.url());
            id = firstHttp
                    .post("/subjects/kept-value/versions", schemaRequest(ORDER_V1))
                    .json()
                    .get("id")
                    .asInt();
            firstHttp.put("/config/kept-value", "{\"compatibility\":\"FULL\"}");
        }
        try (RegistryServer second = RegistryServer.start(config)) {
            RegistryHttp secondHttp = new RegistryHttp(second.url());
            assertThat(secondHttp
                            .post("/subjects/kept-value", schemaRequest(ORDER_V1))
                            .json()
                            .get("id")
                            .asInt())
                    .isEqualTo(id);
            assertThat(secondHttp
                            .get("/config/kept-value")
                            .json()
                            .get("compatibilityLevel")
                            .asText())
                    .isEqualTo("FULL");
            // New schemas continue after the ids already taken.
            int next = secondHttp
                    .post("/subjects/kept-value/versions", schemaRequest(ORDER_V2))
                    .json()
                    .get("id")
                    .asInt();
            assertThat(next).isGreaterThan(id);
        }
    }

    private static void assertError(Answer answer, int status, int errorCode, String messageStart) {
        assertThat(answer.status()).as(answer.body()).isEqualTo(status);
        assertThat(answer.contentType()).isEqualTo(RegistryHttp.CONFLUENT_CONTENT_TYPE);
        assertThat(answer.json().get("error_code").asInt()).as(answer.body()).isEqualTo(errorCode);
        assertThat(answer.json().get("message").asText()).startsWith(messageStart);
    }

    @Test
    void withWriteTokensOnlyATokenHolderMayRegisterOrConfigureWhileReadsStayOpen(@TempDir Path dir) throws Exception {
        String token = TokenFile.generateToken();
        Path tokens = dir.resolve("registry-tokens.yaml");
        TokenFile.write(tokens, Map.of("ci", new TokenFile.Grant(token, List.of(), List.of())));
        try (RegistryServer guarded = RegistryServer.start(RegistryServer.Config.of(KAFKA.bootstrapServers())
                .withPort(0)
                .withTopic("_schemas-guarded-" + ProcessHandle.current().pid())
                .withWriteTokens(tokens))) {
            RegistryHttp anonymous = new RegistryHttp(guarded.url());
            RegistryHttp wrong = new RegistryHttp(guarded.url(), token + "x");
            RegistryHttp holder = new RegistryHttp(guarded.url(), token);

            Answer refused = anonymous.post("/subjects/guarded-value/versions", schemaRequest(ORDER_V1));
            assertThat(refused.status()).isEqualTo(401);
            assertThat(refused.json().get("error_code").asInt()).isEqualTo(40101);
            assertThat(refused.json().get("message").asText()).contains("Authorization: Bearer");
            assertThat(wrong.put("/config/guarded-value", "{\"compatibility\":\"NONE\"}")
                            .status())
                    .isEqualTo(401);

            Answer registered = holder.post("/subjects/guarded-value/versions", schemaRequest(ORDER_V1));
            assertThat(registered.status()).isEqualTo(200);
            assertThat(anonymous.get("/subjects/guarded-value/versions").body()).isEqualTo("[1]");

            // The finding: an anonymous client set compatibility NONE, then registered what no layer decodes.
            Answer none = anonymous.put("/config/guarded-value", "{\"compatibility\":\"NONE\"}");
            assertThat(none.status()).isEqualTo(401);
            assertThat(none.json().get("error_code").asInt()).isEqualTo(40101);
            assertThat(anonymous
                            .send("DELETE", "/config/guarded-value", null, null)
                            .status())
                    .isEqualTo(401);
            assertThat(anonymous.put("/config", "{\"compatibility\":\"NONE\"}").status())
                    .isEqualTo(401);
            assertThat(anonymous.get("/config").json().get("compatibilityLevel").asText())
                    .isEqualTo("BACKWARD");
            // Registering a schema the subject already has changes nothing: an auto-registering
            // serializer of a known schema gets its id without a token.
            Answer again = anonymous.post("/subjects/guarded-value/versions", schemaRequest(ORDER_V1));
            assertThat(again.status()).as(again.body()).isEqualTo(200);
            assertThat(again.json().get("id").asInt())
                    .isEqualTo(registered.json().get("id").asInt());
            assertThat(anonymous
                            .post("/subjects/guarded-value/versions", schemaRequest(ORDER_V2))
                            .status())
                    .isEqualTo(401);
            assertThat(anonymous.get("/subjects/guarded-value/versions").body()).isEqualTo("[1]");
        }
    }

    @Test
    void theRegistryCommandDoesNotStartWithOpenWritesUnlessAskedTo() {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new RegistryMain()).setErr(new PrintWriter(err));
        int status = cli.execute("--bootstrap-servers", KAFKA.bootstrapServers(), "--port", "0");
        assertThat(status).isEqualTo(2);
        assertThat(err.toString()).contains("the registry's writes need tokens: give --tokens FILE");
    }
}
