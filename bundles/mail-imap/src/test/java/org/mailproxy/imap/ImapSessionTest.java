package org.mailproxy.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.auth.http.internal.AuthHttpModule;
import org.mailproxy.core.config.Context;
import org.mailproxy.core.config.DirectiveSpec;
import org.mailproxy.core.spi.MailModule;
import org.mailproxy.imap.fixtures.AuthServer;
import org.mailproxy.imap.fixtures.Client;
import org.mailproxy.imap.fixtures.FakeImapBackend;
import org.mailproxy.imap.fixtures.ImapProxy;

/**
 * The IMAP protocol end to end over real sockets: the core's listeners and sessions, this
 * bundle's handler, a real HTTP auth server and a scripted IMAP backend. The cases follow nginx's
 * mail_imap.t and Angie's mail_oauth.t.
 */
class ImapSessionTest {

    private AuthServer auth;
    private FakeImapBackend backend;
    private ImapProxy proxy;
    private final AuthHttpModule authHttp = new AuthHttpModule();

    @BeforeEach
    void start() throws Exception {
        backend = new FakeImapBackend();
        auth = new AuthServer(this::nginxTestAuth);
        authHttp.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        authHttp.stop();
        auth.close();
        backend.close();
    }

    /** The auth location of nginx's mail_imap.t, without its Auth-Wait unless asked. */
    private Map<String, String> nginxTestAuth(Map<String, String> h) {
        String userpass = h.get("auth-user") + ":" + h.get("auth-pass");
        String reply = "ERROR";
        String pass = null;
        if (userpass.equals("test@example.com:secret") || userpass.equals("te\\\"st@example.com:se\\\"cret")
                || userpass.equals("capability@example.com:secret")) {
            reply = "OK";
        }
        if ((h.get("auth-user") + ":" + h.get("auth-salt") + ":" + h.get("auth-pass"))
                .matches("test@example.com:<.*@.*>:0{32}")) {
            reply = "OK";
            pass = "secret";
        }
        if ((h.get("auth-method") + ":" + h.get("auth-user") + ":" + h.get("auth-pass"))
                .equals("external:test@example.com:")) {
            reply = "OK";
            pass = "secret";
        }
        Map<String, String> out = new HashMap<>();
        out.put("Auth-Status", reply);
        out.put("Auth-Server", "127.0.0.1");
        out.put("Auth-Port", String.valueOf(backend.port()));
        if (pass != null) {
            out.put("Auth-Pass", pass);
        }
        if (wait != null) {
            out.put("Auth-Wait", wait);
        }
        return out;
    }

    private String wait = "1";

    private void serve(String directives) throws Exception {
        proxy = new ImapProxy(new ImapProtocol(authHttp),
                "auth_http http://127.0.0.1:" + auth.port() + "/mail/auth;\n" + directives, authHttp);
    }

