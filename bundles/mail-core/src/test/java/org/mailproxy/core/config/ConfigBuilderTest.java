package org.mailproxy.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mailproxy.core.config.ValueOrigin.Source;
import org.mailproxy.core.spi.MailModule;

class ConfigBuilderTest {

    @TempDir
    Path dir;

    private final DirectiveRegistry core = DirectiveRegistry.withCoreModules();

    private Path file(String text) {
        return TestFiles.write(dir, "mail.conf", text);
    }

    /** ssl_certificate/ssl_certificate_key lines with certificates made for this test ({@code listen ... ssl} needs them). */
    private String certs() {
        return new org.mailproxy.core.tls.TestCerts(dir).directives().replace("\n", " ");
    }

    private MailConfiguration build(String text) {
        return TestFiles.build(file(text), core);
    }

    private String error(String text) {
        Path f = file(text);
        return TestFiles.error(f, core).getMessage().replace(f.toString(), "F");
    }

    @Test
    void seedExampleLoadsWithTheCoreModulesOnly() {
        Path f = file(TestFiles.SEED);
        MailConfiguration config = TestFiles.build(f, core);

        assertEquals(List.of("smtp", "pop3", "imap", "smtp"),
                config.servers().stream().map(ServerConfig::protocol).toList());
        assertEquals(List.of("0.0.0.0:25", "0.0.0.0:110", "0.0.0.0:143", "0.0.0.0:587"),
                config.servers().stream().map(s -> s.listens().get(0).addressText()).toList());

        ServerConfig pop3 = config.servers().get(1);
        assertEquals(f.toString(), pop3.file());
        assertEquals(26, pop3.line());
        assertTrue(pop3.flag("proxy_pass_error_message"));
        assertEquals(new ValueOrigin(Source.SERVER, f.toString(), 29), pop3.origin("proxy_pass_error_message"));
        assertFalse(config.servers().get(0).flag("proxy_pass_error_message"));
        assertEquals(ValueOrigin.DEFAULT, config.servers().get(0).origin("proxy_pass_error_message"));

        for (ServerConfig s : config.servers()) {
            assertFalse(s.flag("xclient"));
            assertEquals(new ValueOrigin(Source.MAIL, f.toString(), 20), s.origin("xclient"));
            assertEquals("mail.example.com", s.string("server_name"));
            assertEquals(Duration.ofSeconds(60), s.time("timeout"));
            assertEquals(Duration.ofHours(24), s.time("proxy_timeout"));
            assertEquals(16384, s.size("proxy_buffer"));
            assertEquals(5, s.number("max_errors"));
            assertEquals(1000, s.number("max_commands"));
            assertEquals("off", s.string("proxy_protocol"));
            assertEquals(List.of(), s.get("error_log"));
        }

        assertEquals("mail.example.com", config.mail().get("server_name"));
        assertEquals(List.of("auth_http", "imap_capabilities", "pop3_auth", "pop3_capabilities", "smtp_auth",
                "smtp_capabilities"), config.mail().unvalidated().stream().map(Directive::name).toList());
        assertEquals(List.of(
                "\"worker_processes\" directive is outside of \"mail\", ignored in " + f + ":1",
                "\"events\" directive is outside of \"mail\", ignored in " + f + ":5",
                "\"auth_http\" directive belongs to the \"auth_http\" module, which is not active, in " + f + ":11",
                "\"imap_capabilities\" directive belongs to the \"imap\" module, which is not active, in " + f + ":13",
                "\"pop3_auth\" directive belongs to the \"pop3\" module, which is not active, in " + f + ":15",
                "\"pop3_capabilities\" directive belongs to the \"pop3\" module, which is not active, in " + f + ":16",
                "\"smtp_auth\" directive belongs to the \"smtp\" module, which is not active, in " + f + ":18",
                "\"smtp_capabilities\" directive belongs to the \"smtp\" module, which is not active, in " + f + ":19"),
                config.notes());
    }

