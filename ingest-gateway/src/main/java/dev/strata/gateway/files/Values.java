package dev.strata.gateway.files;

import com.fasterxml.jackson.databind.JsonNode;
import dev.strata.schemas.lake.ColumnType;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoField;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAccessor;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What type a raw value of an uploaded file has, and its value as a column of a given type. A raw
 * value is a CSV field (a {@code String}) or an NDJSON field (a {@link JsonNode}).
 *
 * <p>CSV: an empty field is null; {@code true}/{@code false} (any case) a boolean; an integer that
 * fits 64 bits a long; a decimal number (digits, optional fraction and exponent: no {@code NaN},
 * hex or type suffix) a double; an ISO-8601 date-time ({@code T} or a space between date and time,
 * an offset or {@code Z}, or none: UTC) a timestamp; anything else a string. Surrounding spaces do
 * not count for the typed values; a string keeps them. NDJSON: JSON's own types; a JSON string is a
 * timestamp when it is an ISO-8601 date-time, else a string; an object or array is a string of its
 * JSON text.
 */
final class Values {

    private static final Pattern TIMESTAMP_SHAPE = Pattern.compile("\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}.*");
    private static final DateTimeFormatter DATE_TIME = new DateTimeFormatterBuilder()
            .parseCaseInsensitive()
            .append(DateTimeFormatter.ISO_LOCAL_DATE)
            .optionalStart()
            .appendLiteral('T')
            .optionalEnd()
            .optionalStart()
            .appendLiteral(' ')
            .optionalEnd()
            .appendValue(ChronoField.HOUR_OF_DAY, 2)
            .appendLiteral(':')
            .appendValue(ChronoField.MINUTE_OF_HOUR, 2)
            .optionalStart()
            .appendLiteral(':')
            .appendValue(ChronoField.SECOND_OF_MINUTE, 2)
            .optionalStart()
            .appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
            .optionalEnd()
            .optionalEnd()
            .optionalStart()
            .appendOffset("+HH:MM", "Z")
            .optionalEnd()
            .optionalStart()
            .appendOffset("+HHMM", "Z")
            .optionalEnd()
            .toFormatter()
            .withResolverStyle(ResolverStyle.STRICT);

    private Values() {}

    /** A value that does not fit its column's type; the message says why. */
    static final class BadValue extends Exception {
        BadValue(String message) {
            super(message, null, false, false);
        }
    }

