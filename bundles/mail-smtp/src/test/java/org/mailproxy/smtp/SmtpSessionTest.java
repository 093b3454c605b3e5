package org.mailproxy.smtp;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.auth.http.internal.AuthHttpModule;
import org.mailproxy.core.config.DirectiveSpec;
import org.mailproxy.core.spi.HostResolver;
import org.mailproxy.smtp.fixtures.AuthServer;
import org.mailproxy.smtp.fixtures.Client;
import org.mailproxy.smtp.fixtures.FakeSmtpBackend;
import org.mailproxy.smtp.fixtures.SmtpProxy;

/**
 * The SMTP protocol end to end over real sockets: the core's listeners and sessions, this
 * bundle's handler, the real auth_http module asking a real HTTP auth server, and a scripted SMTP
 * backend. Replies are nginx's texts (mail_smtp.t, mail_smtp_xclient.t, mail_smtp_greeting_delay.t,
 * mail_smtp_auth_none, Angie's mail_oauth.t).
 */
class SmtpSessionTest {

    static final Map<String, String> PASSWORDS = Map.of("alice", "secret", "a b+c=d", "pw");

    private AuthServer auth;
    private FakeSmtpBackend backend;
    private SmtpProxy proxy;
    private final AuthHttpModule authHttp = new AuthHttpModule();
    private HostResolver resolver;
    private String wait;
    private String errorCode;
    private final List<Client> clients = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        backend = new FakeSmtpBackend(PASSWORDS);
        auth = new AuthServer(this::authServer);
        authHttp.start();
    }

    @AfterEach
    void stop() throws Exception {
        for (Client c : clients) {
            c.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        authHttp.stop();
        auth.close();
        backend.close();
    }

    /** The auth server: the password table, CRAM-MD5 against it, EXTERNAL for alice, bearer tokens, smtp_auth none to b@. */
    private Map<String, String> authServer(Map<String, String> h) {
        String method = h.get("auth-method");
        String user = h.get("auth-user");
        String pass = h.get("auth-pass");
        boolean ok;
        String backendPass = null;
        switch (method) {
        case "plain" -> ok = pass != null && pass.equals(PASSWORDS.get(decode(user)));
        case "cram-md5" -> {
            ok = "alice".equals(user) && hmac("secret", h.get("auth-salt").strip()).equals(pass);
            backendPass = "secret";
        }
        case "external" -> {
            ok = "alice".equals(user) && "".equals(pass);
            backendPass = "secret";
        }
        case "xoauth2", "oauthbearer" -> {
            ok = "alice".equals(user) && "token-alice".equals(pass);
            backendPass = "secret";
        }
        case "none" -> ok = h.getOrDefault("auth-smtp-to", "").contains("b@");
        default -> ok = false;
        }
        Map<String, String> out = new HashMap<>();
        if (ok) {
            out.put("Auth-Status", "OK");
            out.put("Auth-Server", "127.0.0.1");
            out.put("Auth-Port", String.valueOf(backend.port()));
            if (backendPass != null) {
                out.put("Auth-Pass", backendPass);
            }
        } else {
            out.put("Auth-Status", "Invalid login or password");
            if (wait != null) {
                out.put("Auth-Wait", wait);
            }
            if (errorCode != null) {
                out.put("Auth-Error-Code", errorCode);
            }
            if (method.equals("xoauth2") || method.equals("oauthbearer")) {
                out.put("Auth-Error-SASL", "eyJzdGF0dXMiOiI0MDEifQ==");
            }
        }
        return out;
    }

    private static String decode(String escaped) {
        return escaped == null ? null : java.net.URLDecoder.decode(escaped.replace("+", "%2B"), UTF_8);
    }

    private static String hmac(String key, String salt) {
        try {
            Mac mac = Mac.getInstance("HmacMD5");
            mac.init(new SecretKeySpec(key.getBytes(UTF_8), "HmacMD5"));
            return HexFormat.of().formatHex(mac.doFinal(salt.getBytes(UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void serve(String directives) throws Exception {
        proxy = new SmtpProxy(new SmtpProtocol(authHttp, resolver),
                "auth_http http://127.0.0.1:" + auth.port() + "/mail/auth;\n" + directives, authHttp);
    }

    private Client connect() throws Exception {
        Client c = proxy.connect();
        clients.add(c);
        return c;
    }

    private Client client() throws Exception {
        Client c = connect();
        assertEquals("220 mx.example ESMTP ready", c.readLine());
        return c;
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(UTF_8));
    }

    /** After login the client talks to the backend: a message goes through and QUIT ends it. */
    private void assertRelayed(Client c) throws Exception {
        assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<alice@example.com>"));
        assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<bob@example.com>"));
        assertEquals("354 End data with <CR><LF>.<CR><LF>", c.command("DATA"));
        assertEquals("250 2.0.0 Ok: queued", c.command("Subject: hi\r\n\r\n..dot\r\nbody\r\n."));
        assertArrayEquals("Subject: hi\r\n\r\n.dot\r\nbody\r\n".getBytes(UTF_8), backend.last().messages.get(0));
        assertEquals("221 2.0.0 Bye", c.command("QUIT"));
        assertTrue(c.closedByPeer());
    }

    // ---------------------------------------------------------------- before login

    @Test
    void greetingEhloHeloAndCommandsBeforeLogin() throws Exception {
        serve("smtp_auth login plain cram-md5;\n"
                + "smtp_capabilities \"SIZE 10485760\" ENHANCEDSTATUSCODES 8BITMIME DSN;\nxclient off;");
        Client c = client();
        c.line("EHLO client.example");
        assertEquals(List.of("250-mx.example", "250-SIZE 10485760", "250-ENHANCEDSTATUSCODES", "250-8BITMIME",
                "250-DSN", "250 AUTH PLAIN LOGIN CRAM-MD5"), c.reply());
        assertEquals("250 mx.example", c.command("HELO client.example"));
        assertEquals("501 5.5.4 Invalid argument", c.command("EHLO"));
        assertEquals("501 5.5.4 Invalid argument", c.command("HELO a b"));
        assertEquals("250 2.0.0 OK", c.command("NOOP"));
        assertEquals("250 2.0.0 OK", c.command("RSET"));
        assertEquals("500 5.5.1 Invalid command", c.command("VRFY bob"));
        assertEquals("500 5.5.1 Invalid command", c.command("DATA"));
        assertEquals("530 5.7.1 Authentication required", c.command("MAIL FROM:<a@example.com>"));
        assertEquals("503 5.5.1 Bad sequence of commands", c.command("RCPT TO:<b@example.com>"));
        assertEquals("501 5.5.4 Invalid argument", c.command("AUTH"));
        assertEquals("500 5.5.1 Invalid command", c.command("AUTH DIGEST-MD5"));
        assertEquals("221 2.0.0 Bye", c.command("QUIT"));
        assertTrue(c.closedByPeer());
    }

    @Test
    void defaultAuthLineAndNoAuthLine() throws Exception {
        serve("");
        Client c = client();
        c.line("EHLO x");
        assertEquals(List.of("250-mx.example", "250 AUTH PLAIN LOGIN"), c.reply());
        proxy.close();
        serve("smtp_auth none; smtp_capabilities PIPELINING;");
        c = client();
        c.line("EHLO x");
        assertEquals(List.of("250-mx.example", "250 PIPELINING"), c.reply());
    }

    /** Without TLS STARTTLS is an unknown command (not counted), and what was pipelined after it is read as commands. */
    @Test
    void starttlsWithoutTls() throws Exception {
        serve("max_errors 1;");
        Client c = client();
        c.send("STARTTLS\r\nNOOP\r\n");
        assertEquals("500 5.5.1 Invalid command", c.readLine());
        assertEquals("250 2.0.0 OK", c.readLine());
        assertTrue(c.silentFor(300));
    }

    @Test
    void pipelinedCommandsAreAnsweredInOrder() throws Exception {
        serve("");
        Client c = client();
        c.send("NOOP\r\nEHLO x\r\nRSET\r\nHELO y\r\nQUIT\r\n");
        assertEquals("250 2.0.0 OK", c.readLine());
        assertEquals(List.of("250-mx.example", "250 AUTH PLAIN LOGIN"), c.reply());
        assertEquals("250 2.0.0 OK", c.readLine());
        assertEquals("250 mx.example", c.readLine());
        assertEquals("221 2.0.0 Bye", c.readLine());
        assertTrue(c.closedByPeer());
    }

    @Test
    void maxErrorsCountsParserErrorsOnly() throws Exception {
        serve("max_errors 3;");
        Client c = client();
        assertEquals("500 5.5.1 Invalid command", c.command("XYZZ"));
        assertEquals("500 5.5.1 Invalid command", c.command("VRFY x")); // known word: not counted
        assertEquals("500 5.5.1 Invalid command", c.command(""));
        assertEquals("500 5.5.1 Invalid command", c.command("MAIL-FROM"));
        assertTrue(c.closedByPeer());
    }

    @Test
    void maxCommands() throws Exception {
        serve("max_commands 3;");
        Client c = client();
        assertEquals("250 2.0.0 OK", c.command("NOOP"));
        assertEquals("250 2.0.0 OK", c.command("NOOP"));
        assertEquals("250 2.0.0 OK", c.command("NOOP"));
        assertEquals("500 5.5.1 Invalid command", c.command("NOOP"));
        assertTrue(c.closedByPeer());
    }

    @Test
    void tooLongCommandCloses() throws Exception {
        serve("smtp_client_buffer 64;");
        Client c = client();
        assertEquals("500 5.5.1 Invalid command", c.command("EHLO " + "x".repeat(100)));
        assertTrue(c.closedByPeer());
    }

    @Test
    void timeoutClosesSilently() throws Exception {
        serve("timeout 500ms;");
        Client c = client();
        assertNull(c.readLineOrNull());
    }

    @Test
    void greetingDelayRefusesAnEarlyTalker() throws Exception {
        serve("smtp_greeting_delay 1s;");
        Client early = connect();
        early.line("EHLO hurry.example");
        assertEquals("503 5.5.0 Improper use of SMTP command pipelining", early.readLine());
        assertTrue(early.closedByPeer());
        Client patient = connect();
        long t0 = System.nanoTime();
        assertEquals("220 mx.example ESMTP ready", patient.readLine());
        assertTrue(System.nanoTime() - t0 > 800_000_000L, "greeting delayed");
        assertEquals("250 2.0.0 OK", patient.command("NOOP"));
    }

    @Test
    void timeoutStartsWithTheDelayedGreetingAsInNginx() throws Exception {
        // a delay longer than timeout: nginx arms only the delay timer until the greeting
        serve("smtp_greeting_delay 1s; timeout 500ms;");
        Client c = connect();
        assertEquals("220 mx.example ESMTP ready", c.readLine());
        assertEquals("250 2.0.0 OK", c.command("NOOP"));
        // and after the greeting the timeout applies again
        assertNull(c.readLineOrNull());
    }

    // ---------------------------------------------------------------- SASL

    @Test
    void authPlainWithInitialResponseThenRelayWithXclient() throws Exception {
        serve("");
        Client c = client();
        c.line("EHLO client.example");
        c.reply();
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        Map<String, String> r = auth.lastRequest();
        assertEquals("plain", r.get("auth-method"));
        assertEquals("alice", r.get("auth-user"));
        assertEquals("secret", r.get("auth-pass"));
        assertEquals("smtp", r.get("auth-protocol"));
        assertEquals("1", r.get("auth-login-attempt"));
        assertEquals("127.0.0.1", r.get("client-ip"));
        assertEquals("[UNAVAILABLE]", r.get("client-host"));
        assertNull(r.get("auth-smtp-helo"));
        assertRelayed(c);
        assertEquals(List.of("EHLO mx.example", "XCLIENT ADDR=127.0.0.1 LOGIN=alice NAME=[UNAVAILABLE]",
                "EHLO client.example", "MAIL FROM:<alice@example.com>", "RCPT TO:<bob@example.com>", "DATA", "QUIT"),
                backend.last().lines);
    }

    @Test
    void proxySslStarttlsRefusedByTheBackendIsTheInternalErrorWithoutXclientOrAuth() throws Exception {
        backend.override("STARTTLS", line -> "454 4.7.0 TLS not available due to local problem");
        serve("proxy_ssl starttls;");
        Client c = client();
        c.line("EHLO client.example");
        c.reply();
        assertEquals("451 4.3.2 Internal server error", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        assertEquals(List.of("EHLO mx.example", "STARTTLS"), backend.last().lines,
                "nothing in clear after the refused STARTTLS");
    }

    @Test
    void authPlainAndLoginInSteps() throws Exception {
        serve("xclient off;");
        Client c = client();
        assertEquals("334 ", c.command("AUTH PLAIN"));
        assertEquals("235 2.0.0 OK", c.command(b64("\0alice\0secret")));
        assertRelayed(c);
        assertEquals("HELO mx.example", backend.last().lines.get(0)); // no EHLO from the client, xclient off

        c = client();
        assertEquals("334 VXNlcm5hbWU6", c.command("auth login"));
        assertEquals("334 UGFzc3dvcmQ6", c.command(b64("alice")));
        assertEquals("235 2.0.0 OK", c.command(b64("secret")));
        assertRelayed(c);

        c = client();
        c.line("EHLO x");
        c.reply();
        assertEquals("334 UGFzc3dvcmQ6", c.command("AUTH LOGIN " + b64("alice")));
        assertEquals("235 2.0.0 OK", c.command(b64("secret")));
        assertRelayed(c);
        assertEquals("EHLO mx.example", backend.last().lines.get(0)); // EHLO from the client, xclient off
    }

    @Test
    void cancelAndBadBase64AreInvalidCommands() throws Exception {
        serve("max_errors 2;");
        Client c = client();
        assertEquals("334 VXNlcm5hbWU6", c.command("AUTH LOGIN"));
        assertEquals("500 5.5.1 Invalid command", c.command("*"));
        assertEquals("334 ", c.command("AUTH PLAIN"));
        assertEquals("500 5.5.1 Invalid command", c.command("!!!"));
        assertEquals("500 5.5.1 Invalid command", c.command("AUTH PLAIN " + b64("alice")));
        assertEquals("250 2.0.0 OK", c.command("NOOP"));
        assertEquals(0, auth.requests().size());
    }

    @Test
    void cramMd5() throws Exception {
        serve("smtp_auth cram-md5;");
        Client c = client();
        c.line("EHLO x");
        assertEquals(List.of("250-mx.example", "250 AUTH CRAM-MD5"), c.reply());
        String challenge = c.command("AUTH CRAM-MD5");
        assertTrue(challenge.startsWith("334 "), challenge);
        String salt = new String(Base64.getDecoder().decode(challenge.substring(4)), UTF_8);
        assertTrue(salt.matches("<\\d+\\.\\d+@mx\\.example>"), salt);
        assertEquals("235 2.0.0 OK", c.command(b64("alice " + hmac("secret", salt))));
        assertEquals("cram-md5", auth.lastRequest().get("auth-method"));
        assertRelayed(c);
    }

    @Test
    void externalAndDisabledMechanisms() throws Exception {
        serve("smtp_auth plain external;");
        Client c = client();
        assertEquals("500 5.5.1 Invalid command", c.command("AUTH CRAM-MD5"));
        assertEquals("500 5.5.1 Invalid command", c.command("AUTH XOAUTH2"));
        assertEquals("334 VXNlcm5hbWU6", c.command("AUTH EXTERNAL"));
        assertEquals("235 2.0.0 OK", c.command(b64("alice")));
        assertRelayed(c);
        c = client();
        assertEquals("235 2.0.0 OK", c.command("AUTH EXTERNAL " + b64("alice")));
        assertEquals("external", auth.lastRequest().get("auth-method"));
        assertEquals("", auth.lastRequest().get("auth-pass"));
    }

    @Test
    void xoauth2AndOauthbearerWithSaslErrors() throws Exception {
        serve("smtp_auth xoauth2 oauthbearer;");
        Client c = client();
        c.line("EHLO x");
        assertEquals(List.of("250-mx.example", "250 AUTH XOAUTH2 OAUTHBEARER"), c.reply());
        assertEquals("235 2.0.0 OK",
                c.command("AUTH XOAUTH2 " + b64("user=alice\u0001auth=Bearer token-alice\u0001\u0001")));
        assertEquals("xoauth2", auth.lastRequest().get("auth-method"));
        assertRelayed(c);

        wait = "1";
        c = client();
        assertEquals("334 ", c.command("AUTH OAUTHBEARER"));
        assertEquals("334 eyJzdGF0dXMiOiI0MDEifQ==",
                c.command(b64("n,a=alice,\u0001auth=Bearer wrong\u0001\u0001")));
        assertEquals("535 5.7.0 Invalid login or password", c.command("AQ=="));
        assertEquals("235 2.0.0 OK", c.command("AUTH OAUTHBEARER "
                + b64("n,a=alice,\u0001host=x\u0001auth=Bearer token-alice\u0001\u0001")));
        assertEquals("oauthbearer", auth.lastRequest().get("auth-method"));
        assertEquals("2", auth.lastRequest().get("auth-login-attempt"));
        assertRelayed(c);
    }

    // ---------------------------------------------------------------- auth errors

    @Test
    void failedLoginWithAuthWaitAllowsARetry() throws Exception {
        wait = "1";
        serve("");
        Client c = client();
        long t0 = System.nanoTime();
        assertEquals("535 5.7.0 Invalid login or password", c.command("AUTH PLAIN " + b64("\0alice\0wrong")));
        assertTrue(System.nanoTime() - t0 > 800_000_000L, "Auth-Wait delays the error");
        errorCode = "451 4.3.0";
        assertEquals("451 4.3.0 Invalid login or password", c.command("AUTH PLAIN " + b64("\0alice\0wrong2")));
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        assertEquals("3", auth.lastRequest().get("auth-login-attempt"));
        assertRelayed(c);
    }

    @Test
    void failedLoginWithoutAuthWaitCloses() throws Exception {
        serve("");
        Client c = client();
        assertEquals("535 5.7.0 Invalid login or password", c.command("AUTH PLAIN " + b64("\0alice\0wrong")));
        assertTrue(c.closedByPeer());
    }

    @Test
    void authServerDownIsATemporaryError() throws Exception {
        serve("");
        auth.close();
        Client c = client();
        assertEquals("451 4.3.2 Internal server error", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        assertTrue(c.closedByPeer());
    }

    // ---------------------------------------------------------------- smtp_auth none

    @Test
    void authNoneAsksAtRcptAndReplaysTheEnvelope() throws Exception {
        serve("smtp_auth none;");
        Client c = client();
        c.line("EHLO client.example");
        assertEquals(List.of("250 mx.example"), c.reply());
        assertEquals("503 5.5.1 Bad sequence of commands", c.command("RCPT TO:<b@example.com>"));
        assertEquals("250 2.0.0 OK", c.command("MAIL FROM:<a@example.com> SIZE=100"));
        assertEquals("503 5.5.1 Bad sequence of commands", c.command("MAIL FROM:<x@example.com>"));
        // RCPT with DATA and the message pipelined: the RCPT reply comes from the backend
        c.send("RCPT TO:<b@example.com>\r\nDATA\r\n");
        assertEquals("250 2.1.5 Ok", c.readLine());
        assertEquals("354 End data with <CR><LF>.<CR><LF>", c.readLine());
        assertEquals("250 2.0.0 Ok: queued", c.command("Subject: none\r\n\r\nbody\r\n."));
        assertEquals("221 2.0.0 Bye", c.command("QUIT"));
        Map<String, String> r = auth.lastRequest();
        assertEquals("none", r.get("auth-method"));
        assertEquals("", r.get("auth-user"));
        assertEquals("", r.get("auth-pass"));
        assertEquals("client.example", r.get("auth-smtp-helo"));
        assertEquals("MAIL FROM:<a@example.com> SIZE=100", r.get("auth-smtp-from"));
        assertEquals("RCPT TO:<b@example.com>", r.get("auth-smtp-to"));
        assertEquals(List.of("EHLO mx.example", "XCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]", "EHLO client.example",
                "MAIL FROM:<a@example.com> SIZE=100", "RCPT TO:<b@example.com>", "DATA", "QUIT"),
                backend.last().lines);
        assertArrayEquals("Subject: none\r\n\r\nbody\r\n".getBytes(UTF_8), backend.last().messages.get(0));
    }

    /**
     * CVE-2025-53859: credentials of a failed AUTH never reach the auth server as Auth-Method none,
     * nor the backend as XCLIENT's LOGIN. (Today the request for none is built without them and
     * its OK answer's user is the request's empty one, so clearing them at MAIL and RCPT is a
     * second line of defence; this test holds all of these to the observable result.)
     */
    @Test
    void authNoneAfterAFailedAuthSendsNoCredentials() throws Exception {
        wait = "1";
        serve("smtp_auth none plain; xclient on;");
        Client c = client();
        assertEquals("535 5.7.0 Invalid login or password", c.command("AUTH PLAIN " + b64("\0alice\0leaked")));
        assertEquals("250 2.0.0 OK", c.command("MAIL FROM:<a@example.com>"));
        assertEquals("550 5.1.1 rejected", c.command("RCPT TO:<b@reject.example>"));
        Map<String, String> r = auth.lastRequest();
        assertEquals("none", r.get("auth-method"));
        assertEquals("", r.get("auth-user"));
        assertEquals("", r.get("auth-pass"));
        assertEquals("", r.getOrDefault("auth-smtp-helo", ""));
        // the backend's refusal was relayed; the session goes on with the backend
        assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<c@example.com>"));
        assertEquals(List.of("EHLO mx.example", "XCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]", "MAIL FROM:<a@example.com>",
                "RCPT TO:<b@reject.example>", "RCPT TO:<c@example.com>"), backend.last().lines);
    }

    @Test
    void authNoneRefusedByTheAuthServer() throws Exception {
        wait = "1";
        errorCode = "550 5.7.1";
        serve("smtp_auth none;");
        Client c = client();
        assertEquals("250 2.0.0 OK", c.command("MAIL FROM:<a@example.com>"));
        assertEquals("550 5.7.1 Invalid login or password", c.command("RCPT TO:<z@example.com>"));
        assertEquals("503 5.5.1 Bad sequence of commands", c.command("MAIL FROM:<a@example.com>"));
        assertEquals("250 2.0.0 OK", c.command("RSET"));
        assertEquals("250 2.0.0 OK", c.command("MAIL FROM:<a@example.com>"));
    }

    // ---------------------------------------------------------------- backend login

    @Test
    void xclientLoginIsXtextAndProxySmtpAuthSendsAuthPlain() throws Exception {
        serve("");
        Client c = client();
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0a b+c=d\0pw")));
        assertRelayed(c);
        assertEquals("XCLIENT ADDR=127.0.0.1 LOGIN=a+20b+2Bc+3Dd NAME=[UNAVAILABLE]", backend.last().lines.get(1));
        proxy.close();

        serve("proxy_smtp_auth on;");
        c = client();
        c.line("HELO client.example");
        c.reply();
        assertEquals("334 UGFzc3dvcmQ6", c.command("AUTH LOGIN " + b64("alice")));
        assertEquals("235 2.0.0 OK", c.command(b64("secret")));
        assertRelayed(c);
        assertEquals(List.of("EHLO mx.example", "XCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]", "HELO client.example",
                "AUTH PLAIN " + b64("\0alice\0secret")), backend.last().lines.subList(0, 4));
    }

    /** nginx: {@code ADDR=IPV6:} and its compressed address text, never Java's {@code 0:0:0:0:0:0:0:1}. */
    @Test
    void xclientAddrOfAnIpv6ClientIsNginxsCompressedText() throws Exception {
        proxy = SmtpProxy.listeningOn(InetAddress.getByName("::1"), new SmtpProtocol(authHttp, resolver),
                "auth_http http://127.0.0.1:" + auth.port() + "/mail/auth;", authHttp);
        Client c = client();
        c.line("EHLO client.example");
        c.reply();
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        assertEquals("::1", auth.lastRequest().get("client-ip"));
        assertRelayed(c);
        assertEquals("XCLIENT ADDR=IPV6:::1 LOGIN=alice NAME=[UNAVAILABLE]", backend.last().lines.get(1));
    }

    /**
     * Latin-1 (0xE9) and never-UTF-8 (0xFF) bytes in the credentials: the auth server gets the
     * client's bytes, the backend the client's or the auth server's (AUTH PLAIN, XCLIENT LOGIN).
     */
    @Test
    void loginBytesReachTheBackendUnchanged() throws Exception {
        Base64.Encoder base64 = Base64.getEncoder();
        auth.respond(h -> Map.of("Auth-Status", "OK", "Auth-Server", "127.0.0.1",
                "Auth-Port", String.valueOf(backend.port())));
        backend.override("AUTH", line -> "235 2.7.0 Authentication successful");
        serve("proxy_smtp_auth on;");
        byte[] plain = {0, 'j', (byte) 0xe9, (byte) 0xff, 0, 'p', (byte) 0xff, ' ', (byte) 0xe9};
        Client c = client();
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + base64.encodeToString(plain)));
        // the JDK's HttpServer reads header bytes one char per byte; nginx escapes only space, % and controls
        assertEquals("j\u00e9\u00ff", auth.lastRequest().get("auth-user"));
        assertEquals("p\u00ff%20\u00e9", auth.lastRequest().get("auth-pass"));
        assertEquals("AUTH PLAIN " + base64.encodeToString(plain), backend.last().lines.get(2));
        proxy.close();

        // Auth-User and Auth-Pass bytes (the JDK's HttpServer writes one byte per char)
        auth.respond(h -> Map.of("Auth-Status", "OK", "Auth-Server", "127.0.0.1",
                "Auth-Port", String.valueOf(backend.port()), "Auth-User", "r\u00e9al\u00ff", "Auth-Pass", "\u00ff\u00e9"));
        serve("proxy_smtp_auth on;");
        c = client();
        assertEquals("334 UGFzc3dvcmQ6", c.command("AUTH LOGIN " + base64.encodeToString(new byte[] {'u', (byte) 0xff})));
        assertEquals("235 2.0.0 OK", c.command(base64.encodeToString(new byte[] {(byte) 0xe9})));
        assertEquals("u\u00ff", auth.lastRequest().get("auth-user"));
        assertEquals("\u00e9", auth.lastRequest().get("auth-pass"));
        assertEquals("AUTH PLAIN " + base64.encodeToString(new byte[] {0, 'r', (byte) 0xe9, 'a', 'l', (byte) 0xff, 0,
                (byte) 0xff, (byte) 0xe9}), backend.last().lines.get(2));
        proxy.close();

        serve("");
        c = client();
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + base64.encodeToString(plain)));
        assertEquals("XCLIENT ADDR=127.0.0.1 LOGIN=r+E9al+FF NAME=[UNAVAILABLE]", backend.last().lines.get(1));
    }

    @Test
    void backendRefusalsAreInternalErrorsOrPassedOn() throws Exception {
        serve("proxy_smtp_auth on; xclient off;");
        backend.override("AUTH", line -> "535 5.7.8 Error: authentication failed");
        Client c = client();
        assertEquals("451 4.3.2 Internal server error", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        assertTrue(c.closedByPeer());
        proxy.close();

        serve("proxy_smtp_auth on; xclient off; proxy_pass_error_message on;");
        c = client();
        assertEquals("535 5.7.8 Error: authentication failed", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        assertTrue(c.closedByPeer());
        proxy.close();

        backend.override("GREETING", line -> "554-backend.example\n554 no service");
        serve("proxy_pass_error_message on;");
        c = client();
        c.line("AUTH PLAIN " + b64("\0alice\0secret"));
        assertEquals(List.of("554-backend.example", "554 no service"), c.reply());
        assertTrue(c.closedByPeer());
    }

    @Test
    void backendUnreachable() throws Exception {
        serve("");
        backend.close();
        Client c = client();
        assertEquals("451 4.3.2 Internal server error", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        assertTrue(c.closedByPeer());
    }

    @Test
    void backendClosesDuringLogin() throws Exception {
        serve("");
        backend.override("XCLIENT", line -> null);
        Client c = client();
        assertEquals("451 4.3.2 Internal server error", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        assertTrue(c.closedByPeer());
    }

    // ---------------------------------------------------------------- resolver

    @Test
    void resolvedNameGoesToAuthAndXclient() throws Exception {
        resolver = new StubResolver(new HostResolver.HostName(HostResolver.HostName.Status.FOUND, "client.example"));
        serve("");
        Client c = client();
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        assertEquals("client.example", auth.lastRequest().get("client-host"));
        assertRelayed(c);
        assertEquals("XCLIENT ADDR=127.0.0.1 LOGIN=alice NAME=client.example", backend.last().lines.get(1));
        proxy.close();

        resolver = new StubResolver(new HostResolver.HostName(HostResolver.HostName.Status.TEMPUNAVAIL, null));
        serve("");
        c = client();
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        assertEquals("[TEMPUNAVAIL]", auth.lastRequest().get("client-host"));
        assertRelayed(c);
        assertEquals("XCLIENT ADDR=127.0.0.1 LOGIN=alice NAME=[TEMPUNAVAIL]", backend.last().lines.get(1));
    }

    @Test
    void withoutAResolverModuleAConfiguredResolverMeansTempUnavail() throws Exception {
        resolver = null; // the resolver bundle stopped: its directive is kept unvalidated
        serve("resolver 127.0.0.1:53;");
        Client c = client();
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        assertEquals("[TEMPUNAVAIL]", auth.lastRequest().get("client-host"));
        assertRelayed(c);
        assertEquals("XCLIENT ADDR=127.0.0.1 LOGIN=alice NAME=[TEMPUNAVAIL]", backend.last().lines.get(1));
        proxy.close();

        serve("resolver off;");
        c = client();
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        assertEquals("[UNAVAILABLE]", auth.lastRequest().get("client-host"));
        assertRelayed(c);
        assertEquals("XCLIENT ADDR=127.0.0.1 LOGIN=alice NAME=[UNAVAILABLE]", backend.last().lines.get(1));
    }

    /** A resolver that answers after 200 ms, on another thread. */
    private record StubResolver(HostResolver.HostName answer) implements HostResolver {
        @Override
        public String name() {
            return "resolver";
        }

        @Override
        public List<DirectiveSpec> directives() {
            return List.of();
        }

        @Override
        public CompletableFuture<HostName> resolve(java.net.InetAddress client, org.mailproxy.core.config.ServerConfig s) {
            return CompletableFuture.supplyAsync(() -> answer,
                    CompletableFuture.delayedExecutor(200, java.util.concurrent.TimeUnit.MILLISECONDS));
        }
    }
}