    @Test
    void seedExampleValidatesOnceTheModulesAreActive() {
        Path f = file(TestFiles.SEED);
        core.add(TestFiles.imap());
        core.add(TestFiles.pop3());
        core.add(TestFiles.smtp());
        core.add(TestFiles.authHttp());
        MailConfiguration config = TestFiles.build(f, core);

        assertEquals(List.of(), config.mail().unvalidated());
        ServerConfig imap = config.servers().get(2);
        assertEquals(List.of("IMAP4rev1", "UIDPLUS", "IDLE", "LITERAL+", "QUOTA"), imap.get("imap_capabilities"));
        assertEquals(List.of("plain"), imap.get("imap_auth"));
        assertEquals(ValueOrigin.DEFAULT, imap.origin("imap_auth"));
        assertEquals(List.of("SIZE 10485760", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN"),
                config.servers().get(0).get("smtp_capabilities"));
        assertEquals("localhost:9000/cgi-bin/auth.cgi", imap.string("auth_http"));
        assertEquals(2, config.notes().size(), config.notes().toString());

        core.remove(TestFiles.imap());
        assertTrue(core.isActive("imap"));
    }

    @Test
    void theSameDirectiveIsCheckedOnceItsModuleIsActive() {
        Path f = file("mail {\n    imap_auth plain digest-md5;\n    server { listen 143; }\n}\n");
        MailConfiguration inactive = TestFiles.build(f, core);
        assertEquals(List.of("imap_auth"), inactive.mail().unvalidated().stream().map(Directive::name).toList());
        assertEquals(List.of("imap_auth"), inactive.mail().rawDirectives().stream().map(Directive::name).toList());
        assertThrows(IllegalArgumentException.class, () -> inactive.servers().get(0).get("imap_auth"));

        MailModule imap = TestFiles.imap();
        core.add(imap);
        assertEquals("invalid value \"digest-md5\" in " + f + ":2", TestFiles.error(f, core).getMessage());
        core.remove(imap);
        assertFalse(core.isActive("imap"));
        TestFiles.build(f, core);
    }

    @Test
    void unknownDirectiveOfAnActiveModuleOrNoModuleIsAnError() {
        assertEquals("unknown directive \"foo_bar\" in F:2", error("mail {\n    foo_bar on;\n}\n"));
        core.add(TestFiles.imap());
        assertEquals("unknown directive \"imap_foo\" in F:2", error("mail {\n    imap_foo on;\n}\n"));
    }

    @Test
    void optionalModulesInsideServersAndTheResolver() {
        MailConfiguration config = build("mail {\n  resolver 127.0.0.1 valid=30s;\n  resolver_timeout 5s;\n"
                + "  server {\n    listen 25;\n    smtp_greeting_delay 1s;\n    auth_http_header X-Key secret;\n  }\n}\n");
        ServerConfig smtp = config.servers().get(0);
        assertEquals(List.of("smtp_greeting_delay", "auth_http_header"),
                smtp.own().unvalidated().stream().map(Directive::name).toList());
        assertEquals(List.of("listen", "smtp_greeting_delay", "auth_http_header"),
                smtp.rawDirectives().stream().map(Directive::name).toList());
        assertEquals(4, config.notes().size());
    }

    @Test
    void wholeNginxFileWithOtherBlocks() {
        MailConfiguration config = build("""
                user nginx;
                worker_processes 4;
                events { worker_connections 1024; }
                http {
                    include mime.types.nonexistent*;
                    server {
                        listen 80;
                        location / { if ($x = "y") { return 403; } }
                    }
                }
                stream { server { listen 2525; proxy_pass backend; } }
                mail {
                    server { listen 127.0.0.1:143; }
                    server { listen 127.0.0.1:110; }
                }
                """);
        assertEquals(List.of("imap", "pop3"), config.servers().stream().map(ServerConfig::protocol).toList());
        assertEquals(5, config.notes().size());
        assertTrue(config.notes().get(3).startsWith("\"http\" directive is outside of \"mail\", ignored in "));
    }

    @Test
    void noMailBlockIsANote() {
        MailConfiguration config = build("events {}\n");
        assertEquals(List.of(), config.servers());
        assertEquals("no \"mail\" block is defined, no mail server to run", config.notes().get(1));
        assertNull(config.mail().file());
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "`mail {}\nmail {}`                                  | \"mail\" directive is duplicate in F:2",
        "`mail;`                                             | directive \"mail\" has no opening \"{\" in F:1",
        "`mail x {}`                                         | invalid number of arguments in \"mail\" directive in F:1",
        "`listen 25;\nmail {}`                               | \"listen\" directive is not allowed here in F:1",
        "`mail { server { server {} } }`                     | \"server\" directive is not allowed here in F:1",
        "`mail {\n mail {}\n}`                               | \"mail\" directive is not allowed here in F:2",
        "`mail {\n listen 25;\n}`                            | \"listen\" directive is not allowed here in F:2",
        "`mail {\n protocol imap;\n}`                        | \"protocol\" directive is not allowed here in F:2",
        "`mail {\n server;\n}`                               | directive \"server\" has no opening \"{\" in F:2",
        "`mail {\n server x {}\n}`                           | invalid number of arguments in \"server\" directive in F:2",
        "`mail {\n timeout 1s {}\n}`                         | directive \"timeout\" is not terminated by \";\" in F:2",
        "`mail {\n timeout;\n}`                              | invalid number of arguments in \"timeout\" directive in F:2",
        "`mail {\n timeout 1 2;\n}`                          | invalid number of arguments in \"timeout\" directive in F:2",
        "`mail {\n server { listen; }\n}`                    | invalid number of arguments in \"listen\" directive in F:2",
        "`mail {\n timeout 1s;\n timeout 2s;\n}`             | \"timeout\" directive is duplicate in F:3",
        "`mail {\n timeout x;\n timeout 2s;\n}`              | \"timeout\" directive invalid value in F:2",
        "`mail {\n timeout 1M;\n}`                           | \"timeout\" directive invalid value in F:2",
        "`mail {\n proxy_timeout 25d;\n}`                    | \"proxy_timeout\" directive invalid value in F:2",
        "`mail {\n proxy_buffer 1g;\n}`                      | \"proxy_buffer\" directive invalid value in F:2",
        "`mail {\n max_errors -1;\n}`                        | \"max_errors\" directive invalid number in F:2",
        "`mail {\n max_commands many;\n}`                    | \"max_commands\" directive invalid number in F:2",
        "`mail {\n xclient maybe;\n}`                        | invalid value \"maybe\" in \"xclient\" directive, it must be \"on\" or \"off\" in F:2",
        "`mail {\n proxy on off;\n}`                         | invalid number of arguments in \"proxy\" directive in F:2",
        "`mail {\n proxy_protocol v3;\n}`                    | invalid value \"v3\" in F:2",
        "`mail {\n server_name a;\n server_name b;\n}`       | \"server_name\" directive is duplicate in F:3",
        "`mail {\n error_log /l warnx;\n}`                   | invalid log level \"warnx\" in F:2",
        "`error_log /l warnx;\nmail {\n}`                   | invalid log level \"warnx\" in F:1",
        "`mail {\n error_log /l warn info;\n}`               | duplicate log level \"info\" in F:2",
        "`mail {\n error_log /l warn x;\n}`                  | invalid parameter \"x\" in F:2",
        "`mail {\n error_log /l info debug_mail;\n}`         | invalid log level \"debug_mail\" in F:2",
        "`mail {\n error_log;\n}`                            | invalid number of arguments in \"error_log\" directive in F:2",
        "`mail {\n server {\n listen 143;\n protocol ftp;\n }\n}` | unknown protocol \"ftp\" in F:4",
        "`mail {\n server {\n listen 143;\n protocol IMAP;\n }\n}` | unknown protocol \"IMAP\" in F:4",
        "`mail {\n server {\n listen 143;\n protocol imap;\n protocol imap;\n }\n}` | \"protocol\" directive is duplicate in F:5",
        "`mail {\n server {\n protocol imap;\n }\n}`        | no \"listen\" is defined for server in F:2",
        "`mail {\n server {\n listen 8143;\n }\n}`          | unknown mail protocol for server in F:2",
        "`mail {\n server { listen 143; }\n server {\n listen *:143;\n }\n}` | duplicate \"0.0.0.0:143\" address and port pair in F:4",
        "`mail {\n server {\n listen 143;\n listen 0.0.0.0:143 ssl;\n }\n}` | duplicate \"0.0.0.0:143\" address and port pair in F:4",
        "`mail {\n server {\n listen [::1]:993;\n }\n server {\n listen [0:0::1]:993; }\n}` | duplicate \"[::1]:993\" address and port pair in F:6",
        "`mail {\n server { listen 143; foo; }\n}`           | unknown directive \"foo\" in F:2",
        "`mail {\n server { listen 1430; }\n server { listen 143; listen 143; }\n}` | duplicate \"0.0.0.0:143\" address and port pair in F:3",
    })
    void errors(String text, String message) {
        assertEquals(message, error(text));
    }

