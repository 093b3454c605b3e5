package org.mailproxy.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ListenParserTest {

    private static List<ListenSpec> listen(String... args) throws ConfigException {
        return ListenParser.parse(Directive.of("listen", Arrays.asList(args), "t.conf", 3));
    }

    private static ListenSpec one(String... args) throws ConfigException {
        List<ListenSpec> specs = listen(args);
        assertEquals(1, specs.size(), specs.toString());
        return specs.get(0);
    }

    private static String error(String... args) {
        return assertThrows(ConfigException.class, () -> listen(args)).getMessage();
    }

    @ParameterizedTest(name = "listen {0} -> {1}")
    @CsvSource({
        "143, 0.0.0.0:143, true",
        "*:110, 0.0.0.0:110, true",
        "0.0.0.0:25, 0.0.0.0:25, true",
        "127.0.0.1:110, 127.0.0.1:110, false",
        "10.1.2.3:587, 10.1.2.3:587, false",
        "[::1]:110, [::1]:110, false",
        "[::]:993, [::]:993, true",
        "[2001:db8::5]:995, [2001:db8::5]:995, false",
    })
    void addressForms(String url, String text, boolean wildcard) throws ConfigException {
        ListenSpec l = one(url);
        assertEquals(text, l.addressText());
        assertEquals(wildcard, l.isWildcard());
        assertEquals("t.conf", l.file());
        assertEquals(3, l.line());
    }

    @Test
    void defaultsOfAPlainListen() throws ConfigException {
        ListenSpec l = one("143");
        assertEquals(143, l.port());
        assertFalse(l.ssl());
        assertFalse(l.proxyProtocol());
        assertEquals(-1, l.backlog());
        assertEquals(-1, l.rcvbuf());
        assertEquals(-1, l.sndbuf());
        assertFalse(l.bind());
        assertNull(l.ipv6only());
        assertFalse(l.reuseport());
        assertNull(l.keepalive());
        assertFalse(l.needsOwnBind());
    }

    @Test
    void hostNameGivesEveryAddress() throws ConfigException {
        List<ListenSpec> specs = listen("localhost:110");
        assertTrue(specs.stream().anyMatch(l -> l.addressText().equals("127.0.0.1:110")), specs.toString());
        assertEquals(specs.size(), specs.stream().map(ListenSpec::addressText).distinct().count());
    }

    @Test
    void unixSocket() throws ConfigException {
        ListenSpec l = one("unix:/var/run/mail.sock", "proxy_protocol");
        assertEquals(Path.of("/var/run/mail.sock"), l.unixPath());
        assertNull(l.address());
        assertEquals(-1, l.port());
        assertEquals("unix:/var/run/mail.sock", l.addressText());
        assertTrue(l.proxyProtocol());
        assertEquals(Path.of("/x"), one("UNIX:/x").unixPath());
    }

    @Test
    void portRange() throws ConfigException {
        assertEquals(List.of("0.0.0.0:8143", "0.0.0.0:8144", "0.0.0.0:8145"),
                listen("8143-8145").stream().map(ListenSpec::addressText).toList());
        assertEquals(List.of("127.0.0.1:1", "127.0.0.1:2"),
                listen("127.0.0.1:1-2").stream().map(ListenSpec::addressText).toList());
    }

    @Test
    void parameters() throws ConfigException {
        ListenSpec l = one("[::]:993", "ssl", "proxy_protocol", "backlog=100", "rcvbuf=64k", "sndbuf=1m", "bind",
                "ipv6only=off", "reuseport", "so_keepalive=on");
        assertTrue(l.ssl());
        assertTrue(l.proxyProtocol());
        assertEquals(100, l.backlog());
        assertEquals(65536, l.rcvbuf());
        assertEquals(1048576, l.sndbuf());
        assertTrue(l.bind());
        assertEquals(Boolean.FALSE, l.ipv6only());
        assertTrue(l.reuseport());
        assertEquals(new ListenSpec.KeepAlive(true, null, null, null), l.keepalive());
        assertTrue(l.needsOwnBind());
        assertEquals(Boolean.TRUE, one("[::]:993", "ipv6only=on").ipv6only());
        assertTrue(one("993", "backlog=5").needsOwnBind());
    }

    @ParameterizedTest(name = "so_keepalive={0}")
    @CsvSource(delimiter = '|', value = {
        "off       | false |      |      |",
        "30m::10   | true  | 1800 |      | 10",
        "1h:5m:    | true  | 3600 | 300  |",
        ":75:      | true  |      | 75   |",
        "::3       | true  |      |      | 3",
        "0:0:1     | true  |      |      | 1",
        "10        | true  | 10   |      |",
    })
    void soKeepalive(String value, boolean enabled, Long idle, Long interval, Integer count) throws ConfigException {
        ListenSpec.KeepAlive k = one("25", "so_keepalive=" + value).keepalive();
        assertEquals(new ListenSpec.KeepAlive(enabled, idle == null ? null : Duration.ofSeconds(idle),
                interval == null ? null : Duration.ofSeconds(interval), count), k);
    }

    @ParameterizedTest(name = "listen {0}")
    @CsvSource(delimiter = '|', value = {
        "0                  | invalid port in \"0\" of the \"listen\" directive",
        "70000              | invalid port in \"70000\" of the \"listen\" directive",
        "1.2.3.4:0          | invalid port in \"1.2.3.4:0\" of the \"listen\" directive",
        "host:abc           | invalid port in \"host:abc\" of the \"listen\" directive",
        "a:b:25             | invalid port in \"a:b:25\" of the \"listen\" directive",
        "10-5               | invalid port range in \"10-5\" of the \"listen\" directive",
        "*:20-10            | invalid port range in \"*:20-10\" of the \"listen\" directive",
        "10-70000           | invalid port in \"10-70000\" of the \"listen\" directive",
        ":110               | no host in \":110\" of the \"listen\" directive",
        "127.0.0.1          | no port in \"127.0.0.1\" of the \"listen\" directive",
        "localhost          | no port in \"localhost\" of the \"listen\" directive",
        "a/b:1              | invalid host in \"a/b:1\" of the \"listen\" directive",
        "[::1               | invalid host in \"[::1\" of the \"listen\" directive",
        "[::1]110           | invalid host in \"[::1]110\" of the \"listen\" directive",
        "[::1]              | no port in \"[::1]\" of the \"listen\" directive",
        "[]:110             | no host in \"[]:110\" of the \"listen\" directive",
        "[zz::1]:110        | invalid IPv6 address in \"[zz::1]:110\" of the \"listen\" directive",
        "[1.2.3.4]:110      | invalid IPv6 address in \"[1.2.3.4]:110\" of the \"listen\" directive",
        "unix:              | no path in the unix domain socket in \"unix:\" of the \"listen\" directive",
        "nosuchhost.invalid:25 | host not found in \"nosuchhost.invalid:25\" of the \"listen\" directive",
    })
    void addressErrors(String url, String message) {
        assertEquals(message + " in t.conf:3", error(url));
    }

    @Test
    void tooLongUnixPath() {
        assertEquals("too long path in the unix domain socket in \"unix:/" + "x".repeat(107)
                + "\" of the \"listen\" directive", assertThrows(ConfigException.class,
                        () -> listen("unix:/" + "x".repeat(107))).reason());
        assertEquals(Path.of("/" + "x".repeat(106)), unixOf("unix:/" + "x".repeat(106)));
    }

    private static Path unixOf(String url) {
        try {
            return one(url).unixPath();
        } catch (ConfigException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest(name = "listen 25 {0}")
    @CsvSource(delimiter = '|', value = {
        "backlog=0          | invalid backlog \"backlog=0\"",
        "backlog=x          | invalid backlog \"backlog=x\"",
        "backlog=-1         | invalid backlog \"backlog=-1\"",
        "rcvbuf=1g          | invalid rcvbuf \"rcvbuf=1g\"",
        "rcvbuf=            | invalid rcvbuf \"rcvbuf=\"",
        "sndbuf=big         | invalid sndbuf \"sndbuf=big\"",
        "ipv6only=onn       | invalid ipv6only flags \"onn\"",
        "ipv6only=of        | invalid ipv6only flags \"of\"",
        "ipv6only=yes       | the invalid \"ipv6only=yes\" parameter",
        "so_keepalive=      | invalid so_keepalive value: \"\"",
        "so_keepalive=::    | invalid so_keepalive value: \"::\"",
        "so_keepalive=0::0  | invalid so_keepalive value: \"0::0\"",
        "so_keepalive=1ms:: | invalid so_keepalive value: \"1ms::\"",
        "so_keepalive=x     | invalid so_keepalive value: \"x\"",
        "so_keepalive=1:2:3:4 | invalid so_keepalive value: \"1:2:3:4\"",
        "so_keepalive=ON    | invalid so_keepalive value: \"ON\"",
        "multipath          | multipath is not supported on this platform: the JDK has no MPTCP sockets",
        "SSL                | the invalid \"SSL\" parameter",
        "http2              | the invalid \"http2\" parameter",
    })
    void parameterErrors(String param, String message) {
        assertEquals(message + " in t.conf:3", error("25", param));
    }

    @Test
    void addressErrorsComeBeforeParameterErrors() {
        assertEquals("invalid port in \"0\" of the \"listen\" directive in t.conf:3", error("0", "foo"));
    }

    @Test
    void sameSocket() throws ConfigException {
        assertTrue(ListenParser.sameSocket(one("143"), one("*:143")));
        assertTrue(ListenParser.sameSocket(one("0.0.0.0:143"), one("143", "ssl")));
        assertFalse(ListenParser.sameSocket(one("127.0.0.1:143"), one("143")));
        assertFalse(ListenParser.sameSocket(one("[::]:143"), one("143")));
        assertFalse(ListenParser.sameSocket(one("143"), one("993")));
        assertTrue(ListenParser.sameSocket(one("unix:/a"), one("unix:/a")));
        assertFalse(ListenParser.sameSocket(one("unix:/a"), one("143")));
    }

    @Test
    void nginxIpv4Quirks() {
        assertEquals("[1, 0, 2, 3]", Arrays.toString(ListenParser.ipv4("1..2.3")));
        assertEquals("[1, 2, 3, 0]", Arrays.toString(ListenParser.ipv4("1.2.3.")));
        assertNull(ListenParser.ipv4("1.2.3"));
        assertNull(ListenParser.ipv4("1.2.3.4.5"));
        assertNull(ListenParser.ipv4("256.1.1.1"));
        assertNull(ListenParser.ipv4(""));
    }
}