    private Client client() throws Exception {
        Client c = proxy.connect();
        assertEquals("* OK IMAP4 ready", c.readLine());
        return c;
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    /** After a successful login the client talks to the backend: NOOP comes back from it. */
    private static void assertRelayed(Client c) throws Exception {
        c.line("r1 NOOP");
        assertEquals("r1 OK completed", c.readLine());
    }

    // ---------------------------------------------------------------- commands before login

    @Test
    void greetingCapabilityNoopLogout() throws Exception {
        serve("imap_auth plain cram-md5 external;");
        try (Client c = client()) {
            c.line("a1 CAPABILITY");
            assertEquals("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN AUTH=CRAM-MD5 AUTH=EXTERNAL", c.readLine());
            assertEquals("a1 OK completed", c.readLine());
            c.line("a2 noop");
            assertEquals("a2 OK completed", c.readLine());
            c.line("a3 LOGOUT");
            assertEquals("* BYE", c.readLine());
            assertEquals("a3 OK completed", c.readLine());
            assertTrue(c.closedByPeer());
        }
    }

    @Test
    void unknownCommandsAndStarttlsWithoutTls() throws Exception {
        serve("");
        try (Client c = client()) {
            c.line("a1 SELECT INBOX");
            assertEquals("a1 BAD invalid command", c.readLine());
            c.line("+x NOOP");
            assertEquals("* BAD invalid command", c.readLine());
            c.line("a2 STARTTLS");
            assertEquals("a2 BAD invalid command", c.readLine());
            c.line("a3 NOOP");
            assertEquals("a3 OK completed", c.readLine());
        }
    }

    @Test
    void idIsAnsweredLocally() throws Exception {
        serve("");
        try (Client c = client()) {
            c.line("a1 ID (\"name\" \"Thunderbird\" \"version\" \"128.0\")");
            assertEquals("* ID NIL", c.readLine());
            assertEquals("a1 OK completed", c.readLine());
            c.line("a2 ID NIL");
            assertEquals("* ID NIL", c.readLine());
            assertEquals("a2 OK completed", c.readLine());
            c.line("a3 ID (\"name\")");
            assertEquals("a3 BAD invalid command", c.readLine());
            c.line("a4 ID {4}");
            assertEquals("+ OK", c.readLine());
            c.line("abcd");
            assertEquals("a4 BAD invalid command", c.readLine(), "a literal is a string, not NIL");
        }
    }

    @Test
    void idWithAConfiguredListOrOff() throws Exception {
        serve("imap_id name \"mail proxy\" version 1.0;");
        try (Client c = client()) {
            c.line("a1 ID NIL");
            assertEquals("* ID (\"name\" \"mail proxy\" \"version\" \"1.0\")", c.readLine());
            assertEquals("a1 OK completed", c.readLine());
        }
        proxy.close();
        serve("imap_id off; max_errors 1;");
        try (Client c = client()) {
            c.line("a1 ID NIL");
            assertEquals("a1 BAD invalid command", c.readLine());
            assertTrue(c.closedByPeer(), "counted as an error, as nginx counts an unknown command");
        }
    }

    @Test
    void starttlsOnlyRefusesLoginsWithoutTls() throws Exception {
        // the core's ssl module: starttls needs a certificate, made for this test
        org.mailproxy.core.tls.TestCerts certs = new org.mailproxy.core.tls.TestCerts(
                java.nio.file.Files.createTempDirectory("imap-certs"));
        proxy = new ImapProxy(new ImapProtocol(authHttp), "auth_http http://127.0.0.1:" + auth.port()
                + "/mail/auth;\nstarttls only;\n" + certs.directives(), authHttp);
        try (Client c = client()) {
            c.line("a1 CAPABILITY");
            assertEquals("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS STARTTLS LOGINDISABLED", c.readLine());
            assertEquals("a1 OK completed", c.readLine());
            c.line("a2 LOGIN test@example.com secret");
            assertEquals("a2 BAD invalid command", c.readLine());
            c.line("a3 AUTHENTICATE PLAIN " + b64("\0test@example.com\0secret"));
            assertEquals("a3 BAD invalid command", c.readLine());
            c.line("a4 NOOP");
            assertEquals("a4 OK completed", c.readLine());
        }
        assertTrue(auth.requests().isEmpty(), "nothing reached the auth server");
    }

    // ---------------------------------------------------------------- LOGIN

    @Test
    void login() throws Exception {
        serve("");
        try (Client c = client()) {
            c.line("a01 LOGIN");
            assertEquals("a01 BAD invalid command", c.readLine());
            c.line("a03 LOGIN test@example.com secret");
            assertEquals("a03 OK LOGIN completed", c.readLine(), "the backend's answer under the client's tag");
            assertRelayed(c);
        }
        assertEquals("a03 LOGIN {16}\r\ntest@example.com {6}\r\nsecret\r\nr1 NOOP\r\n", backend.received(0));
        Map<String, String> request = auth.lastRequest();
        assertEquals("plain", request.get("auth-method"));
        assertEquals("test@example.com", request.get("auth-user"));
        assertEquals("secret", request.get("auth-pass"));
        assertEquals("imap", request.get("auth-protocol"));
        assertEquals("1", request.get("auth-login-attempt"));
        assertEquals("127.0.0.1", request.get("client-ip"));
    }

    @Test
    void wrongPasswordWithAuthWaitThenRetry() throws Exception {
        serve("");
        try (Client c = client()) {
            long start = System.nanoTime();
            c.line("a02 LOGIN test@example.com bad");
            assertEquals("a02 NO ERROR", c.readLine());
            assertTrue(System.nanoTime() - start >= 900_000_000L, "Auth-Wait: 1 delays the answer");
            c.line("a03 LOGIN test@example.com secret");
            assertEquals("a03 OK LOGIN completed", c.readLine());
            assertEquals("2", auth.lastRequest().get("auth-login-attempt"));
        }
    }

    @Test
    void wrongPasswordWithoutAuthWaitCloses() throws Exception {
        wait = null;
        serve("");
        try (Client c = client()) {
            c.line("a02 LOGIN test@example.com bad");
            assertEquals("a02 NO ERROR", c.readLine());
            assertTrue(c.closedByPeer());
        }
    }

    @Test
    void commandsPipelinedDuringAuthWaitAreAnsweredAfterIt() throws Exception {
        serve("");
        try (Client c = client()) {
            c.send("a1 LOGIN test@example.com bad\r\na2 NOOP\r\na3 LOGIN test@example.com secret\r\nr1 NOOP\r\n");
            assertEquals("a1 NO ERROR", c.readLine());
            assertEquals("a2 OK completed", c.readLine());
            assertEquals("a3 OK LOGIN completed", c.readLine());
            assertEquals("r1 OK completed", c.readLine());
        }
    }

    @Test
    void authWaitStatusIsRetriedByTheAuthenticator() throws Exception {
        wait = null;
        int[] calls = {0};
        auth.respond(h -> {
            if (calls[0]++ == 0) {
                return Map.of("Auth-Status", "WAIT", "Auth-Wait", "1");
            }
            return nginxTestAuth(h);
        });
        serve("");
        try (Client c = client()) {
            c.line("a1 LOGIN test@example.com secret");
            assertEquals("a1 OK LOGIN completed", c.readLine());
        }
        assertEquals(2, auth.requests().size());
        assertEquals("1", auth.requests().get(1).get("auth-login-attempt"), "a WAIT is not a new attempt");
    }

    @Test
    void loginWithUntaggedCapability() throws Exception {
        backend.close();
        backend = new FakeImapBackend(new FakeImapBackend.Script() {
            @Override
            public List<String> beforeLoginReply(String login, String password) {
                return login.startsWith("capability") ? List.of("* CAPABILITY IMAP4rev1 IDLE") : List.of();
            }
        });
        serve("");
        try (Client c = client()) {
            c.line("a04 LOGIN capability@example.com secret");
            assertEquals("* CAPABILITY IMAP4rev1 IDLE", c.readLine());
            assertEquals("a04 OK LOGIN completed", c.readLine());
            assertRelayed(c);
        }
    }

    @Test
    void quotedStringsAndLiterals() throws Exception {
        serve("");
        try (Client c = client()) {
            c.line("a01 LOGIN \"te\\\\\\\"st@example.com\" \"se\\\\\\\"cret\"");
            assertEquals("a01 OK LOGIN completed", c.readLine());
        }
        assertEquals("te\\\"st@example.com", auth.lastRequest().get("auth-user"));
        try (Client c = client()) {
            c.line("a01 LOGIN {18}");
            assertEquals("+ OK", c.readLine());
            c.line("te\\\"st@example.com {8}");
            assertEquals("+ OK", c.readLine());
            c.line("se\\\"cret");
            assertEquals("a01 OK LOGIN completed", c.readLine());
        }
        try (Client c = client()) {
            c.send("a01 LOGIN {18+}\r\nte\\\"st@example.com {8+}\r\nse\\\"cret\r\n");
            assertEquals("a01 OK LOGIN completed", c.readLine());
        }
        try (Client c = client()) {
            c.send("a01 LOGIN {18+}\r\nte\\\"st@example.com \"se\\\\\\\"cret\"\r\n");
            assertEquals("a01 OK LOGIN completed", c.readLine());
        }
        assertEquals("a01 LOGIN {18}\r\nte\\\"st@example.com {8}\r\nse\\\"cret\r\n", backend.received(3));
    }

    @Test
    void authUserAndAuthPassGoToTheBackend() throws Exception {
        auth.respond(h -> Map.of("Auth-Status", "OK", "Auth-Server", "127.0.0.1",
                "Auth-Port", String.valueOf(backend.port()), "Auth-User", "real user", "Auth-Pass", "p w {2}"));
        serve("");
        try (Client c = client()) {
            c.line("t LOGIN alias whatever");
            assertEquals("t OK LOGIN completed", c.readLine());
        }
        assertEquals("t LOGIN {9}\r\nreal user {7}\r\np w {2}\r\n", backend.received(0));
    }

    @Test
    void loginBytesReachTheBackendUnchanged() throws Exception {
        auth.respond(h -> Map.of("Auth-Status", "OK", "Auth-Server", "127.0.0.1",
                "Auth-Port", String.valueOf(backend.port())));
        serve("");
        // UTF-8, a Latin-1 byte (0xE9) and a byte that is never UTF-8 (0xFF): the auth server and
        // the backend get exactly what the client sent
        byte[] login = {'j', (byte) 0xc3, (byte) 0xb6, 'r', 'g', (byte) 0xe9, (byte) 0xff};
        try (Client c = client()) {
            c.send("a1 LOGIN {" + login.length + "+}\r\n");
            c.send(login);
            c.send(" {4+}\r\n");
            c.send(new byte[] {'p', (byte) 0xff, ' ', (byte) 0xe9});
            c.send("\r\n");
            assertEquals("a1 OK LOGIN completed", c.readLine());
        }
        // the JDK's HttpServer reads header bytes one char per byte; nginx escapes only space, % and controls
        assertEquals("j\u00c3\u00b6rg\u00e9\u00ff", auth.lastRequest().get("auth-user"));
        assertEquals("p\u00ff%20\u00e9", auth.lastRequest().get("auth-pass"));
        assertEquals("a1 LOGIN {7}\r\n" + new String(login, StandardCharsets.ISO_8859_1) + " {4}\r\np\u00ff \u00e9\r\n",
                backend.received(0));
    }

    @Test
    void authUserAndAuthPassBytesGoToTheBackendAsSent() throws Exception {
        // header values the JDK's HttpServer writes one byte per char: 0xE9 and 0xFF on the wire
        auth.respond(h -> Map.of("Auth-Status", "OK", "Auth-Server", "127.0.0.1",
                "Auth-Port", String.valueOf(backend.port()), "Auth-User", "r\u00e9al\u00ff", "Auth-Pass", "\u00ff\u00e9"));
        serve("");
        try (Client c = client()) {
            c.line("t LOGIN alias whatever");
            assertEquals("t OK LOGIN completed", c.readLine());
        }
        assertEquals("t LOGIN {5}\r\nr\u00e9al\u00ff {2}\r\n\u00ff\u00e9\r\n", backend.received(0));
    }

    // ---------------------------------------------------------------- pipelining

    @Test
    void pipelining() throws Exception {
        serve("");
        try (Client c = client()) {
            c.send("a01 INVALID COMMAND WITH ARGUMENTS\r\na02 NOOP\r\n");
            assertEquals("a01 BAD invalid command", c.readLine());
            assertEquals("a02 OK completed", c.readLine());
            c.send("a03 FOOBAR {10+}\r\ntest test \r\na04 NOOP\r\n");
            assertEquals("a03 BAD invalid command", c.readLine());
            assertNull(c.readLine(), "the literal is never taken for a command: the connection closes");
        }
    }

    @Test
    void commandsPipelinedAfterLoginGoToTheBackend() throws Exception {
        serve("");
        try (Client c = client()) {
            c.send("a01 LOGIN test@example.com secret\r\na02 LOGOUT\r\n");
            assertEquals("a01 OK LOGIN completed", c.readLine());
            assertEquals("* BYE fake logging out", c.readLine());
            assertEquals("a02 OK LOGOUT completed", c.readLine());
            assertTrue(c.closedByPeer());
        }
        assertTrue(backend.received(0).endsWith("secret\r\na02 LOGOUT\r\n"));
    }

    // ---------------------------------------------------------------- AUTHENTICATE

    @Test
    void authenticatePlain() throws Exception {
        serve("");
        try (Client c = client()) {
            c.line("1 AUTHENTICATE");
            assertEquals("1 BAD invalid command", c.readLine());
            c.line("1 AUTHENTICATE PLAIN " + b64("\0test@example.com\0bad"));
            assertEquals("1 NO ERROR", c.readLine());
            c.line("1 AUTHENTICATE PLAIN " + b64("\0test@example.com\0secret"));
            assertEquals("1 OK LOGIN completed", c.readLine());
        }
        try (Client c = client()) {
            c.line("2 AUTHENTICATE PLAIN");
            assertEquals("+ ", c.readLine());
            c.line(b64("\0test@example.com\0secret"));
            assertEquals("2 OK LOGIN completed", c.readLine());
        }
    }

    @Test
    void authenticateLogin() throws Exception {
        serve("");
        try (Client c = client()) {
            c.line("1 AUTHENTICATE LOGIN");
            assertEquals("+ VXNlcm5hbWU6", c.readLine());
            c.line(b64("test@example.com"));
            assertEquals("+ UGFzc3dvcmQ6", c.readLine());
            c.line(b64("secret"));
            assertEquals("1 OK LOGIN completed", c.readLine());
        }
        try (Client c = client()) {
            c.line("1 AUTHENTICATE LOGIN " + b64("test@example.com"));
            assertEquals("+ UGFzc3dvcmQ6", c.readLine());
            c.line(b64("secret"));
            assertEquals("1 OK LOGIN completed", c.readLine());
        }
        assertEquals("plain", auth.lastRequest().get("auth-method"));
    }

    @Test
    void authenticateCramMd5() throws Exception {
        serve("imap_auth plain cram-md5; server_name mail.example.com;");
        try (Client c = client()) {
            c.line("1 AUTHENTICATE CRAM-MD5");
            String challenge = c.readLine();
            assertTrue(challenge.startsWith("+ "), challenge);
            String salt = new String(Base64.getDecoder().decode(challenge.substring(2)), StandardCharsets.US_ASCII);
            assertTrue(salt.matches("<\\d+\\.\\d+@mail\\.example\\.com>"), salt);
            c.line(b64("test@example.com " + "0".repeat(32)));
            assertEquals("1 OK LOGIN completed", c.readLine());
            Map<String, String> request = auth.lastRequest();
            assertEquals("cram-md5", request.get("auth-method"));
            assertEquals(salt, request.get("auth-salt"));
        }
        assertTrue(backend.received(0).contains("test@example.com {6}\r\nsecret\r\n"), "the password from Auth-Pass");
    }

    @Test
    void cramMd5OnlyWhenEnabled() throws Exception {
        serve("");
        try (Client c = client()) {
            c.line("1 AUTHENTICATE CRAM-MD5");
            assertEquals("1 BAD invalid command", c.readLine());
            c.line("2 AUTHENTICATE EXTERNAL");
            assertEquals("2 BAD invalid command", c.readLine());
            c.line("3 AUTHENTICATE XOAUTH2");
            assertEquals("3 BAD invalid command", c.readLine());
            c.line("4 AUTHENTICATE OAUTHBEARER");
            assertEquals("4 BAD invalid command", c.readLine());
            c.line("5 AUTHENTICATE GSSAPI");
            assertEquals("5 BAD invalid command", c.readLine());
        }
    }

    @Test
    void authenticateExternal() throws Exception {
        serve("imap_auth external;");
        try (Client c = client()) {
            c.line("1 AUTHENTICATE EXTERNAL");
            assertEquals("+ VXNlcm5hbWU6", c.readLine());
            c.line(b64("test@example.com"));
            assertEquals("1 OK LOGIN completed", c.readLine());
        }
        try (Client c = client()) {
            c.line("1 AUTHENTICATE EXTERNAL " + b64("test@example.com"));
            assertEquals("1 OK LOGIN completed", c.readLine());
        }
    }

    @Test
    void externalAfterAFailedPlain() throws Exception {
        serve("imap_auth plain external;");
        try (Client c = client()) {
            c.line("1 AUTHENTICATE PLAIN " + b64("\0test@example.com\0bad"));
            assertEquals("1 NO ERROR", c.readLine());
            c.line("1 AUTHENTICATE EXTERNAL " + b64("test@example.com"));
            assertEquals("1 OK LOGIN completed", c.readLine());
        }
    }

    @Test
    void cancelAndInvalidBase64() throws Exception {
        serve("");
        try (Client c = client()) {
            c.line("1 AUTHENTICATE PLAIN");
            assertEquals("+ ", c.readLine());
            c.line("*");
            assertEquals("1 BAD invalid command", c.readLine());
            c.line("2 AUTHENTICATE LOGIN");
            assertEquals("+ VXNlcm5hbWU6", c.readLine());
            c.line("!!!");
            assertEquals("2 BAD invalid command", c.readLine(), "tagged, unlike nginx");
            c.line("3 AUTHENTICATE PLAIN " + b64("nonul"));
            assertEquals("3 BAD invalid command", c.readLine());
            c.line("4 NOOP");
            assertEquals("4 OK completed", c.readLine());
        }
    }

    @Test
    void noPasswordForTheBackendIsAnInternalError() throws Exception {
        auth.respond(h -> Map.of("Auth-Status", "OK", "Auth-Server", "127.0.0.1",
                "Auth-Port", String.valueOf(backend.port())));
        serve("imap_auth cram-md5;");
        try (Client c = client()) {
            c.line("1 AUTHENTICATE CRAM-MD5");
            c.readLine();
            c.line(b64("test@example.com " + "0".repeat(32)));
            assertEquals("* BAD internal server error", c.readLine());
            assertTrue(c.closedByPeer());
        }
    }

    // ---------------------------------------------------------------- XOAUTH2 and OAUTHBEARER (Angie's mail_oauth.t)

    private static final String TOKEN = b64("n,a=test@example.com,\001auth=Bearer secretok\001\001");
    private static final String TOKEN_ESCAPED = b64("n,a=test=3D=2C@example.com,\001auth=Bearer secretok\001\001");
    private static final String TOKEN_SASLFAIL = b64("n,a=test@example.com,\001auth=Bearer saslfail\001\001");
    private static final String TOKEN_BAD = b64("n,a=test@example.com,\001auth=Bearer bad\001\001");
    private static final String XOAUTH2 = b64("user=test@example.com\001auth=Bearer secretok\001\001");
    private static final String XOAUTH2_SASLFAIL = b64("user=test@example.com\001auth=Bearer saslfail\001\001");
    private static final String SASL_ERROR = "eyJzY2hlbWVzIjoiQmVhcmVyIiwic3RhdHVzIjoiNDAwIn0=";

    private Map<String, String> oauthAuth(Map<String, String> h) {
        String userpass = h.get("auth-user") + ":" + h.get("auth-pass");
        boolean ok = userpass.equals("test@example.com:secretok") || userpass.equals("test=,@example.com:secretok");
        Map<String, String> out = new HashMap<>();
        out.put("Auth-Status", ok ? "OK" : "auth-failed");
        out.put("Auth-Server", "127.0.0.1");
        out.put("Auth-Port", String.valueOf(backend.port()));
        if ("secretok".equals(h.get("auth-pass"))) {
            out.put("Auth-Pass", "secret");
        }
        out.put("Auth-Wait", "1");
        if ("saslfail".equals(h.get("auth-pass"))) {
            out.put("Auth-Error-SASL", SASL_ERROR);
        }
        return out;
    }

    @Test
    void oauthbearer() throws Exception {
        auth.respond(this::oauthAuth);
        serve("imap_auth plain oauthbearer xoauth2;");
        try (Client c = client()) {
            c.line("1 AUTHENTICATE OAUTHBEARER " + TOKEN);
            assertEquals("1 OK LOGIN completed", c.readLine());
            assertEquals("oauthbearer", auth.lastRequest().get("auth-method"));
        }
        try (Client c = client()) {
            c.line("1 AUTHENTICATE OAUTHBEARER " + TOKEN_ESCAPED);
            assertEquals("1 OK LOGIN completed", c.readLine());
        }
        try (Client c = client()) {
            c.line("1 AUTHENTICATE OAUTHBEARER");
            assertEquals("+ ", c.readLine());
            c.line(TOKEN);
            assertEquals("1 OK LOGIN completed", c.readLine());
        }
        try (Client c = client()) {
            c.line("1 AUTHENTICATE OAUTHBEARER " + TOKEN_BAD);
            assertEquals("1 NO auth-failed", c.readLine());
        }
    }

    @Test
    void oauthbearerSaslErrorFlow() throws Exception {
        auth.respond(this::oauthAuth);
        serve("imap_auth plain oauthbearer xoauth2;");
        try (Client c = client()) {
            long start = System.nanoTime();
            c.line("1 AUTHENTICATE OAUTHBEARER " + TOKEN_SASLFAIL);
            assertEquals("+ " + SASL_ERROR, c.readLine());
            assertTrue(System.nanoTime() - start >= 900_000_000L, "after Auth-Wait");
            c.line("AQ==");
            assertEquals("1 NO auth-failed", c.readLine());

            c.line("1 AUTHENTICATE OAUTHBEARER " + TOKEN_SASLFAIL);
            assertEquals("+ " + SASL_ERROR, c.readLine());
            c.line("foo");
            assertEquals("1 BAD invalid command", c.readLine());

            c.line("1 AUTHENTICATE OAUTHBEARER");
            assertEquals("+ ", c.readLine());
            c.line(TOKEN);
            assertEquals("1 OK LOGIN completed", c.readLine());
        }
    }

    @Test
    void xoauth2() throws Exception {
        auth.respond(this::oauthAuth);
        serve("imap_auth plain oauthbearer xoauth2;");
        try (Client c = client()) {
            c.line("1 CAPABILITY");
            assertEquals("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER", c.readLine());
            assertEquals("1 OK completed", c.readLine());
            c.line("1 AUTHENTICATE XOAUTH2 " + XOAUTH2);
            assertEquals("1 OK LOGIN completed", c.readLine());
            assertEquals("xoauth2", auth.lastRequest().get("auth-method"));
            assertEquals("secretok", auth.lastRequest().get("auth-pass"));
        }
        try (Client c = client()) {
            c.line("1 AUTHENTICATE XOAUTH2 " + XOAUTH2_SASLFAIL);
            assertEquals("+ " + SASL_ERROR, c.readLine());
            c.line("");
            assertEquals("1 NO auth-failed", c.readLine());
            c.line("1 AUTHENTICATE XOAUTH2 " + XOAUTH2_SASLFAIL);
            assertEquals("+ " + SASL_ERROR, c.readLine());
            c.line("foo");
            assertEquals("1 BAD invalid command", c.readLine());
            c.line("1 AUTHENTICATE XOAUTH2");
            assertEquals("+ ", c.readLine());
            c.line(XOAUTH2);
            assertEquals("1 OK LOGIN completed", c.readLine());
        }
    }

    // ---------------------------------------------------------------- limits

    @Test
    void maxErrorsClosesAfterTheLastAllowedError() throws Exception {
        serve("max_errors 3;");
        try (Client c = client()) {
            c.line("a1 FOO");
            assertEquals("a1 BAD invalid command", c.readLine());
            c.line("a2 LOGIN");
            assertEquals("a2 BAD invalid command", c.readLine(), "a known command with bad arguments is not counted");
            c.line("a3 BAR");
            assertEquals("a3 BAD invalid command", c.readLine());
            c.line("a4 NOOP");
            assertEquals("a4 OK completed", c.readLine());
            c.line("a5 BAZ");
            assertEquals("a5 BAD invalid command", c.readLine());
            assertTrue(c.closedByPeer());
        }
    }

    @Test
    void maxCommands() throws Exception {
        serve("max_commands 3;");
        try (Client c = client()) {
            c.send("a1 NOOP\r\na2 NOOP\r\na3 NOOP\r\na4 NOOP\r\na5 NOOP\r\n");
            assertEquals("a1 OK completed", c.readLine());
            assertEquals("a2 OK completed", c.readLine());
            assertEquals("a3 OK completed", c.readLine());
            assertEquals("a4 BAD invalid command", c.readLine());
            assertTrue(c.closedByPeer());
        }
    }

    @Test
    void timeoutClosesSilently() throws Exception {
        serve("timeout 300ms;");
        try (Client c = client()) {
            long start = System.nanoTime();
            assertNull(c.readLine());
            assertTrue(System.nanoTime() - start >= 250_000_000L);
        }
    }

    @Test
    void commandsAndTrickledBytesDoNotStretchTheTimeout() throws Exception {
        serve("timeout 600ms;");
        try (Client c = client()) {
            long start = System.nanoTime();
            c.line("a1 NOOP");
            assertEquals("a1 OK completed", c.readLine());
            try {
                for (byte b : "a2 LOGIN alice secret".getBytes(StandardCharsets.US_ASCII)) {
                    c.send(new byte[] {b}); // a byte every 100 ms: nginx's timer is not re-armed by reads
                    Thread.sleep(100);
                }
            } catch (java.io.IOException closed) {
                // the proxy closed while we were writing
            }
            assertTrue(c.closedByPeer());
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis < 2000, "closed after " + millis + " ms, timeout 600 ms");
        }
    }