    @Test
    void parseErrorsOfLaterServersComeBeforeMergeErrorsOfEarlierOnes() {
        assertEquals("unknown directive \"x\" in F:3",
                error("mail {\n server { listen 8000; }\n server { listen 143; x; }\n}\n"));
        assertEquals("unknown mail protocol for server in F:2",
                error("mail {\n server { listen 8000; }\n server { listen 8001; }\n}\n"));
    }

    /** nginx's ngx_mail_protocol_t ports: imap 143, 993; pop3 110, 995; smtp 25, 465, 587. */
    @ParameterizedTest(name = "listen {0}; is {1}")
    @CsvSource({"143, imap", "993, imap", "110, pop3", "995, pop3", "25, smtp", "465, smtp", "587, smtp"})
    void aWellKnownPortAloneGivesTheProtocol(int port, String protocol) {
        ServerConfig server = build("mail {\n    server {\n        listen " + port + ";\n    }\n}\n").servers().get(0);
        assertEquals(protocol, server.protocol());
        assertEquals(protocol, server.string("protocol"));
        assertEquals(Source.DEFAULT, server.origin("protocol").source());
    }

    @Test
    void protocolFromPortOrExplicit() {
        MailConfiguration config = build("""
                mail { %s
                    server { listen 993 ssl; }
                    server { listen 8080; listen 995; listen 25; }
                    server { listen 465; protocol imap; }
                    server { listen unix:/tmp/x.sock; protocol smtp; }
                    server { protocol pop3; listen 587; }
                }
                """.formatted(certs()));
        assertEquals(List.of("imap", "pop3", "imap", "smtp", "pop3"),
                config.servers().stream().map(ServerConfig::protocol).toList());
        ServerConfig guessed = config.servers().get(1);
        assertEquals(Source.DEFAULT, guessed.origin("protocol").source());
        assertEquals(3, guessed.origin("protocol").line());
        assertEquals(Source.SERVER, config.servers().get(2).origin("protocol").source());
        assertEquals("pop3", guessed.string("protocol"));
        assertEquals(3, guessed.listens().size());
    }

