package org.mailproxy.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ValuesTest {

    private static Directive d(String name, String... args) {
        return Directive.of(name, List.of(args), "t.conf", 7);
    }

    @ParameterizedTest(name = "{0} = {1} ms")
    @CsvSource({
        "0, 0", "10, 10000", "60s, 60000", "500ms, 500", "1h30m, 5400000", "1h30, 3630000", "1d, 86400000",
        "2w, 1209600000", "3w, 1814400000", "24d, 2073600000", "1s500ms, 1500", "1w2d3h4m5s6ms, 788645006",
        "2147483s, 2147483000", "2147483647ms, 2147483647",
    })
    void timeInMilliseconds(String text, long ms) {
        assertEquals(ms, Values.parseTimeMillis(text));
    }

    @ParameterizedTest(name = "\"{0}\" is not a time in ms")
    @ValueSource(strings = {"", "1M", "1y", "25d", "4w", "s", "ms", "1x", "1m1h", "1h1h", "-1", "1.5s", "500ms1s",
        "2147484s", "2147483648ms", "h", "1 ms"})
    void invalidTimeInMilliseconds(String text) {
        assertEquals(-1, Values.parseTimeMillis(text));
    }

    @ParameterizedTest(name = "{0} = {1} s")
    @CsvSource({
        "0, 0", "30, 30", "30m, 1800", "1h30m, 5400", "1d, 86400", "2w, 1209600", "1M, 2592000", "1y, 31536000",
        "1y2M, 36720000", "68y, 2144448000", "1h30, 3630",
    })
    void timeInSeconds(String text, long s) {
        assertEquals(s, Values.parseTimeSeconds(text));
    }

    @ParameterizedTest(name = "\"{0}\" is not a time in s")
    @ValueSource(strings = {"", "500ms", "69y", "1M1y", "1s1m", "x", "1Y"})
    void invalidTimeInSeconds(String text) {
        assertEquals(-1, Values.parseTimeSeconds(text));
    }

    @ParameterizedTest(name = "{0} = {1} bytes")
    @CsvSource({"0, 0", "512, 512", "10k, 10240", "10K, 10240", "1m, 1048576", "1M, 1048576", "4k, 4096"})
    void sizes(String text, long bytes) {
        assertEquals(bytes, Values.parseSize(text));
    }

    @ParameterizedTest(name = "\"{0}\" is not a size")
    @ValueSource(strings = {"", "k", "1g", "1G", "1.5k", "-1", "1kb", "10 k", "9223372036854775807k", "99999999999999999999"})
    void invalidSizes(String text) {
        assertEquals(-1, Values.parseSize(text));
    }

    @ParameterizedTest(name = "offset {0} = {1}")
    @CsvSource({"1g, 1073741824", "2G, 2147483648", "3m, 3145728", "7, 7"})
    void offsets(String text, long bytes) {
        assertEquals(bytes, Values.parseOffset(text));
    }

    @ParameterizedTest(name = "number {0}")
    @CsvSource({"0, 0", "5, 5", "007, 7", "-1, -1", "abc, -1", "'', -1", "1e3, -1", "9223372036854775808, -1"})
    void numbers(String text, long n) {
        assertEquals(n, Values.parseNumber(text));
    }

    @Test
    void flagParser() throws ConfigException {
        assertEquals(true, Values.flag().parse(d("xclient", "on")));
        assertEquals(true, Values.flag().parse(d("xclient", "ON")));
        assertEquals(false, Values.flag().parse(d("xclient", "Off")));
        ConfigException e = assertThrows(ConfigException.class, () -> Values.flag().parse(d("xclient", "yes")));
        assertEquals("invalid value \"yes\" in \"xclient\" directive, it must be \"on\" or \"off\" in t.conf:7",
                e.getMessage());
    }

    @Test
    void typedParsersAndTheirErrors() throws ConfigException {
        assertEquals(Duration.ofMinutes(90), Values.time().parse(d("timeout", "1h30m")));
        assertEquals(Duration.ofDays(365), Values.seconds().parse(d("valid", "1y")));
        assertEquals(10240L, Values.size().parse(d("proxy_buffer", "10k")));
        assertEquals(1L << 30, Values.offset().parse(d("x", "1g")));
        assertEquals(5, Values.number().parse(d("max_errors", "5")));
        assertEquals("v2", Values.oneOf("off", "on", "v2").parse(d("proxy_protocol", "V2")));
        assertEquals(List.of("plain", "login"),
                Values.wordsOf("plain", "login", "cram-md5").parse(d("imap_auth", "PLAIN", "login", "plain")));
        assertEquals(List.of("a", "b"), Values.words().parse(d("x", "a", "b")));

        assertEquals("\"timeout\" directive invalid value in t.conf:7",
                assertThrows(ConfigException.class, () -> Values.time().parse(d("timeout", "1M"))).getMessage());
        assertEquals("\"proxy_buffer\" directive invalid value",
                assertThrows(ConfigException.class, () -> Values.size().parse(d("proxy_buffer", "1g"))).reason());
        assertEquals("\"max_errors\" directive invalid number", assertThrows(ConfigException.class,
                () -> Values.number().parse(d("max_errors", "2147483648"))).reason());
        assertEquals("invalid value \"v3\"", assertThrows(ConfigException.class,
                () -> Values.oneOf("off", "on", "v2").parse(d("proxy_protocol", "v3"))).reason());
        assertEquals("invalid value \"digest\"", assertThrows(ConfigException.class,
                () -> Values.wordsOf("plain").parse(d("imap_auth", "plain", "digest"))).reason());
    }
}