    @Test
    void tooLongCommand() throws Exception {
        serve("imap_client_buffer 64;");
        try (Client c = client()) {
            c.line("a1 LOGIN " + "x".repeat(100) + " y");
            assertEquals("a1 BAD invalid command", c.readLine());
            assertTrue(c.closedByPeer());
        }
        try (Client c = client()) {
            c.line("a1 LOGIN {100}");
            assertEquals("a1 BAD invalid command", c.readLine(), "a literal that cannot fit, refused up front");
            c.line("a2 NOOP");
            assertEquals("a2 OK completed", c.readLine());
        }
    }

    // ---------------------------------------------------------------- auth server and backend faults

    @Test
    void authServerDownIsAnInternalError() throws Exception {
        auth.close();
        serve("");
        try (Client c = client()) {
            c.line("a1 LOGIN test@example.com secret");
            assertEquals("* BAD internal server error", c.readLine());
            assertTrue(c.closedByPeer());
        }
    }

    @Test
    void backendRefusingConnections() throws Exception {
        int closed = ImapProxy.freePort();
        auth.respond(h -> Map.of("Auth-Status", "OK", "Auth-Server", "127.0.0.1", "Auth-Port", String.valueOf(closed)));
        serve("");
        try (Client c = client()) {
            c.line("a1 LOGIN test@example.com secret");
            assertEquals("* BAD internal server error", c.readLine());
            assertTrue(c.closedByPeer());
        }
    }

