package dev.strata.gateway.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.schemas.lake.ColumnType;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ValuesTest {

    static long micros(String instant) {
        return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.parse(instant));
    }

    @Test
    void theNumberShapesAreExactlyTheRegularExpressionsTheyReplace() {
        Pattern integer = Pattern.compile("[+-]?\\d+");
        Pattern longShape = Pattern.compile("[+-]?\\d{1,19}");
        Pattern doubleShape = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d{1,3})?");
        char[] alphabet = {'0', '7', '9', '+', '-', '.', 'e', 'E', 'x', ' ', '\u0661'};
        Random random = new Random(42);
        int doubles = 0;
        for (int n = 0; n < 200_000; n++) {
            StringBuilder text = new StringBuilder();
            int length = random.nextInt(n % 10 == 0 ? 24 : 8);
            for (int i = 0; i < length; i++) {
                text.append(alphabet[random.nextInt(alphabet.length)]);
            }
            String t = text.toString();
            assertThat(Values.digitsAfterSign(t) > 0)
                    .as(t)
                    .isEqualTo(integer.matcher(t).matches());
            assertThat(Values.isLong(t)).as(t).isEqualTo(longShape.matcher(t).matches());
            assertThat(Values.isDouble(t))
                    .as(t)
                    .isEqualTo(doubleShape.matcher(t).matches());
            doubles += Values.isDouble(t) ? 1 : 0;
        }
        assertThat(doubles).as("the strings tried include numbers").isGreaterThan(1_000);
    }

    @Test
    void typesOfCsvFields() {
        assertThat(Values.typeOf("")).isNull();
        assertThat(Values.typeOf("  ")).isNull();
        assertThat(Values.typeOf("TRUE")).isEqualTo(ColumnType.BOOLEAN);
        assertThat(Values.typeOf("-42")).isEqualTo(ColumnType.LONG);
        assertThat(Values.typeOf("9223372036854775807")).isEqualTo(ColumnType.LONG);
        assertThat(Values.typeOf("9223372036854775808")).as("over 64 bits").isEqualTo(ColumnType.STRING);
        assertThat(Values.typeOf("1.5e3")).isEqualTo(ColumnType.DOUBLE);
        assertThat(Values.typeOf(".5")).isEqualTo(ColumnType.DOUBLE);
        for (String notADouble : new String[] {"NaN", "Infinity", "0x1p3", "1d", "1f", "1.2.3", "1e"}) {
            assertThat(Values.typeOf(notADouble)).as(notADouble).isEqualTo(ColumnType.STRING);
        }
        assertThat(Values.typeOf("2026-11-23T10:00:00Z")).isEqualTo(ColumnType.TIMESTAMP);
        assertThat(Values.typeOf("2026-11-23"))
                .as("a date alone stays a string")
                .isEqualTo(ColumnType.STRING);
        assertThat(Values.typeOf("2026-02-30T10:00:00Z")).as("no such day").isEqualTo(ColumnType.STRING);
    }

    @Test
    void timestampsTheFastPathAndTheFormatterReadAlike() {
        assertThat(Values.timestampMicros("2026-11-23T10:00:00Z")).isEqualTo(micros("2026-11-23T10:00:00Z"));
        assertThat(Values.timestampMicros("2026-11-23T10:00:00.5Z")).isEqualTo(micros("2026-11-23T10:00:00.5Z"));
        assertThat(Values.timestampMicros("2026-11-23T10:00:00.123456789Z"))
                .isEqualTo(micros("2026-11-23T10:00:00.123456Z"));
        assertThat(Values.timestampMicros("1969-12-31T23:59:59Z")).isEqualTo(-1_000_000L);
        assertThat(Values.timestampMicros("2024-02-29T00:00:00Z")).isEqualTo(micros("2024-02-29T00:00:00Z"));
        assertThat(Values.timestampMicros("2026-11-23 10:00:00")).isEqualTo(micros("2026-11-23T10:00:00Z"));
        assertThat(Values.timestampMicros("2026-11-23T12:00:00+02:00")).isEqualTo(micros("2026-11-23T10:00:00Z"));
        assertThat(Values.timestampMicros("2026-11-23T10:00")).isEqualTo(micros("2026-11-23T10:00:00Z"));
        assertThat(Values.timestampMicros("2026-11-23T24:00:00Z")).isNull();
        assertThat(Values.timestampMicros("2026-02-30 10:00:00")).isNull();
        assertThat(Values.timestampMicros("2026-13-01T00:00:00Z")).isNull();
        assertThat(Values.timestampMicros("yesterday")).isNull();
    }

    @Test
    void conversionsToAColumnsTypeSayWhyAValueDoesNotFit() throws Exception {
        assertThat(Values.convert(" 7 ", ColumnType.LONG)).isEqualTo(7L);
        assertThat(Values.convert("7", ColumnType.DOUBLE)).isEqualTo(7.0);
        assertThat(Values.convert(" x ", ColumnType.STRING)).isEqualTo(" x ");
        assertThat(Values.convert("", ColumnType.LONG)).isNull();
        assertThat(Values.convert(new ObjectMapper().readTree("12"), ColumnType.DOUBLE))
                .isEqualTo(12.0);
        assertThat(Values.convert(new ObjectMapper().readTree("{\"a\":[1]}"), ColumnType.STRING))
                .isEqualTo("{\"a\":[1]}");
        assertThatThrownBy(() -> Values.convert("1.5", ColumnType.LONG)).hasMessage("'1.5' is not a long");
        assertThatThrownBy(() -> Values.convert("yes", ColumnType.BOOLEAN)).hasMessage("'yes' is not a boolean");
        assertThatThrownBy(() -> Values.convert(new ObjectMapper().readTree("\"3\""), ColumnType.LONG))
                .hasMessage("'3' is not a long");
    }
}