    @Test
    void inheritanceAndOrigins() {
        Path f = file("""
                mail {
                    timeout 30s;
                    error_log /var/log/mail1.log info;
                    error_log /var/log/mail2.log;
                    proxy_buffer 16k;
                    server {
                        listen 143;
                        timeout 10s;
                        error_log stderr debug;
                    }
                    server {
                        listen 110;
                        server_name pop.example.com;
                    }
                }
                """);
        MailConfiguration config = TestFiles.build(f, core);
        ServerConfig imap = config.servers().get(0);
        ServerConfig pop3 = config.servers().get(1);

        assertEquals(Duration.ofSeconds(10), imap.time("timeout"));
        assertEquals(new ValueOrigin(Source.SERVER, f.toString(), 8), imap.origin("timeout"));
        assertEquals(Duration.ofSeconds(30), pop3.time("timeout"));
        assertEquals(new ValueOrigin(Source.MAIL, f.toString(), 2), pop3.origin("timeout"));

        assertEquals(List.of(new ErrorLog("stderr", "debug")), imap.get("error_log"));
        assertEquals(List.of(new ErrorLog("/var/log/mail1.log", "info"), new ErrorLog("/var/log/mail2.log", "error")),
                pop3.get("error_log"));
        assertEquals(new ValueOrigin(Source.MAIL, f.toString(), 3), pop3.origin("error_log"));

        assertEquals(16384, pop3.size("proxy_buffer"));
        assertEquals("pop.example.com", pop3.string("server_name"));
        assertEquals(Hostname.get(), imap.string("server_name"));
        assertEquals(ValueOrigin.DEFAULT, imap.origin("server_name"));
        assertEquals("default", imap.origin("server_name").toString());
        assertEquals("mail " + f + ":2", pop3.origin("timeout").toString());

        assertEquals(Duration.ofSeconds(30), config.mail().get("timeout"));
        assertTrue(config.mail().isSet("proxy_buffer"));
        assertFalse(config.mail().isSet("xclient"));
        assertEquals(3, config.mail().directive("error_log").orElseThrow().line());
        assertEquals(List.of("timeout", "error_log", "proxy_buffer"), List.copyOf(config.mail().names()));
        assertEquals(List.of("timeout", "error_log", "error_log", "proxy_buffer"),
                config.mail().rawDirectives().stream().map(Directive::name).toList());
    }

