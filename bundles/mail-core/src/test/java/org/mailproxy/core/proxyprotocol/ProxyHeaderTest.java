package org.mailproxy.core.proxyprotocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mailproxy.core.config.CidrRange;
import org.mailproxy.core.config.ConfigBuilder;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.ConfigParser;
import org.mailproxy.core.config.DirectiveRegistry;
import org.mailproxy.core.config.RealIpModule;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.spi.AuthRequest.ProxyProtocolInfo;

/** The PROXY protocol header parser and writer, {@code set_real_ip_from} values and their errors. */
class ProxyHeaderTest {

    // ---------------------------------------------------------------- parsing

    @Test
    void v1Tcp4AndTcp6() {
        ProxyHeaderParser.Result r = parse("PROXY TCP4 192.0.2.1 192.0.2.2 123 5678\r\nNOOP\r\n");
        assertEquals(41, r.length());
        assertEquals(new InetSocketAddress("192.0.2.1", 123), r.info().source());
        assertEquals(new InetSocketAddress("192.0.2.2", 5678), r.info().destination());
        r = parse("PROXY TCP6 2001:db8::1 ::1 0 65535\r\n");
        assertEquals(new InetSocketAddress("2001:db8::1", 0), r.info().source());
        assertEquals(new InetSocketAddress("::1", 65535), r.info().destination());
    }

    @Test
    void v1AddressesThatAreNotIpLiteralsAreKeptAsText() {
        // nginx only checks the characters; such a source is passed on, never used as the client address
        ProxyProtocolInfo info = parse("PROXY TCP4 1.2.3 abc 1 2\r\n").info();
        assertNull(info.source().getAddress());
        assertEquals("1.2.3", info.source().getHostString());
        assertEquals("abc", info.destination().getHostString());
    }

    @Test
    void v1UnknownIsSkipped() {
        ProxyHeaderParser.Result r = parse("PROXY UNKNOWN\r\n");
        assertEquals(15, r.length());
        assertNull(r.info());
        assertEquals(37, parse("PROXY UNKNOWN ff::1 ff::2 1000 2000\r\nNOOP").length());
    }

    @Test
    void v2Tcp4Tcp6LocalAndOtherFamilies() {
        byte[] tcp4 = ProxyHeaderWriter.v2(new InetSocketAddress("192.0.2.1", 123), new InetSocketAddress("192.0.2.2", 25));
        ProxyHeaderParser.Result r = ProxyHeaderParser.parse(tcp4, tcp4.length);
        assertEquals(28, r.length());
        assertEquals(new InetSocketAddress("192.0.2.1", 123), r.info().source());
        byte[] tcp6 = ProxyHeaderWriter.v2(new InetSocketAddress("2001:db8::1", 1), new InetSocketAddress("2001:db8::2", 2));
        r = ProxyHeaderParser.parse(tcp6, tcp6.length);
        assertEquals(52, r.length());
        assertEquals(new InetSocketAddress("2001:db8::2", 2), r.info().destination());
        byte[] local = tcp4.clone();
        local[12] = 0x20;
        r = ProxyHeaderParser.parse(local, local.length);
        assertEquals(28, r.length());
        assertNull(r.info());
        byte[] dgram = tcp4.clone();
        dgram[13] = 0x12;
        assertNull(ProxyHeaderParser.parse(dgram, dgram.length).info());
        byte[] unspec = ProxyHeaderWriter.v2(InetSocketAddress.createUnresolved("x", 1), new InetSocketAddress("192.0.2.2", 25));
        r = ProxyHeaderParser.parse(unspec, unspec.length);
        assertEquals(16, r.length());
        assertNull(r.info());
    }

    @Test
    void everyPrefixOfAValidHeaderAsksForMore() {
        List<byte[]> headers = List.of(
                "PROXY TCP4 192.0.2.1 192.0.2.2 123 5678\r\n".getBytes(StandardCharsets.US_ASCII),
                "PROXY TCP6 2001:db8::1 ::1 0 65535\r\n".getBytes(StandardCharsets.US_ASCII),
                "PROXY UNKNOWN\r\n".getBytes(StandardCharsets.US_ASCII),
                ProxyHeaderWriter.v2(new InetSocketAddress("192.0.2.1", 123), new InetSocketAddress("192.0.2.2", 25)),
                ProxyHeaderWriter.v2(new InetSocketAddress("2001:db8::1", 1), new InetSocketAddress("2001:db8::2", 2)));
        for (byte[] h : headers) {
            for (int n = 0; n < h.length; n++) {
                ProxyHeaderParser.Result r = ProxyHeaderParser.parse(h, n);
                assertFalse(r.complete() || r.broken(), n + " bytes of " + new String(h, StandardCharsets.ISO_8859_1));
            }
            assertEquals(h.length, ProxyHeaderParser.parse(h, h.length).length());
        }
    }

