package org.mailproxy.auth.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.mailproxy.auth.http.internal.TestSupport.build;
import static org.mailproxy.auth.http.internal.TestSupport.error;
import static org.mailproxy.auth.http.internal.TestSupport.server;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mailproxy.core.config.MailConfiguration;
import org.mailproxy.core.config.ServerConfig;

/** The directives: values, defaults, inheritance and nginx's error messages with file and line. */
class AuthHttpConfigTest {

    private final AuthHttpModule module = new AuthHttpModule(new TestSupport.RecordingLog());

    private AuthHttpUrl url(String arg) {
        return AuthHttpSettings.of(server(module, "auth_http " + arg + ";")).url();
    }

    @Test
    void urlForms() {
        assertEquals(new AuthHttpUrl("http://127.0.0.1:9000/mail/auth", "127.0.0.1:9000", "127.0.0.1", "/mail/auth",
                new InetSocketAddress("127.0.0.1", 9000), null), url("http://127.0.0.1:9000/mail/auth"));
        assertEquals(new AuthHttpUrl("127.0.0.1", "127.0.0.1:80", "127.0.0.1", "/",
                new InetSocketAddress("127.0.0.1", 80), null), url("127.0.0.1"));
        assertEquals(new AuthHttpUrl("localhost:9000/cgi-bin/auth.cgi", "127.0.0.1:9000", "localhost",
                "/cgi-bin/auth.cgi", new InetSocketAddress("127.0.0.1", 9000), null),
                url("localhost:9000/cgi-bin/auth.cgi"));
        assertEquals(new AuthHttpUrl("[::1]:9000/a", "[::1]:9000", "[::1]", "/a",
                new InetSocketAddress("::1", 9000), null), url("[::1]:9000/a"));
        assertEquals(new AuthHttpUrl("http://[::1]/", "[::1]:80", "[::1]", "/",
                new InetSocketAddress("::1", 80), null), url("http://[::1]/"));
        assertEquals(new AuthHttpUrl("127.0.0.1:81?x=1", "127.0.0.1:81", "127.0.0.1", "?x=1",
                new InetSocketAddress("127.0.0.1", 81), null), url("127.0.0.1:81?x=1"));
        assertEquals(new AuthHttpUrl("unix:/run/auth.sock", "unix:/run/auth.sock", "localhost", "/", null,
                "/run/auth.sock"), url("unix:/run/auth.sock"));
        assertEquals(new AuthHttpUrl("http://unix:/run/auth.sock:/mail/auth", "unix:/run/auth.sock", "localhost",
                "/mail/auth", null, "/run/auth.sock"), url("http://unix:/run/auth.sock:/mail/auth"));
    }

    @Test
    void defaultsAndInheritance() {
        MailConfiguration config = build(module, """
                mail {
                    auth_http 127.0.0.1:9000/auth;
                    auth_http_header X-Key mail-level;
                    auth_http_header X-Other 1;
                    auth_http_timeout 5s;
                    server {
                        listen 127.0.0.1:1143;
                        protocol imap;
                    }
                    server {
                        listen 127.0.0.1:1110;
                        protocol pop3;
                        auth_http unix:/run/a.sock;
                        auth_http_header X-Key server-level;
                        auth_http_pass_client_cert on;
                        auth_http_timeout 250ms;
                    }
                }
                """);
        AuthHttpSettings first = AuthHttpSettings.of(config.servers().get(0));
        assertEquals("127.0.0.1:9000", first.url().peerName());
        assertEquals(List.of(new AuthHttpHeader("X-Key", "mail-level"), new AuthHttpHeader("X-Other", "1")),
                first.headers());
        assertEquals(false, first.passClientCert());
        assertEquals(Duration.ofSeconds(5), first.timeout());

        AuthHttpSettings second = AuthHttpSettings.of(config.servers().get(1));
        assertEquals("unix:/run/a.sock", second.url().peerName());
        assertEquals(List.of(new AuthHttpHeader("X-Key", "server-level")), second.headers(),
                "a server with its own auth_http_header lines does not add the mail block's (nginx)");
        assertEquals(true, second.passClientCert());
        assertEquals(Duration.ofMillis(250), second.timeout());
    }

    @Test
    void nginxDefaults() {
        AuthHttpSettings s = AuthHttpSettings.of(server(module, "auth_http 127.0.0.1;"));
        assertEquals(List.of(), s.headers());
        assertEquals(false, s.passClientCert());
        assertEquals(Duration.ofSeconds(60), s.timeout());
    }

    @Test
    void keepaliveIsOnByDefaultInheritedAndNeverForUnixSockets() {
        assertEquals(true, AuthHttpSettings.of(server(module, "auth_http 127.0.0.1;")).keepAlive());
        MailConfiguration config = build(module, """
                mail {
                    auth_http 127.0.0.1:9000/auth;
                    auth_http_keepalive off;
                    server {
                        listen 127.0.0.1:1143;
                        protocol imap;
                    }
                    server {
                        listen 127.0.0.1:1110;
                        protocol pop3;
                        auth_http_keepalive on;
                    }
                    server {
                        listen 127.0.0.1:1025;
                        protocol smtp;
                        auth_http unix:/run/a.sock;
                        auth_http_keepalive on;
                    }
                }
                """);
        AuthHttpSettings first = AuthHttpSettings.of(config.servers().get(0));
        assertEquals(false, first.keepAlive());
        assertEquals(false, first.reuseConnections());
        assertEquals(true, AuthHttpSettings.of(config.servers().get(1)).reuseConnections());
        AuthHttpSettings unix = AuthHttpSettings.of(config.servers().get(2));
        assertEquals(true, unix.keepAlive());
        assertEquals(true, unix.reuseConnections(), "unix sockets keep connections too");
        assertEquals("invalid value \"maybe\" in \"auth_http_keepalive\" directive, it must be \"on\" or \"off\""
                + " in test.conf:1", error(module, "mail { auth_http_keepalive maybe; }"));
    }