    @Test
    void emptyServerNameMeansTheHostName() {
        MailConfiguration config = build("mail { server_name \"\"; server { listen 25; } }");
        assertEquals(Hostname.get(), config.servers().get(0).string("server_name"));
    }

    @Test
    void serverOnlyDirectivesAreNotInherited() {
        core.add(TestFiles.module("extra",
                DirectiveSpec.builder("extra_local").context(Context.MAIL, Context.SERVER).number().defaultValue(1)
                        .serverOnly().build(),
                DirectiveSpec.builder("extra_list").context(Context.MAIL, Context.SERVER).words().repeatable().build(),
                DirectiveSpec.builder("extra_nodefault").context(Context.SERVER).string().build()));
        MailConfiguration config = build("""
                mail {
                    extra_local 5;
                    extra_list a b;
                    extra_list c;
                    server { listen 25; }
                    server { listen 110; extra_local 7; extra_list d; }
                }
                """);
        ServerConfig first = config.servers().get(0);
        ServerConfig second = config.servers().get(1);
        assertEquals(1, first.number("extra_local"));
        assertEquals(7, second.number("extra_local"));
        assertEquals(List.of(List.of("a", "b"), List.of("c")), first.get("extra_list"));
        assertEquals(List.of(List.of("d")), second.get("extra_list"));
        assertNull(first.get("extra_nodefault"));
        assertEquals(Source.DEFAULT, first.origin("extra_nodefault").source());
        assertThrows(java.util.NoSuchElementException.class, () -> first.string("extra_nodefault"));
        assertThrows(IllegalArgumentException.class, () -> first.get("no_such_directive"));
        assertThrows(IllegalArgumentException.class, () -> first.origin("no_such_directive"));
    }