    @Test
    void brokenHeadersAreRefusedAsSoonAsSeenWithNginxWords() {
        assertEquals("broken header: \"NOOP\"", parse("NOOP\r\n").error());
        assertEquals("broken header: \"G\"", parse("G").error());
        assertEquals("broken header: \"PROXY TCP5\"", parse("PROXY TCP5").error());
        assertEquals("broken header: \"PROXY TCP4 1.2.3.4 1.2.3.5 1 65536\"", parse("PROXY TCP4 1.2.3.4 1.2.3.5 1 65536\r\n").error());
        assertEquals("broken header: \"PROXY TCP4 1.2.3.4 1.2.3.5  2\"", parse("PROXY TCP4 1.2.3.4 1.2.3.5  2\r\n").error());
        assertEquals("broken header: \"PROXY TCP4 1.2.3.4 1.2.3.5 1 2\"", parse("PROXY TCP4 1.2.3.4 1.2.3.5 1 2\rX").error());
        assertEquals("broken header: \"PROXY TCP4 1.2.3.4 1.2.3.5 1 2\"", parse("PROXY TCP4 1.2.3.4 1.2.3.5 1 2\n").error());
        assertEquals("broken header: \"PROXY TCP4 1.2.3.4 x\"", parse("PROXY TCP4 1.2.3.4 x").error());
        assertEquals("broken header: \"PROXY UNKNOWX\"", parse("PROXY UNKNOWX").error());
        assertEquals("broken header: \"PROXY TCP4 \\x00\"", parse("PROXY TCP4 \0").error());
    }

    @Test
    void v1IsLimitedTo107Bytes() {
        String longest = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
        assertEquals(104, longest.length());
        assertEquals(104, parse(longest).length());
        String padded = "PROXY TCP6 " + "0".repeat(80) + " ::1 65535 65535\r\n"; // 113 bytes
        assertTrue(parse(padded).broken(), "over 107 bytes");
        assertTrue(parse("PROXY TCP6 " + "1".repeat(96)).broken(), "107 bytes without an end");
        assertFalse(parse("PROXY TCP6 " + "1".repeat(95)).broken(), "106 bytes: may still end");
        assertTrue(parse("PROXY UNKNOWN " + "x".repeat(93)).broken());
    }

    @Test
    void v2VersionAndSizeLimits() {
        byte[] h = ProxyHeaderWriter.v2(new InetSocketAddress("192.0.2.1", 123), new InetSocketAddress("192.0.2.2", 25));
        byte[] v1 = h.clone();
        v1[12] = 0x11;
        assertEquals("unknown PROXY protocol version: 1", ProxyHeaderParser.parse(v1, 16).error());
        byte[] large = h.clone();
        large[14] = 0x0f;
        large[15] = (byte) 0xf1; // 16 + 4081 = 4097
        assertEquals("header is too large", ProxyHeaderParser.parse(large, 16).error());
        large[15] = (byte) 0xf0; // 4096: allowed, wait for it
        assertFalse(ProxyHeaderParser.parse(large, 28).broken());
        byte[] shortBlock = h.clone();
        shortBlock[15] = 8; // TCP over IPv4 needs 12
        assertTrue(ProxyHeaderParser.parse(shortBlock, 24).broken());
    }

    // ---------------------------------------------------------------- writing

    @Test
    void writesV1AsNginx() {
        assertEquals("PROXY TCP4 192.0.2.1 127.0.0.1 123 25\r\n", text(ProxyHeaderWriter.v1(
                new InetSocketAddress("192.0.2.1", 123), new InetSocketAddress("127.0.0.1", 25))));
        assertEquals("PROXY TCP6 2001:db8::1 ::1 1 25\r\n", text(ProxyHeaderWriter.v1(
                new InetSocketAddress("2001:db8::1", 1), new InetSocketAddress("::1", 25))));
        assertEquals("PROXY TCP6 ::ffff:192.0.2.1 ::1 1 25\r\n", text(ProxyHeaderWriter.v1(
                new InetSocketAddress("192.0.2.1", 1), new InetSocketAddress("::1", 25))));
        assertEquals("PROXY UNKNOWN\r\n", text(ProxyHeaderWriter.v1(
                InetSocketAddress.createUnresolved("x", 1), new InetSocketAddress("::1", 25))));
    }