    private void scriptedBackend(FakeImapBackend.Script script) throws Exception {
        backend.close();
        backend = new FakeImapBackend(script);
    }

    @Test
    void backendSayingByeOrClosing() throws Exception {
        scriptedBackend(new FakeImapBackend.Script() {
            @Override
            public String greeting() {
                return "* BYE too many connections";
            }
        });
        serve("");
        try (Client c = client()) {
            c.line("a1 LOGIN test@example.com secret");
            assertEquals("* BAD internal server error", c.readLine());
            assertTrue(c.closedByPeer());
        }
        proxy.close();
        serve("proxy_pass_error_message on;");
        try (Client c = client()) {
            c.line("a1 LOGIN test@example.com secret");
            assertEquals("* BYE too many connections", c.readLine());
            assertTrue(c.closedByPeer());
        }
        scriptedBackend(new FakeImapBackend.Script() {
            @Override
            public String greeting() {
                return null;
            }
        });
        try (Client c = client()) {
            c.line("a1 LOGIN test@example.com secret");
            assertEquals("* BAD internal server error", c.readLine());
            assertTrue(c.closedByPeer());
        }
    }

    @Test
    void backendRefusingTheLoginAndProxyPassErrorMessage() throws Exception {
        scriptedBackend(new FakeImapBackend.Script() {
            @Override
            public List<String> beforeLoginReply(String login, String password) {
                return List.of("* CAPABILITY IMAP4rev1");
            }

            @Override
            public String loginReply(String login, String password) {
                return "NO [AUTHENTICATIONFAILED] Authentication failed.";
            }
        });
        serve("");
        try (Client c = client()) {
            c.line("a1 LOGIN test@example.com secret");
            assertEquals("* BAD internal server error", c.readLine());
            assertTrue(c.closedByPeer());
        }
        proxy.close();
        serve("proxy_pass_error_message on;");
        try (Client c = client()) {
            c.line("a1 LOGIN test@example.com secret");
            assertEquals("* CAPABILITY IMAP4rev1", c.readLine());
            assertEquals("a1 NO [AUTHENTICATIONFAILED] Authentication failed.", c.readLine());
            assertTrue(c.closedByPeer());
        }
    }

