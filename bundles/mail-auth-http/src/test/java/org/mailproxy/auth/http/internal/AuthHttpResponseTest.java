package org.mailproxy.auth.http.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mailproxy.auth.http.internal.FakeAuthServer.headers;
import static org.mailproxy.auth.http.internal.FakeAuthServer.reply;
import static org.mailproxy.auth.http.internal.FakeAuthServer.sequence;
import static org.mailproxy.auth.http.internal.TestSupport.await;
import static org.mailproxy.auth.http.internal.TestSupport.plain;
import static org.mailproxy.auth.http.internal.TestSupport.request;
import static org.mailproxy.auth.http.internal.TestSupport.server;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.auth.http.AuthHttpStats;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.spi.AuthRequest;
import org.mailproxy.core.spi.AuthResult;
import org.mailproxy.core.spi.BackendTlsMode;

/** Every response form, and every way the auth server can fail, against real servers. */
class AuthHttpResponseTest {

    private final TestSupport.RecordingLog log = new TestSupport.RecordingLog();
    private final AuthHttpModule module = new AuthHttpModule(log);
    private FakeAuthServer auth;

    @BeforeEach
    void start() throws IOException {
        module.start();
        auth = FakeAuthServer.tcp(headers("Auth-Status: OK"));
    }

    @AfterEach
    void stop() throws IOException {
        module.stop();
        auth.close();
        for (String line : log.all()) {
            assertFalse(line.contains("secret"), "a password in the log: " + line);
            assertFalse(line.contains("backend-pw"), "an Auth-Pass in the log: " + line);
        }
    }

    private ServerConfig config(String extra) {
        return server(module, "auth_http " + auth.address() + "/auth;\n" + extra);
    }

    private AuthResult answer(AuthRequest r, FakeAuthServer.Script script) {
        auth.script(script);
        return await(module.authenticate(r, config("")));
    }

    private AuthResult answer(FakeAuthServer.Script script) {
        return answer(plain("imap"), script);
    }

    private AuthResult.TemporaryError temporary(AuthResult r) {
        return assertInstanceOf(AuthResult.TemporaryError.class, r, () -> "result " + r);
    }

    /** The single error line, without its context suffix. */
    private String logged() {
        assertEquals(1, log.errors.size(), log.errors.toString());
        String line = log.errors.get(0);
        String suffix = " while in http auth state, client: 192.0.2.7, login: \"alice\"";
        assertTrue(line.endsWith(suffix), line);
        return line.substring(0, line.length() - suffix.length());
    }