    @Test
    void modulesMayRejectAServer() {
        core.add(new MailModule() {
            @Override
            public String name() {
                return "auth_http";
            }

            @Override
            public List<DirectiveSpec> directives() {
                return TestFiles.authHttp().directives();
            }

            @Override
            public void validate(ServerConfig server) throws ConfigException {
                if (server.get("auth_http") == null) {
                    throw new ConfigException("no \"auth_http\" is defined for server", server.file(), server.line());
                }
            }
        });
        assertEquals("no \"auth_http\" is defined for server in F:3",
                error("mail {\n server { listen 25; auth_http 127.0.0.1:9000; }\n server { listen 110; }\n}\n"));
        build("mail {\n auth_http 127.0.0.1:9000;\n server { listen 25; }\n}\n");
    }

    @Test
    void serversCompareByMeaningNotPosition() {
        String base = """
                mail { %s
                    xclient off;
                    server { listen 25; protocol smtp; }
                    server { listen 143; timeout 10s; }
                }
                """.formatted(certs());
        MailConfiguration one = build(base);
        MailConfiguration moved = build("# a comment\n\n" + base.replace("xclient off;", "xclient   off;  # same"));
        assertEquals(one.servers(), moved.servers());
        assertEquals(one.servers().get(0).hashCode(), moved.servers().get(0).hashCode());
        assertEquals(one.mail(), moved.mail());
        assertEquals(one, moved);

        MailConfiguration mailChanged = build(base.replace("xclient off;", "xclient on;"));
        assertNotEquals(one.servers().get(0), mailChanged.servers().get(0));
        assertNotEquals(one.servers().get(1), mailChanged.servers().get(1));

        MailConfiguration serverChanged = build(base.replace("timeout 10s;", "timeout 11s;"));
        assertEquals(one.servers().get(0), serverChanged.servers().get(0));
        assertNotEquals(one.servers().get(1), serverChanged.servers().get(1));

        MailConfiguration listenChanged = build(base.replace("listen 25;", "listen 25 ssl;"));
        assertNotEquals(one.servers().get(0), listenChanged.servers().get(0));
        assertEquals(one.servers().get(1), listenChanged.servers().get(1));

        MailConfiguration inherited = build(base.replace("xclient off;", "").replace("protocol smtp;",
                "protocol smtp; xclient off;").replace("timeout 10s;", "timeout 10s; xclient off;"));
        assertEquals(one.servers(), inherited.servers());
        assertEquals(Source.SERVER, inherited.servers().get(0).origin("xclient").source());
    }

    @Test
    void unvalidatedDirectivesCountInEquality() {
        MailConfiguration one = build("mail { server { listen 25; smtp_auth login; } }");
        MailConfiguration two = build("mail { server { listen 25; smtp_auth plain; } }");
        assertNotEquals(one.servers().get(0), two.servers().get(0));
    }

    @Test
    void listenValuesAreAllListensOfTheServer() {
        ServerConfig s = build("mail { server { listen 127.0.0.1:25; listen 127.0.0.2:25 ssl; } " + certs() + " }").servers().get(0);
        List<ListenSpec> listens = s.get("listen");
        assertEquals(s.listens(), listens);
        assertEquals(List.of("127.0.0.1:25", "127.0.0.2:25"), listens.stream().map(ListenSpec::addressText).toList());
        assertEquals("server smtp 127.0.0.1:25 127.0.0.2:25 at " + s.file() + ":1", s.toString());
    }

    @Test
    void includedServers() {
        TestFiles.write(dir, "servers/imap.conf", "server {\n    listen 143;\n}\n");
        TestFiles.write(dir, "servers/pop3.conf", "server {\n    listen 110;\n    timeout bad;\n}\n");
        Path f = file("mail {\n    include servers/*.conf;\n}\n");
        ConfigException e = TestFiles.error(f, core);
        assertEquals("\"timeout\" directive invalid value in " + dir.resolve("servers/pop3.conf") + ":3",
                e.getMessage());
    }

    @Test
    void registryWithoutCoreIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> ConfigBuilder.build(List.of(), new DirectiveRegistry()));
    }
}