    /** The narrowest type of a raw value, or null for a null value. */
    static ColumnType typeOf(Object raw) {
        if (raw == null) {
            return null;
        }
        if (raw instanceof JsonNode node) {
            if (node.isNull() || node.isMissingNode()) {
                return null;
            }
            if (node.isBoolean()) {
                return ColumnType.BOOLEAN;
            }
            if (node.isIntegralNumber()) {
                return node.canConvertToLong() ? ColumnType.LONG : ColumnType.STRING;
            }
            if (node.isNumber()) {
                return ColumnType.DOUBLE;
            }
            if (node.isTextual()) {
                return timestampMicros(node.textValue()) != null ? ColumnType.TIMESTAMP : ColumnType.STRING;
            }
            return ColumnType.STRING;
        }
        String text = ((String) raw).strip();
        if (text.isEmpty()) {
            return null;
        }
        if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
            return ColumnType.BOOLEAN;
        }
        if (digitsAfterSign(text) > 0) {
            // An integer over 64 bits stays text: as a double it would lose digits without a word.
            return isLong(text) && parseLong(text) != null ? ColumnType.LONG : ColumnType.STRING;
        }
        if (isDouble(text)) {
            return ColumnType.DOUBLE;
        }
        if (timestampMicros(text) != null) {
            return ColumnType.TIMESTAMP;
        }
        return ColumnType.STRING;
    }

    /**
     * The value of {@code raw} in a column of {@code type}: {@code Boolean}, {@code Long},
     * {@code Double}, {@code Long} micros since the epoch (timestamp), {@code String}; null for null.
     */
    static Object convert(Object raw, ColumnType type) throws BadValue {
        if (raw instanceof String csv) {
            return convertText(csv, type);
        }
        JsonNode node = (JsonNode) raw;
        if (node.isNull() || node.isMissingNode()) {
            return null;
        }
        Object value = switch (type) {
            case STRING -> node.isTextual() ? node.textValue() : node.toString();
            case BOOLEAN -> node.isBoolean() ? (Object) node.booleanValue() : null;
            case LONG -> node.isIntegralNumber() && node.canConvertToLong() ? (Object) node.longValue() : null;
            case DOUBLE ->
                node.isNumber() && (!node.isIntegralNumber() || node.canConvertToLong())
                        ? (Object) node.doubleValue()
                        : null;
            case TIMESTAMP -> node.isTextual() ? timestampMicros(node.textValue()) : null;
        };
        if (value == null) {
            throw new BadValue("'" + abbreviate(node.isTextual() ? node.textValue() : node.toString()) + "' is not a "
                    + name(type));
        }
        return value;
    }

    /** A CSV field as a value of {@code type}: parsed for that type only (the hot path of a conversion). */
    private static Object convertText(String raw, ColumnType type) throws BadValue {
        if (type == ColumnType.STRING) {
            return raw.isEmpty() || raw.isBlank() ? null : raw;
        }
        String text = raw.strip();
        if (text.isEmpty()) {
            return null;
        }
        Object value = switch (type) {
            case BOOLEAN ->
                text.equalsIgnoreCase("true") ? Boolean.TRUE : text.equalsIgnoreCase("false") ? Boolean.FALSE : null;
            case LONG -> isLong(text) ? parseLong(text) : null;
            case DOUBLE -> isDouble(text) ? (Object) Double.parseDouble(text) : null;
            case TIMESTAMP -> timestampMicros(text);
            default -> throw new IllegalStateException(type.name());
        };
        if (value == null) {
            throw new BadValue("'" + abbreviate(text) + "' is not a " + name(type));
        }
        return value;
    }

    static String name(ColumnType type) {
        return type.name().toLowerCase(Locale.ROOT);
    }

    static String abbreviate(String text) {
        return text.length() <= 80 ? text : text.substring(0, 77) + "...";
    }

    /**
     * The common shape {@code yyyy-MM-ddTHH:mm:ss[.f{1,9}]Z} without a formatter (a conversion
     * meets it once per row); null for any other shape, which the formatter then reads.
     */
    private static Long utcMicros(String t) {
        int n = t.length();
        if (n < 20
                || t.charAt(n - 1) != 'Z'
                || t.charAt(4) != '-'
                || t.charAt(7) != '-'
                || t.charAt(10) != 'T'
                || t.charAt(13) != ':'
                || t.charAt(16) != ':') {
            return null;
        }
        int year = digits(t, 0, 4);
        int month = digits(t, 5, 2);
        int day = digits(t, 8, 2);
        int hour = digits(t, 11, 2);
        int minute = digits(t, 14, 2);
        int second = digits(t, 17, 2);
        if ((year | month | day | hour | minute | second) < 0
                || month < 1
                || month > 12
                || day < 1
                || hour > 23
                || minute > 59
                || second > 59) {
            return null;
        }
        long micros = 0;
        if (n > 20) {
            if (t.charAt(19) != '.' || n - 21 > 9 || n - 21 < 1) {
                return null;
            }
            int fraction = digits(t, 20, n - 21);
            if (fraction < 0) {
                return null;
            }
            micros = fraction;
            for (int i = n - 21; i < 6; i++) {
                micros *= 10;
            }
            for (int i = n - 21; i > 6; i--) {
                micros /= 10;
            }
        }
        if (day > YearMonth.of(year, month).lengthOfMonth()) {
            return null;
        }
        long days = LocalDate.of(year, month, day).toEpochDay();
        return ((days * 86_400 + hour * 3600L + minute * 60L + second) * 1_000_000L) + micros;
    }

    /** The non-negative number of {@code length} ASCII digits at {@code from}, or -1. */
    private static int digits(String t, int from, int length) {
        int value = 0;
        for (int i = from; i < from + length; i++) {
            char c = t.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    /*
     * The shapes of numbers, checked by hand on the hot path of a conversion (a regular expression's
     * matcher per value was a fifth of the reading thread's time); ValuesTest holds them to the
     * expressions they replace. ASCII digits only: Long.parseLong and Double.parseDouble would also
     * take other scripts' digits, "NaN", "Infinity", hexadecimal and a trailing 'd'.
     */

    /** How many ASCII digits {@code text} is after an optional sign (0 if anything else is in it): {@code [+-]?\d+}. */
    static int digitsAfterSign(String text) {
        int n = text.length();
        int i = n > 0 && (text.charAt(0) == '+' || text.charAt(0) == '-') ? 1 : 0;
        if (i == n) {
            return 0;
        }
        for (int j = i; j < n; j++) {
            if (!digit(text.charAt(j))) {
                return 0;
            }
        }
        return n - i;
    }

    /** {@code [+-]?\d{1,19}}. */
    static boolean isLong(String text) {
        int digits = digitsAfterSign(text);
        return digits > 0 && digits <= 19;
    }

    /** {@code [+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?}. */
    static boolean isDouble(String text) {
        int n = text.length();
        int i = n > 0 && (text.charAt(0) == '+' || text.charAt(0) == '-') ? 1 : 0;
        int before = 0;
        while (i < n && digit(text.charAt(i))) {
            i++;
            before++;
        }
        int after = 0;
        if (i < n && text.charAt(i) == '.') {
            i++;
            while (i < n && digit(text.charAt(i))) {
                i++;
                after++;
            }
        }
        if (before == 0 && after == 0) {
            return false;
        }
        if (i < n && (text.charAt(i) == 'e' || text.charAt(i) == 'E')) {
            i++;
            if (i < n && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
                i++;
            }
            int exponent = 0;
            while (i < n && digit(text.charAt(i))) {
                i++;
                exponent++;
            }
            if (exponent < 1 || exponent > 3) {
                return false;
            }
        }
        return i == n;
    }

    private static boolean digit(char c) {
        return c >= '0' && c <= '9';
    }

    private static Long parseLong(String text) {
        try {
            return Long.parseLong(text.startsWith("+") ? text.substring(1) : text);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Microseconds since the epoch of an ISO-8601 date-time (no offset: UTC), or null. */
    static Long timestampMicros(String text) {
        String t = text.strip();
        Long fast = utcMicros(t);
        if (fast != null) {
            return fast;
        }
        if (!TIMESTAMP_SHAPE.matcher(t).matches()) {
            return null;
        }
        try {
            TemporalAccessor parsed = DATE_TIME.parse(t);
            Instant instant = parsed.isSupported(ChronoField.OFFSET_SECONDS)
                    ? OffsetDateTime.from(parsed).toInstant()
                    : LocalDateTime.from(parsed).toInstant(ZoneOffset.UTC);
            return ChronoUnit.MICROS.between(Instant.EPOCH, instant);
        } catch (DateTimeException | ArithmeticException e) {
            return null;
        }
    }
}