    @Test
    void aRepeatedAuthHttpIsNoErrorTheLastCounts() {
        assertEquals("127.0.0.2:80", url("127.0.0.1;\nauth_http 127.0.0.2").peerName());
    }

    @Test
    void aServerWithoutAuthHttp() {
        assertEquals("no \"auth_http\" is defined for server in test.conf:4", error(module, """
                mail {
                    server_name mail.example.com;

                    server {
                        listen 127.0.0.1:1143;
                        protocol imap;
                    }
                }
                """));
    }

    @Test
    void oneServerWithItAndOneWithout() {
        assertEquals("no \"auth_http\" is defined for server in test.conf:7", error(module, """
                mail {
                    server {
                        listen 127.0.0.1:1143;
                        protocol imap;
                        auth_http 127.0.0.1:9000;
                    }
                    server {
                        listen 127.0.0.1:1110;
                        protocol pop3;
                    }
                }
                """));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "auth_http https://auth.example.com/;|invalid port in auth_http \"https://auth.example.com/\" in test.conf:2",
        "auth_http https://auth.example.com:443/;|invalid port in auth_http \"https://auth.example.com:443/\" in test.conf:2",
        "auth_http http://127.0.0.1:0/;|invalid port in auth_http \"127.0.0.1:0/\" in test.conf:2",
        "auth_http 127.0.0.1:65536;|invalid port in auth_http \"127.0.0.1:65536\" in test.conf:2",
        "auth_http 127.0.0.1:/auth;|invalid port in auth_http \"127.0.0.1:/auth\" in test.conf:2",
        "auth_http :9000/auth;|no host in auth_http \":9000/auth\" in test.conf:2",
        "auth_http \"\";|no host in auth_http \"\" in test.conf:2",
        "auth_http [::1/auth;|invalid host in auth_http \"[::1/auth\" in test.conf:2",
        "auth_http [zz::1]:9000;|invalid IPv6 address in auth_http \"[zz::1]:9000\" in test.conf:2",
        "auth_http []:9000;|no host in auth_http \"[]:9000\" in test.conf:2",
        "auth_http unix:;|no path in the unix domain socket in auth_http \"unix:\" in test.conf:2",
        "auth_http unix::/auth;|no path in the unix domain socket in auth_http \"unix::/auth\" in test.conf:2",
        "auth_http a.b.c.d.auth-http-test.invalid;|host not found in auth_http \"a.b.c.d.auth-http-test.invalid\" in test.conf:2",
        "auth_http;|invalid number of arguments in \"auth_http\" directive in test.conf:2",
        "auth_http 127.0.0.1 127.0.0.2;|invalid number of arguments in \"auth_http\" directive in test.conf:2",
        "auth_http_header X-Key;|invalid number of arguments in \"auth_http_header\" directive in test.conf:2",
        "auth_http_timeout soon;|\"auth_http_timeout\" directive invalid value in test.conf:2",
        "auth_http_timeout 5s; auth_http_timeout 6s;|\"auth_http_timeout\" directive is duplicate in test.conf:2",
        "auth_http_pass_client_cert yes;|invalid value \"yes\" in \"auth_http_pass_client_cert\" directive, it must be \"on\" or \"off\" in test.conf:2",
        "auth_http_pass_client_cert on; auth_http_pass_client_cert on;|\"auth_http_pass_client_cert\" directive is duplicate in test.conf:2",
    })
    void errorsInNginxWords(String directives, String message) {
        assertEquals(message, error(module, "mail {\n    " + directives + "\n    server { listen 127.0.0.1:1143; "
                + "protocol imap; auth_http 127.0.0.1; }\n}\n"));
    }

    @Test
    void aTooLongUnixPath() {
        String path = "/" + "p".repeat(107);
        assertEquals("too long path in the unix domain socket in auth_http \"unix:" + path + "\" in test.conf:2",
                error(module, "mail {\n    auth_http unix:" + path + ";\n    server { listen 1143; }\n}\n"));
        assertEquals("/" + "p".repeat(106), url("unix:/" + "p".repeat(106)).unixPath());
    }

    @Test
    void notAllowedOutsideMail() {
        assertEquals("\"auth_http\" directive is not allowed here in test.conf:1",
                error(module, "auth_http 127.0.0.1;\nmail { }\n"));
    }

    @Test
    void withoutTheModuleTheDirectivesWaitUnvalidated() throws Exception {
        MailConfiguration config = org.mailproxy.core.config.ConfigBuilder.build(
                org.mailproxy.core.config.ConfigParser.parse("mail {\n auth_http https://nonsense;\n"
                        + " server { listen 143; }\n}\n", "test.conf"),
                org.mailproxy.core.config.DirectiveRegistry.withCoreModules());
        assertEquals(List.of("\"auth_http\" directive belongs to the \"auth_http\" module, which is not active, "
                + "in test.conf:2"), config.notes());
        ServerConfig s = config.servers().get(0);
        assertEquals(false, s.directiveNames().contains("auth_http"));
        assertEquals(List.of("auth_http"), config.mail().unvalidated().stream().map(d -> d.name()).toList());
    }
}
