package dev.strata.gateway.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.gateway.validation.EventParser.Parsed;
import dev.strata.schemas.Event;
import dev.strata.schemas.http.ValidationError;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

class EventParserTest {

    static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    final EventParser parser =
            new EventParser(Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofMinutes(5), Duration.ofDays(30), 3);

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void parsesAFullEventWithIsoTime() throws Exception {
        Parsed parsed = parser.parseJson(bytes("""
                {"id":"e-1","source":"s","type":"t","time":"2026-03-01T11:00:00+01:00","value":1.5,"attributes":{"site":"n"}}"""));

        assertThat(parsed.valid()).isTrue();
        Event e = parsed.events().get(0);
        assertThat(e.getId()).isEqualTo("e-1");
        assertThat(e.getTime()).isEqualTo(Instant.parse("2026-03-01T10:00:00Z"));
        assertThat(e.getValue()).isEqualTo(1.5);
        assertThat(e.getAttributes()).isEqualTo(Map.of("site", "n"));
        assertThat(e.getIngestTime()).isEqualTo(NOW);
    }

    @Test
    void fillsIdAndTimeWhenAbsentAndAcceptsEpochMillis() throws Exception {
        Parsed parsed =
                parser.parseJson(bytes("[{\"source\":\"s\",\"type\":\"t\"},{\"source\":\"s\",\"type\":\"t\",\"time\":"
                        + NOW.minusSeconds(3_600).toEpochMilli() + "}]"));

        assertThat(parsed.events()).hasSize(2);
        assertThat(parsed.events().get(0).getId()).hasSize(36);
        assertThat(parsed.events().get(0).getTime()).isEqualTo(NOW);
        assertThat(parsed.events().get(1).getTime()).isEqualTo(NOW.minusSeconds(3_600));
        assertThat(parsed.events().get(0).getValue()).isNull();
    }

    @Test
    void refusesTimesOlderThanTheMaximumAgeAndTextsWithUnpairedSurrogates() throws Exception {
        Parsed seconds = parser.parseJson(bytes("{\"source\":\"s\",\"type\":\"t\",\"time\":1772366400}"));
        assertThat(seconds.errors()).singleElement().satisfies(e -> {
            assertThat(e.field()).isEqualTo("time");
            assertThat(e.reason())
                    .startsWith("is more than P30D in the past (1970-01-21T12:19:26.400Z")
                    .endsWith("were seconds sent?");
        });
        assertThat(parser.parseJson(bytes("{\"source\":\"s\",\"type\":\"t\",\"time\":\"2026-01-30T11:00:00Z\"}"))
                        .valid())
                .as("30 days and 1 hour: too old")
                .isFalse();
        assertThat(parser.parseJson(bytes("{\"source\":\"s\",\"type\":\"t\",\"time\":\"2026-01-30T13:00:00Z\"}"))
                        .valid())
                .as("29 days and 23 hours")
                .isTrue();
        Parsed surrogate = parser.parseJson(bytes("{\"id\":\"x\\ud83d\",\"source\":\"s\",\"type\":\"t\"}"));
        assertThat(surrogate.errors()).singleElement().satisfies(e -> {
            assertThat(e.field()).isEqualTo("id");
            assertThat(e.reason()).startsWith("contains an unpaired UTF-16 surrogate");
        });
        assertThat(parser.parseJson(bytes("{\"id\":\"x\\ud83d\\ude00\",\"source\":\"s\",\"type\":\"t\"}"))
                        .valid())
                .as("a pair (an emoji) is fine")
                .isTrue();
        Parsed topic = parser.parseMqttPayload(bytes("{\"type\":\"t\"}"), "a\u0001b");
        assertThat(topic.errors())
                .singleElement()
                .satisfies(e -> assertThat(e.reason()).isEqualTo("(from the topic) contains a control character"));
    }

    @Test
    void acceptsHoursLateEventsButNotOnesTooFarInTheFuture() throws Exception {
        assertThat(parser.parseJson(bytes("{\"source\":\"s\",\"type\":\"t\",\"time\":\"2026-02-28T00:00:00Z\"}"))
                        .valid())
                .isTrue();
        assertThat(parser.parseJson(bytes("{\"source\":\"s\",\"type\":\"t\",\"time\":\"2026-03-01T12:04:59Z\"}"))
                        .valid())
                .isTrue();

        Parsed future = parser.parseJson(bytes("{\"source\":\"s\",\"type\":\"t\",\"time\":\"2026-03-01T12:05:01Z\"}"));
        assertThat(future.errors()).singleElement().satisfies(e -> {
            assertThat(e.field()).isEqualTo("time");
            assertThat(e.reason()).startsWith("is more than PT5M in the future");
        });
    }

    @Test
    void reportsEveryInvalidRecordAndWritesNone() throws Exception {
        Parsed parsed = parser.parseJson(bytes("""
                [{"source":"s","type":"t"},{"type":"t","id":"bad-1"},{"source":"s","type":"t","value":"x"}]"""));

        assertThat(parsed.valid()).isFalse();
        assertThat(parsed.events()).isEmpty();
        assertThat(parsed.errors())
                .extracting(ValidationError::index, ValidationError::id, ValidationError::field)
                .containsExactly(Tuple.tuple(1, "bad-1", "source"), Tuple.tuple(2, null, "value"));
    }

    @Test
    void ndjsonSkipsBlankLinesAndNamesTheBadLine() throws Exception {
        assertThat(parser.parseNdjson(
                                bytes("{\"source\":\"a\",\"type\":\"t\"}\r\n\n{\"source\":\"b\",\"type\":\"t\"}\n"))
                        .events())
                .extracting(Event::getSource)
                .containsExactly("a", "b");
        assertThatThrownBy(() -> parser.parseNdjson(bytes("{\"source\":\"a\",\"type\":\"t\"}\n{oops\n")))
                .isInstanceOf(MalformedBodyException.class)
                .hasMessageStartingWith("Line 2 is not valid JSON");
    }

    @Test
    void tooManyRecordsIsTooLarge() {
        assertThatThrownBy(() -> parser.parseJson(bytes("[{},{},{},{}]")))
                .isInstanceOfSatisfying(
                        MalformedBodyException.class,
                        e -> assertThat(e.tooLarge()).isTrue())
                .hasMessage("Too many records: at most 3 per request");
    }

    @Test
    void mqttPayloadTakesTheSourceFromTheTopicAndChecksAMatch() throws Exception {
        assertThat(parser.parseMqttPayload(bytes("{\"type\":\"t\"}"), "dev-1")
                        .events()
                        .get(0)
                        .getSource())
                .isEqualTo("dev-1");
        assertThat(parser.parseMqttPayload(bytes("{\"type\":\"t\",\"source\":\"dev-1\"}"), "dev-1")
                        .valid())
                .isTrue();
        assertThat(parser.parseMqttPayload(bytes("{\"type\":\"t\",\"source\":\"dev-2\"}"), "dev-1")
                        .errors())
                .singleElement()
                .extracting(ValidationError::reason)
                .isEqualTo("is 'dev-2' but the topic says 'dev-1'");
    }

    @Test
    void invalidUtf8IsMalformed() {
        byte[] body = {'{', '"', 's', 'o', 'u', 'r', 'c', 'e', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        assertThatThrownBy(() -> parser.parseJson(body))
                .isInstanceOf(MalformedBodyException.class)
                .hasMessageContaining("UTF-8");
    }
}