    @Test
    void writesV2AsNginx() {
        byte[] v4 = ProxyHeaderWriter.v2(new InetSocketAddress("192.0.2.1", 0x1234), new InetSocketAddress("127.0.0.1", 25));
        assertArrayEquals(new byte[] {'\r', '\n', '\r', '\n', 0, '\r', '\n', 'Q', 'U', 'I', 'T', '\n', 0x21, 0x11, 0, 12,
                (byte) 192, 0, 2, 1, 127, 0, 0, 1, 0x12, 0x34, 0, 25}, v4);
        byte[] mixed = ProxyHeaderWriter.v2(new InetSocketAddress("192.0.2.1", 1), new InetSocketAddress("::1", 25));
        assertEquals(52, mixed.length);
        assertEquals(0x21, mixed[13]);
        ProxyProtocolInfo info = ProxyHeaderParser.parse(mixed, mixed.length).info();
        assertEquals(new InetSocketAddress("192.0.2.1", 1), info.source()); // ::ffff:192.0.2.1
        assertEquals(new InetSocketAddress("::1", 25), info.destination());
        assertEquals(0, ProxyHeaderWriter.version("off"));
        assertEquals(1, ProxyHeaderWriter.version("on"));
        assertEquals(2, ProxyHeaderWriter.version("v2"));
    }

    // ---------------------------------------------------------------- set_real_ip_from

    @Test
    void cidrRanges() {
        CidrRange net = CidrRange.parse("192.0.2.77/24");
        assertEquals("192.0.2.0/24", net.toString()); // low bits cleared, as nginx does (with a warning)
        assertTrue(net.matches(new InetSocketAddress("192.0.2.200", 1)));
        assertFalse(net.matches(new InetSocketAddress("192.0.3.1", 1)));
        assertFalse(net.matches(new InetSocketAddress("::1", 1)));
        assertTrue(CidrRange.parse("127.0.0.1").matches(new InetSocketAddress("127.0.0.1", 5)));
        assertFalse(CidrRange.parse("127.0.0.1").matches(new InetSocketAddress("127.0.0.2", 5)));
        assertTrue(CidrRange.parse("2001:db8::/32").matches(new InetSocketAddress("2001:db8:1::5", 5)));
        assertTrue(CidrRange.parse("0.0.0.0/0").matches(new InetSocketAddress("203.0.113.1", 5)));
        assertTrue(CidrRange.parse("::ffff:192.0.2.0/120").matches(new InetSocketAddress("192.0.2.9", 5)));
        assertTrue(CidrRange.UNIX.matches(new java.net.SocketAddress() { }));
        assertFalse(CidrRange.UNIX.matches(new InetSocketAddress("127.0.0.1", 5)));
        for (String bad : List.of("192.0.2.1/33", "::1/129", "1.2.3", "localhost", "1.2.3.4/", "1.2.3.4/x", "unix:/x")) {
            assertThrows(IllegalArgumentException.class, () -> CidrRange.parse(bad), bad);
        }
    }

    @Test
    void setRealIpFromIsInheritedAndItsErrorsNameFileAndLine() throws ConfigException {
        ServerConfig inherited = build("mail {\n set_real_ip_from 10.0.0.0/8;\n set_real_ip_from unix:;\n"
                + " server { listen 127.0.0.1:1143 proxy_protocol; protocol imap; }\n}\n");
        assertEquals(List.of(CidrRange.parse("10.0.0.0/8"), CidrRange.UNIX), inherited.get(RealIpModule.SET_REAL_IP_FROM));
        ServerConfig own = build("mail {\n set_real_ip_from 10.0.0.0/8;\n"
                + " server { listen 1143; protocol imap; set_real_ip_from 192.0.2.1; }\n}\n");
        assertEquals(List.of(CidrRange.parse("192.0.2.1")), own.get(RealIpModule.SET_REAL_IP_FROM));
        ServerConfig none = build("mail { server { listen 1143; protocol imap; proxy_protocol v2; } }");
        assertEquals(List.of(), none.get(RealIpModule.SET_REAL_IP_FROM));
        assertEquals("v2", none.get("proxy_protocol"));

        ConfigException e = assertThrows(ConfigException.class, () -> build("mail {\n server {\n  listen 1143;\n"
                + "  protocol imap;\n  set_real_ip_from mail.example;\n }\n}\n"));
        assertTrue(e.getMessage().contains("set_real_ip_from") && e.getMessage().contains("\"mail.example\"")
                && e.getMessage().endsWith("test.conf:5"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> build("mail {\n set_real_ip_from 10.0.0.0/33;\n}\n"));
        assertTrue(e.getMessage().endsWith("test.conf:2"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> build("mail {\n set_real_ip_from;\n}\n"));
        assertTrue(e.getMessage().contains("invalid number of arguments"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> build("mail {\n proxy_protocol v3;\n}\n"));
        assertTrue(e.getMessage().contains("invalid value \"v3\"") && e.getMessage().endsWith("test.conf:2"), e.getMessage());
    }

    private static ServerConfig build(String text) throws ConfigException {
        List<ServerConfig> servers = ConfigBuilder.build(ConfigParser.parse(text, "test.conf"),
                DirectiveRegistry.withCoreModules()).servers();
        return servers.isEmpty() ? null : servers.get(0);
    }

    private static ProxyHeaderParser.Result parse(String text) {
        byte[] b = text.getBytes(StandardCharsets.ISO_8859_1);
        return ProxyHeaderParser.parse(b, b.length);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.US_ASCII);
    }
}
