package dev.strata.schemas.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.strata.schemas.Event;
import dev.strata.schemas.net.LocalPorts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A registry that cannot answer says nothing about a record: decoding must fail as retriable (the
 * caller tries again later), never as bad data that a caller would dead-letter or skip. Only the
 * registry's answer "no such schema" makes a record undecodable. Served by a real HTTP server.
 */
class RegistryOutageTest {

    private final AtomicInteger status = new AtomicInteger(503);
    private HttpServer server;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/schemas/ids/", exchange -> {
            int code = status.get();
            String body = code == 200
                    ? new ObjectMapper()
                            .createObjectNode()
                            .put("schema", Event.getClassSchema().toString())
                            .toString()
                    : code == 404
                            ? "{\"error_code\":40403,\"message\":\"Schema not found\"}"
                            : "{\"error_code\":50001,\"message\":\"store down\"}";
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(code, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void aFailingRegistryIsRetriableAndTheRecordDecodesOnceItAnswers() throws IOException {
        EventDeserializer deserializer =
                deserializer("http://127.0.0.1:" + server.getAddress().getPort());
        byte[] record = encoded(new Event(
                "e-1",
                "dev-1",
                "temperature",
                Instant.ofEpochMilli(1_000),
                21.5,
                Map.of(),
                Instant.ofEpochMilli(2_000)));

        assertThatThrownBy(() -> deserializer.deserialize("events", record))
                .isInstanceOf(SchemaRegistryUnavailableException.class)
                .isInstanceOf(RetriableException.class)
                .isNotInstanceOf(SerializationException.class)
                .hasMessageContaining("schema with id 1");

        status.set(200);
        assertThat(deserializer.deserialize("events", record).getId()).isEqualTo("e-1");
    }

    @Test
    void anUnreachableRegistryIsRetriable() throws IOException {
        int closedPort = LocalPorts.free();
        EventDeserializer deserializer = deserializer("http://127.0.0.1:" + closedPort);

        assertThatThrownBy(() -> deserializer.deserialize(
                        "events",
                        encoded(new Event(
                                "e-2",
                                "dev-1",
                                "temperature",
                                Instant.ofEpochMilli(1_000),
                                null,
                                Map.of(),
                                Instant.ofEpochMilli(2_000)))))
                .isInstanceOf(SchemaRegistryUnavailableException.class)
                .hasMessageContaining("unreachable");
    }

    @Test
    void aSchemaTheRegistryDoesNotHaveMakesTheRecordUndecodable() throws IOException {
        status.set(404);
        EventDeserializer deserializer =
                deserializer("http://127.0.0.1:" + server.getAddress().getPort());

        assertThatThrownBy(() -> deserializer.deserialize(
                        "events",
                        encoded(new Event(
                                "e-3",
                                "dev-1",
                                "temperature",
                                Instant.ofEpochMilli(1_000),
                                1.0,
                                Map.of(),
                                Instant.ofEpochMilli(2_000)))))
                .isInstanceOf(SerializationException.class)
                .isNotInstanceOf(RetriableException.class)
                .hasMessageContaining("Schema not found");
    }

    private static EventDeserializer deserializer(String url) {
        EventDeserializer deserializer = new EventDeserializer();
        deserializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, url), false);
        return deserializer;
    }

    /** Schema id 1 in the Confluent header, then the Avro body. */
    private static byte[] encoded(Event event) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer header = ByteBuffer.allocate(WireFormat.HEADER_SIZE);
        WireFormat.writeHeader(header, 1);
        out.write(header.array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<>(Event.class).write(event, encoder);
        encoder.flush();
        return out.toByteArray();
    }
}
