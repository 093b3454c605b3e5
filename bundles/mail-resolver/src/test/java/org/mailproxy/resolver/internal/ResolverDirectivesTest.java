package org.mailproxy.resolver.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.MailConfiguration;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.config.ValueOrigin;
import org.mailproxy.resolver.ResolverSettings;

/** {@code resolver} and {@code resolver_timeout} through the core's parser and builder. */
class ResolverDirectivesTest {

    private final ResolverComponent module = new ResolverComponent();

    private MailConfiguration build(String text) throws ConfigException {
        return TestConfigs.build(module, text);
    }

    private String error(String text) {
        return assertThrows(ConfigException.class, () -> build(text)).getMessage();
    }

    private static InetSocketAddress at(String ip, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), port);
    }

    private static final String SERVER = """
                server {
                    listen 127.0.0.1:2525;
                    protocol smtp;
                }
            """;

    @Test
    void mailLevelResolverIsInheritedWithItsParameters() throws Exception {
        MailConfiguration config = build("""
                mail {
                    resolver 127.0.0.53 [::1]:5353 192.0.2.1:54 valid=30s ipv6=off status_zone=dns;
                    resolver_timeout 5s;
                """ + SERVER + """
                    server {
                        listen 127.0.0.1:2526;
                        protocol smtp;
                        resolver 192.0.2.9 ipv4=off;
                        resolver_timeout 500ms;
                    }
                }
                """);
        ServerConfig first = config.servers().get(0);
        ResolverSettings settings = first.get("resolver");
        assertEquals(new ResolverSettings(List.of(at("127.0.0.53", 53), at("::1", 5353), at("192.0.2.1", 54)),
                Duration.ofSeconds(30), true, false, "dns"), settings);
        assertEquals("127.0.0.53:53 [::1]:5353 192.0.2.1:54 valid=30s ipv6=off status_zone=dns",
                settings.toString());
        assertEquals(Duration.ofSeconds(5), first.time("resolver_timeout"));
        assertEquals(new ValueOrigin(ValueOrigin.Source.MAIL, TestConfigs.FILE, 2), first.origin("resolver"));

        ServerConfig second = config.servers().get(1);
        assertEquals(new ResolverSettings(List.of(at("192.0.2.9", 53)), Duration.ZERO, false, true, null),
                second.get("resolver"));
        assertEquals(Duration.ofMillis(500), second.time("resolver_timeout"));
    }

    @Test
    void defaultsAreOffAndThirtySeconds() throws Exception {
        ServerConfig server = build("mail {\n" + SERVER + "}\n").servers().get(0);
        assertEquals(ResolverSettings.OFF, server.get("resolver"));
        assertTrue(server.<ResolverSettings>get("resolver").isOff());
        assertEquals(Duration.ofSeconds(30), server.time("resolver_timeout"));
    }

    @Test
    void offIsOffWhateverFollowsAndServerOffOverridesMail() throws Exception {
        MailConfiguration config = build("""
                mail {
                    resolver 192.0.2.1;
                    server {
                        listen 127.0.0.1:2525;
                        protocol smtp;
                        resolver off 192.0.2.2;
                    }
                }
                """);
        assertEquals(ResolverSettings.OFF, config.servers().get(0).get("resolver"));
    }

    @Test
    void hostNameServerBecomesEveryAddressOfIt() throws Exception {
        ResolverSettings settings = build("mail {\n    resolver localhost:5300;\n" + SERVER + "}\n").servers().get(0)
                .get("resolver");
        List<InetSocketAddress> expected = java.util.Arrays.stream(InetAddress.getAllByName("localhost"))
                .map(a -> new InetSocketAddress(a, 5300)).toList();
        assertEquals(expected, settings.servers());
    }

    @Test
    void validZeroMeansTheTtlAndValidTakesNginxSecondsSyntax() throws Exception {
        ResolverSettings zero = build("mail {\n    resolver 192.0.2.1 valid=0;\n" + SERVER + "}\n").servers().get(0)
                .get("resolver");
        assertEquals(Duration.ZERO, zero.valid());
        ResolverSettings mixed = build("mail {\n    resolver 192.0.2.1 valid=1h30m;\n" + SERVER + "}\n").servers()
                .get(0).get("resolver");
        assertEquals(Duration.ofMinutes(90), mixed.valid());
        ResolverSettings bare = build("mail {\n    resolver 192.0.2.1 valid=45;\n" + SERVER + "}\n").servers()
                .get(0).get("resolver");
        assertEquals(Duration.ofSeconds(45), bare.valid());
    }

    @ParameterizedTest(name = "resolver {0}")
    @CsvSource(delimiter = '|', value = {
        "127.0.0.1 valid=abc          | invalid parameter: valid=abc",
        "127.0.0.1 valid=             | invalid parameter: valid=",
        "127.0.0.1 valid=500ms        | invalid parameter: valid=500ms",
        "127.0.0.1 ipv4=yes           | invalid parameter: ipv4=yes",
        "127.0.0.1 ipv6=ON            | invalid parameter: ipv6=ON",
        "127.0.0.1 ipv4=off ipv6=off  | \"ipv4\" and \"ipv6\" cannot both be \"off\"",
        "valid=10s                    | no name servers defined",
        "status_zone=z ipv6=off       | no name servers defined",
        "127.0.0.1:0                  | invalid port in resolver \"127.0.0.1:0\"",
        "127.0.0.1:65536              | invalid port in resolver \"127.0.0.1:65536\"",
        "127.0.0.1:x                  | invalid port in resolver \"127.0.0.1:x\"",
        "::1                          | invalid port in resolver \"::1\"",
        ":53                          | no host in resolver \":53\"",
        "127.0.0.1/dns                | invalid host in resolver \"127.0.0.1/dns\"",
        "127.0.0.1?x                  | invalid host in resolver \"127.0.0.1?x\"",
        "[::1                         | invalid host in resolver \"[::1\"",
        "[::1]x                       | invalid host in resolver \"[::1]x\"",
        "[::1]:53/x                   | invalid host in resolver \"[::1]:53/x\"",
        "[::1]:0                      | invalid port in resolver \"[::1]:0\"",
        "[]                           | no host in resolver \"[]\"",
        "[::g]                        | invalid IPv6 address in resolver \"[::g]\"",
        "[fe80::1%lo]                 | invalid IPv6 address in resolver \"[fe80::1%lo]\"",
        "unix:/run/dns.sock           | unix domain sockets are not supported in resolver \"unix:/run/dns.sock\"",
        "no-such-host.invalid         | host not found in resolver \"no-such-host.invalid\"",
        "127.0.0.1 no-such-host.invalid valid=x | host not found in resolver \"no-such-host.invalid\"",
    })
    void errorsInNginxWordsWithFileAndLine(String args, String reason) {
        assertEquals(reason + " in /etc/mail.conf:3",
                error("mail {\n    server_name mx;\n    resolver " + args + ";\n" + SERVER + "}\n"));
    }

    @Test
    void formErrorsComeFromTheCore() {
        assertEquals("invalid number of arguments in \"resolver\" directive in /etc/mail.conf:2",
                error("mail {\n    resolver;\n" + SERVER + "}\n"));
        assertEquals("\"resolver\" directive is duplicate in /etc/mail.conf:3",
                error("mail {\n    resolver 192.0.2.1;\n    resolver 192.0.2.2;\n" + SERVER + "}\n"));
        assertEquals("\"resolver_timeout\" directive invalid value in /etc/mail.conf:2",
                error("mail {\n    resolver_timeout soon;\n" + SERVER + "}\n"));
        assertEquals("invalid number of arguments in \"resolver_timeout\" directive in /etc/mail.conf:2",
                error("mail {\n    resolver_timeout 1s 2s;\n" + SERVER + "}\n"));
        assertEquals("\"resolver\" directive is not allowed here in /etc/mail.conf:1",
                error("resolver 192.0.2.1;\nmail {\n" + SERVER + "}\n"));
    }

    @Test
    void moduleIsNamedForTheCoresOptionalModuleTable() {
        assertEquals("resolver", module.name());
        assertEquals(List.of("resolver", "resolver_timeout"),
                module.directives().stream().map(d -> d.name()).toList());
        assertTrue(org.mailproxy.core.config.OptionalModules.named("resolver").isPresent());
    }

    @Test
    void ipv4LiteralIsParsedAsNginxDoes() {
        assertEquals(4, ResolverDirectives.ipv4("192.0.2.1").length);
        assertEquals(null, ResolverDirectives.ipv4("192.0.2"));
        assertEquals(null, ResolverDirectives.ipv4("192.0.2.256"));
        assertEquals(null, ResolverDirectives.ipv4("192..2.1"));
        assertEquals(null, ResolverDirectives.ipv4("192.0.2.1."));
    }
}