    @Test
    void backendRefusingTheLiteral() throws Exception {
        scriptedBackend(new FakeImapBackend.Script() {
            @Override
            public String continuation() {
                return "a1 BAD literals not welcome";
            }
        });
        serve("proxy_pass_error_message on;");
        try (Client c = client()) {
            c.line("a1 LOGIN test@example.com secret");
            assertEquals("a1 BAD literals not welcome", c.readLine());
            assertTrue(c.closedByPeer());
        }
    }

    @Test
    void backendTooSlowForTheTimeout() throws Exception {
        scriptedBackend(new FakeImapBackend.Script() {
            @Override
            public String greeting() {
                try {
                    Thread.sleep(2000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "* OK late";
            }
        });
        serve("timeout 500ms;");
        try (Client c = client()) {
            c.line("a1 LOGIN test@example.com secret");
            assertEquals("* BAD internal server error", c.readLine());
            assertTrue(c.closedByPeer());
        }
    }

    @Test
    void backendLinesLongerThanTheProxyBuffer() throws Exception {
        scriptedBackend(new FakeImapBackend.Script() {
            @Override
            public String greeting() {
                return "* OK " + "x".repeat(300);
            }
        });
        serve("proxy_buffer 256;");
        try (Client c = client()) {
            c.line("a1 LOGIN test@example.com secret");
            assertEquals("* BAD internal server error", c.readLine());
            assertTrue(c.closedByPeer());
        }
    }

    @Test
    void theRelayPassesBytesBothWays() throws Exception {
        serve("");
        try (Client c = client()) {
            c.line("a1 LOGIN test@example.com secret");
            assertEquals("a1 OK LOGIN completed", c.readLine());
            for (int i = 0; i < 50; i++) {
                c.line("n" + i + " NOOP");
            }
            for (int i = 0; i < 50; i++) {
                assertEquals("n" + i + " OK completed", c.readLine());
            }
        }
    }
}