    /** The login in a log line: its bytes (one char per byte in the request) shown as UTF-8, controls escaped. */
    @Test
    void theLoginInLogLinesIsItsBytesReadAsUtf8() {
        String jorg = new String("j\u00f6rg\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                java.nio.charset.StandardCharsets.ISO_8859_1);
        temporary(answer(TestSupport.request("plain", jorg, "secret", "imap"), FakeAuthServer.reply("garbage\r\n\r\n")));
        assertEquals(1, log.errors.size(), log.errors.toString());
        assertTrue(log.errors.get(0).endsWith(", login: \"j\u00f6rg%0A\""), log.errors.get(0));
    }

    // ----------------------------------------------------------------- OK

    @Test
    void okGivesTheBackendAndTheClientsCredentials() {
        AuthResult r = answer(headers("Auth-Status: OK", "Auth-Server: 127.0.0.2", "Auth-Port: 1143"));
        assertEquals(new AuthResult.Ok(new InetSocketAddress("127.0.0.2", 1143), "alice", "secret"), r);
        assertTrue(log.all().isEmpty(), log.all().toString());
        AuthHttpStats s = module.stats();
        assertEquals(1, s.requests());
        assertEquals(1, s.ok());
        assertEquals(0, s.inFlight());
        assertEquals(1, s.latencyCount());
    }

    @Test
    void authUserAndAuthPassOverrideTheLogin() {
        AuthResult.Ok ok = assertInstanceOf(AuthResult.Ok.class, answer(headers("Auth-Status: OK",
                "Auth-Server: ::1", "Auth-Port: 110", "Auth-User: alice@backend", "Auth-Pass: backend-pw")));
        assertEquals(new InetSocketAddress("::1", 110), ok.backend());
        assertEquals("alice@backend", ok.user());
        assertEquals("backend-pw", ok.password());
    }

    @Test
    void authSslBackendChoosesTlsTowardTheBackendForThisLogin() {
        for (String[] c : new String[][] {{"on", "ON"}, {"starttls", "STARTTLS"}, {"off", "OFF"}, {" StartTLS ", "STARTTLS"}}) {
            AuthResult.Ok ok = assertInstanceOf(AuthResult.Ok.class, answer(headers("Auth-Status: OK",
                    "Auth-Server: 127.0.0.2", "Auth-Port: 993", "Auth-SSL-Backend: " + c[0])));
            assertEquals(BackendTlsMode.valueOf(c[1]), ok.backendTls(), c[0]);
            assertEquals(new InetSocketAddress("127.0.0.2", 993), ok.backend());
        }
        assertTrue(log.all().isEmpty(), log.all().toString());
    }

    @Test
    void withoutAuthSslBackendTheServersProxySslApplies() {
        AuthResult.Ok ok = assertInstanceOf(AuthResult.Ok.class,
                answer(headers("Auth-Status: OK", "Auth-Server: 127.0.0.2", "Auth-Port: 143")));
        assertNull(ok.backendTls());
    }

    @Test
    void anInvalidAuthSslBackendIsATemporaryErrorNeverPlaintext() {
        temporary(answer(headers("Auth-Status: OK", "Auth-Server: 127.0.0.2", "Auth-Port: 143",
                "Auth-SSL-Backend: yes please")));
        assertEquals("auth http server " + auth.address() + " sent invalid Auth-SSL-Backend:\"yes please\"", logged());
    }

    @Test
    void authSslBackendOnAFailedLoginChangesNothing() {
        AuthResult r = answer(headers("Auth-Status: Invalid login or password", "Auth-SSL-Backend: bogus"));
        assertEquals(new AuthResult.Failure("Invalid login or password", null, null, null), r);
    }

    @Test
    void headersAreReadAsNginxReadsThem() {
        // no status line, LF line ends, names in any case, spaces around values, unknown headers
        AuthResult r = answer(reply("auth-status:OK\nX-Unknown: whatever\nAUTH-SERVER:   10.1.2.3   \n"
                + "auth-port: 25\nAuth-User: two words \n\nbody is never read"));
        assertEquals(new AuthResult.Ok(new InetSocketAddress("10.1.2.3", 25), "two words", "secret"), r);
    }

    @Test
    void withoutAuthStatusAServerAndPortAreEnoughAsInNginx() {
        AuthResult r = answer(headers("Auth-Server: 127.0.0.1", "Auth-Port: 143"));
        assertInstanceOf(AuthResult.Ok.class, r);
    }

    @Test
    void theJdkHttpServerIsUnderstood() throws Exception {
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        List<String> seen = new CopyOnWriteArrayList<>();
        http.createContext("/auth", ex -> {
            seen.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " " + ex.getProtocol() + " "
                    + ex.getRequestHeaders().getFirst("Auth-User") + " " + ex.getRequestHeaders().getFirst("Host"));
            ex.getResponseHeaders().add("Auth-Status", "OK");
            ex.getResponseHeaders().add("Auth-Server", "127.0.0.1");
            ex.getResponseHeaders().add("Auth-Port", "8143");
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        http.start();
        try {
            ServerConfig config = server(module, "auth_http http://127.0.0.1:" + http.getAddress().getPort() + "/auth;");
            AuthResult r = await(module.authenticate(plain("imap"), config));
            assertEquals(new AuthResult.Ok(new InetSocketAddress("127.0.0.1", 8143), "alice", "secret"), r);
            assertEquals(List.of("GET /auth HTTP/1.0 alice 127.0.0.1"), seen);
        } finally {
            http.stop(0);
        }
    }

    // ----------------------------------------------------------------- errors

    @Test
    void anErrorWithoutAuthWaitClosesTheClient() {
        AuthResult r = answer(headers("Auth-Status: Invalid login or password", "Auth-Server: 127.0.0.1"));
        assertEquals(new AuthResult.Failure("Invalid login or password", null, null, null), r);
        assertEquals(List.of("client login failed: \"Invalid login or password\" while in http auth state, client: "
                + "192.0.2.7, login: \"alice\""), log.infos);
        assertEquals(1, module.stats().failed());
    }

    @Test
    void authWaitLetsTheClientRetry() {
        AuthResult r = answer(headers("Auth-Status: Try again", "Auth-Wait: 3"));
        assertEquals(new AuthResult.Failure("Try again", Duration.ofSeconds(3), null, null), r);
        r = answer(headers("Auth-Status: Try again", "Auth-Wait: 0"));
        assertNull(((AuthResult.Failure) r).retryAfter(), "Auth-Wait: 0 closes, as in nginx");
        r = answer(headers("Auth-Status: Try again", "Auth-Wait: soon"));
        assertNull(((AuthResult.Failure) r).retryAfter(), "an invalid Auth-Wait is ignored");
    }

    @Test
    void smtpErrorsCarryTheErrorCode() {
        AuthResult r = answer(plain("smtp"), headers("Auth-Status: Temporary trouble", "Auth-Error-Code: 451 4.3.0"));
        assertEquals(new AuthResult.Failure("Temporary trouble", null, "451 4.3.0", null), r);
        r = answer(plain("smtp"), headers("Auth-Status: Go away"));
        assertEquals(new AuthResult.Failure("Go away", null, "535 5.7.0", null), r);
    }

    @Test
    void anEmptyAuthStatusIsAnErrorForImapButNotForSmtp() {
        assertEquals(new AuthResult.Failure("", null, null, null), answer(headers("Auth-Status:")));
        AuthResult r = answer(plain("smtp"), headers("Auth-Status:", "Auth-Server: 127.0.0.1", "Auth-Port: 25"));
        assertInstanceOf(AuthResult.Ok.class, r);
    }

    @Test
    void authErrorSaslOnlyForOauthMethods() {
        String sasl = "eyJzdGF0dXMiOiI0MDEifQ==";
        AuthResult r = answer(request("xoauth2", "alice", "token", "imap"),
                headers("Auth-Status: Invalid token", "Auth-Error-SASL: " + sasl));
        assertEquals(new AuthResult.Failure("Invalid token", null, null, sasl), r);
        r = answer(request("oauthbearer", "alice", "token", "smtp"),
                headers("Auth-Status: Invalid token", "Auth-Error-SASL: " + sasl, "Auth-Error-Code: 535 5.7.8"));
        assertEquals(new AuthResult.Failure("Invalid token", null, "535 5.7.8", sasl), r);
        r = answer(headers("Auth-Status: Invalid login", "Auth-Error-SASL: " + sasl));
        assertEquals(new AuthResult.Failure("Invalid login", null, null, null), r);
    }

    // ----------------------------------------------------------------- WAIT

    @Test
    void waitResendsTheSameRequestAfterAuthWait() throws Exception {
        auth.script(sequence(headers("Auth-Status: WAIT", "Auth-Wait: 1"),
                headers("Auth-Status: OK", "Auth-Server: 127.0.0.1", "Auth-Port: 143")));
        AuthRequest r = new AuthRequest("plain", "alice", "secret", null, "imap", 4,
                new InetSocketAddress("192.0.2.7", 40000), null, null, null);
        AuthResult result = await(module.authenticate(r, config("")));
        assertInstanceOf(AuthResult.Ok.class, result);
        byte[] first = auth.request();
        byte[] second = auth.request();
        assertArrayEquals(first, second);
        assertTrue(new String(second).contains("Auth-Login-Attempt: 4\r\n"));
        long gap = auth.arrivals().get(1) - auth.arrivals().get(0);
        assertTrue(gap >= TimeUnit.MILLISECONDS.toNanos(1000), "re-sent after " + gap + " ns");
        AuthHttpStats s = module.stats();
        assertEquals(2, s.requests());
        assertEquals(1, s.waits());
        assertEquals(1, s.ok());
    }

    @Test
    void waitWithoutAuthWaitResendsAtOnceUntilAnAnswer() throws Exception {
        auth.script(sequence(headers("Auth-Status: WAIT"), headers("Auth-Status: WAIT"),
                headers("Auth-Status: No")));
        assertEquals(new AuthResult.Failure("No", null, null, null), await(module.authenticate(plain("pop3"),
                config(""))));
        assertEquals(3, auth.connections());
    }

    @Test
    void cancellingStopsTheWaiting() throws Exception {
        auth.script(headers("Auth-Status: WAIT", "Auth-Wait: 1"));
        CompletionStage<AuthResult> stage = module.authenticate(plain("imap"), config(""));
        auth.request();
        stage.toCompletableFuture().cancel(false);
        Thread.sleep(1500);
        assertEquals(1, auth.connections(), "no re-send after cancel");
        assertEquals(0, module.stats().inFlight());
    }

    @Test
    void cancellingClosesTheConnection() throws Exception {
        auth.script((i, c) -> c.hang());
        CompletionStage<AuthResult> stage = module.authenticate(plain("imap"), config(""));
        auth.request();
        stage.toCompletableFuture().cancel(false);
        assertTrue(auth.awaitPeerClose(), "the auth connection was not closed");
    }

    // ----------------------------------------------------------------- temporary errors

    @Test
    void timeoutCoversTheWholeExchange() throws Exception {
        auth.script((i, c) -> {
            c.send("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n");
            c.hang();
        });
        AuthRequest r = plain("imap").withSession(42, new InetSocketAddress("127.0.0.1", 1143));
        AuthResult result = await(module.authenticate(r, config("auth_http_timeout 300ms;")));
        assertEquals("auth http server " + auth.address() + " timed out", temporary(result).reason());
        assertTrue(temporary(result).timedOut(), "a timeout is marked as one");
        assertEquals(List.of("*42 auth http server " + auth.address() + " timed out (110: Connection timed out)"
                + " while in http auth state, "
                + "client: 192.0.2.7, server: 127.0.0.1:1143, login: \"alice\""), log.errors);
        assertTrue(auth.awaitPeerClose());
        AuthHttpStats s = module.stats();
        assertEquals(1, s.temporaryErrors());
        assertEquals(1, s.timeouts());
    }

    @Test
    void aTricklingServerStillTimesOut() {
        // a byte every 100 ms would keep a per-read timer alive forever; nginx's timer is per exchange
        auth.script((i, c) -> {
            c.send("HTTP/1.0 200 OK\r\nX-Pad: ");
            for (int n = 0; n < 100; n++) {
                Thread.sleep(100);
                c.send("a");
            }
        });
        AuthResult r = await(module.authenticate(plain("imap"), config("auth_http_timeout 500ms;")));
        temporary(r);
        assertEquals("auth http server " + auth.address() + " timed out (110: Connection timed out)", logged());
    }

    @Test
    void noAnswerAtAllTimesOut() {
        auth.script((i, c) -> c.hang());
        AuthResult r = await(module.authenticate(plain("imap"), config("auth_http_timeout 200ms;")));
        temporary(r);
        assertEquals("auth http server " + auth.address() + " timed out (110: Connection timed out)", logged());
    }

    @Test
    void connectionRefused() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        ServerConfig config = server(module, "auth_http 127.0.0.1:" + port + ";");
        temporary(await(module.authenticate(plain("imap"), config)));
        assertTrue(logged().startsWith("connect() to 127.0.0.1:" + port + " failed (111: Connection refused)"), log.errors.toString());
        assertEquals(0, module.stats().timeouts());
    }

    @Test
    void closedInTheMiddleOfTheResponse() {
        temporary(answer(reply("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Ser")));
        assertEquals("auth http server " + auth.address() + " prematurely closed connection", logged());
    }

    @Test
    void closedWithoutAnyAnswer() {
        temporary(answer((i, c) -> c.close()));
        assertEquals("auth http server " + auth.address() + " prematurely closed connection", logged());
    }

    @Test
    void garbageIsAnInvalidHeader() {
        temporary(answer(reply("\u0000\u0001garbage\r\n\r\n")));
        assertEquals("auth http server " + auth.address() + " sent invalid header in response", logged());
    }

    @Test
    void aHeaderNameWithAnUnderscoreIsInvalid() {
        temporary(answer(reply("HTTP/1.0 200 OK\r\nAuth_Status: OK\r\n\r\n")));
        assertEquals("auth http server " + auth.address() + " sent invalid header in response", logged());
    }

    @Test
    void aBrokenStatusLineIsAnInvalidResponse() {
        temporary(answer(reply("HTTP/1.0 200 OK\rAuth-Status: OK\r\n\r\n")));
        assertEquals("auth http server " + auth.address() + " sent invalid response", logged());
    }

    @Test
    void headersBeyond1024BytesAreRefused() {
        String pad = "X-Pad: " + "a".repeat(2000) + "\r\n";
        temporary(answer(reply("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n" + pad
                + "Auth-Server: 127.0.0.1\r\nAuth-Port: 143\r\n\r\n")));
        assertTrue(logged().startsWith("auth http server " + auth.address() + " sent too big response"),
                log.errors.toString());
    }

    @Test
    void aBodyBeyond1024BytesDoesNotMatter() {
        AuthResult r = answer(reply("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 127.0.0.1\r\n"
                + "Auth-Port: 143\r\n\r\n" + "b".repeat(5000)));
        assertInstanceOf(AuthResult.Ok.class, r);
    }

    @Test
    void okWithoutServerOrPort() {
        temporary(answer(headers("Auth-Status: OK", "Auth-Port: 143")));
        assertEquals("auth http server " + auth.address() + " did not send server or port", logged());
        log.errors.clear();
        temporary(answer(headers("Auth-Status: OK", "Auth-Server: 127.0.0.1")));
        assertEquals("auth http server " + auth.address() + " did not send server or port", logged());
    }

    @Test
    void aHostNameIsNoServerAddress() {
        temporary(answer(headers("Auth-Status: OK", "Auth-Server: backend.example.com", "Auth-Port: 143")));
        assertEquals("auth http server " + auth.address() + " sent invalid server address:\"backend.example.com\"",
                logged());
        log.errors.clear();
        temporary(answer(headers("Auth-Status: OK", "Auth-Server: [::1]", "Auth-Port: 143")));
        assertEquals("auth http server " + auth.address() + " sent invalid server address:\"[::1]\"", logged());
    }

    @Test
    void portsOutside1To65535AreRefused() {
        for (String port : new String[] {"0", "65536", "-1", "1x"}) {
            log.errors.clear();
            temporary(answer(headers("Auth-Status: OK", "Auth-Server: 127.0.0.1", "Auth-Port: " + port)));
            assertEquals("auth http server " + auth.address() + " sent invalid server port:\"" + port + "\"", logged());
        }
    }

    @Test
    void imapAndPop3NeedAPasswordWhenTheClientSentNone() {
        AuthRequest cram = new AuthRequest("cram-md5", "alice", "0123456789abcdef0123456789abcdef",
                "<1.2@example.com>\r\n", "pop3", 1, new InetSocketAddress("192.0.2.7", 1), null, null, null);
        temporary(answer(cram, headers("Auth-Status: OK", "Auth-Server: 127.0.0.1", "Auth-Port: 110")));
        assertEquals("auth http server " + auth.address() + " did not send password", logged());

        AuthResult r = answer(cram, headers("Auth-Status: OK", "Auth-Server: 127.0.0.1", "Auth-Port: 110",
                "Auth-Pass: backend-pw"));
        assertEquals(new AuthResult.Ok(new InetSocketAddress("127.0.0.1", 110), "alice", "backend-pw"), r);

        AuthRequest external = request("external", "alice", "", "imap");
        log.errors.clear();
        temporary(answer(external, headers("Auth-Status: OK", "Auth-Server: 127.0.0.1", "Auth-Port: 143")));
        assertEquals("auth http server " + auth.address() + " did not send password", logged());

        AuthRequest smtpCram = new AuthRequest("cram-md5", "alice", "0123456789abcdef0123456789abcdef",
                "<1.2@example.com>\r\n", "smtp", 1, new InetSocketAddress("192.0.2.7", 1), null, null, null);
        r = answer(smtpCram, headers("Auth-Status: OK", "Auth-Server: 127.0.0.1", "Auth-Port: 25"));
        assertEquals(new AuthResult.Ok(new InetSocketAddress("127.0.0.1", 25), "alice", null), r);
    }

    @Test
    void aServerWithoutAuthHttpIsATemporaryError() throws Exception {
        // built without the module: the runtime rebuilds when the module comes, but a session may
        // still hold the old configuration
        ServerConfig bare = org.mailproxy.core.config.ConfigBuilder.build(
                org.mailproxy.core.config.ConfigParser.parse("mail { auth_http 127.0.0.1; server { listen 1143; "
                        + "protocol imap; } }", "x.conf"),
                org.mailproxy.core.config.DirectiveRegistry.withCoreModules()).servers().get(0);
        temporary(await(module.authenticate(plain("imap"), bare)));
        assertTrue(log.errors.get(0).startsWith("auth_http settings are not available for the server in x.conf:1"),
                log.errors.toString());
    }

    @Test
    void stoppingTheModuleEndsWhatIsUnderWay() throws Exception {
        auth.script((i, c) -> c.hang());
        CompletableFuture<AuthResult> f = module.authenticate(plain("imap"), config("")).toCompletableFuture();
        auth.request();
        module.stop();
        assertEquals(new AuthResult.TemporaryError("auth_http module is stopped"), f.get(10, TimeUnit.SECONDS));
        assertEquals(new AuthResult.TemporaryError("auth_http module is stopped"),
                await(module.authenticate(plain("imap"), config(""))));
        module.start();
        assertInstanceOf(AuthResult.Ok.class, answer(headers("Auth-Server: 127.0.0.1", "Auth-Port: 143")));
    }

    @Test
    void manyAtOnce() throws Exception {
        auth.script(headers("Auth-Status: OK", "Auth-Server: 127.0.0.1", "Auth-Port: 143"));
        List<CompletableFuture<AuthResult>> all = new java.util.ArrayList<>();
        ServerConfig config = config("");
        for (int i = 0; i < 50; i++) {
            all.add(module.authenticate(request("plain", "user" + i, "secret", "imap"), config).toCompletableFuture());
        }
        for (int i = 0; i < 50; i++) {
            AuthResult.Ok ok = assertInstanceOf(AuthResult.Ok.class, all.get(i).get(20, TimeUnit.SECONDS));
            assertEquals("user" + i, ok.user());
        }
        assertEquals(50, module.stats().ok());
        assertEquals(0, module.stats().inFlight());
    }
}
