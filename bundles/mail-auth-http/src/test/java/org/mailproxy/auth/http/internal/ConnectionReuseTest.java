package org.mailproxy.auth.http.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mailproxy.auth.http.internal.FakeAuthServer.headers;
import static org.mailproxy.auth.http.internal.FakeAuthServer.perRequest;
import static org.mailproxy.auth.http.internal.FakeAuthServer.replyKeep;
import static org.mailproxy.auth.http.internal.FakeAuthServer.sequence;
import static org.mailproxy.auth.http.internal.TestSupport.await;
import static org.mailproxy.auth.http.internal.TestSupport.plain;
import static org.mailproxy.auth.http.internal.TestSupport.request;
import static org.mailproxy.auth.http.internal.TestSupport.server;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.auth.http.AuthHttpStats;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.spi.AuthResult;

/**
 * {@code auth_http_keepalive}: connections kept and reused where the auth server allows it, and
 * everything still right with servers that close, close while idle, or frame their answers in a
 * way that does not allow reuse. Real servers on 127.0.0.1: raw sockets ({@link FakeAuthServer})
 * to control each byte and count connections, and the JDK's {@link HttpServer}.
 */
class ConnectionReuseTest {

    private static final String AUTH_OK = "Auth-Status: OK\r\nAuth-Server: 127.0.0.1\r\nAuth-Port: 143\r\n";
    /** An HTTP/1.1 OK with a Content-Length: a response after which the connection may be reused. */
    private static final String KEEP = "HTTP/1.1 200 OK\r\n" + AUTH_OK + "Content-Length: 0\r\n\r\n";

    private final TestSupport.RecordingLog log = new TestSupport.RecordingLog();
    private AuthHttpModule module;
    private FakeAuthServer auth;

    private void start(FakeAuthServer.Script script) throws IOException {
        start(KeepAlive.Limits.DEFAULT, script);
    }

    private void start(KeepAlive.Limits limits, FakeAuthServer.Script script) throws IOException {
        module = new AuthHttpModule(log, limits);
        module.start();
        auth = FakeAuthServer.tcp(script);
    }

    @AfterEach
    void stop() throws IOException {
        if (module != null) {
            module.stop();
        }
        if (auth != null) {
            auth.close();
        }
    }

    private ServerConfig config(String extra) {
        return server(module, "auth_http " + auth.address() + "/auth;\n" + extra);
    }

    private AuthResult login(String user, ServerConfig config) {
        return await(module.authenticate(request("plain", user, "secret", "imap"), config));
    }

    private AuthResult.Ok ok(AuthResult r) {
        return assertInstanceOf(AuthResult.Ok.class, r, () -> "result " + r + ", log " + log.all());
    }

    /** Logs in once per user, one after the other, each login required to succeed. */
    private void logins(ServerConfig config, String... users) {
        for (String u : users) {
            ok(login(u, config));
        }
    }

    /** Waits (generously) for a condition that becomes true asynchronously. */
    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.sleep(10);
        }
    }

    /**
     * Waits until the client closed exactly these connections kept open by the server (in any order:
     * the server's threads notice the closes in their own time).
     */
    private void assertClosedByClient(Integer... indexes) throws InterruptedException {
        Set<Integer> closed = new HashSet<>();
        for (int n = 0; n < indexes.length; n++) {
            closed.add(auth.awaitClientClose());
        }
        assertEquals(Set.of(indexes), closed, "connections closed by the client");
    }

    private static String echoUser(String request, String body) {
        String user = request.lines().filter(l -> l.startsWith("Auth-User: ")).findFirst().orElseThrow().substring(11);
        return "HTTP/1.1 200 OK\r\n" + AUTH_OK + "Auth-User: " + user + "\r\nContent-Length: " + body.length()
                + "\r\n\r\n" + body;
    }

    // ----------------------------------------------------------------- reuse

    @Test
    void aKeepAliveServerGetsTheNextLoginsOnTheSameConnection() throws Exception {
        start(replyKeep(KEEP));
        logins(config(""), "a", "b", "c");
        assertEquals(1, auth.connections(), "one connection for three logins");
        for (int i = 0; i < 3; i++) {
            assertTrue(auth.requestText().endsWith("\r\nConnection: keep-alive\r\n\r\n"));
        }
        AuthHttpStats s = module.stats();
        assertEquals(3, s.requests());
        assertEquals(1, s.newConnections());
        assertEquals(2, s.reusedConnections());
        assertEquals(0, s.staleRetries());
        assertEquals(1, s.idleConnections());
        assertEquals(0, auth.pipelined());
        assertTrue(log.all().isEmpty(), log.all().toString());
    }

    @Test
    void anHttp10ServerKeepsItWithConnectionKeepAlive() throws Exception {
        start(replyKeep("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n" + AUTH_OK + "Content-Length: 0\r\n\r\n"));
        logins(config(""), "a", "b");
        assertEquals(1, auth.connections());
    }

    @Test
    void theBodyIsReadAndDiscardedBeforeTheConnectionIsReused() throws Exception {
        // the body looks like a response: were it not skipped, the next login would read it as its answer
        String body = "HTTP/1.1 200 OK\r\nAuth-Status: Wrong\r\n\r\n".repeat(80);
        start(replyKeep("HTTP/1.1 200 OK\r\n" + AUTH_OK + "Content-Length: " + body.length() + "\r\n\r\n" + body));
        ServerConfig config = config("");
        for (String u : new String[] {"a", "b", "c"}) {
            ok(login(u, config));
            eventually("the connection back in the pool", () -> module.stats().idleConnections() == 1);
        }
        assertEquals(1, auth.connections());
    }

    @Test
    void aBodyThatComesLaterIsWaitedFor() throws Exception {
        start(replyKeep(""));
        auth.script((i, c) -> {
            c.send("HTTP/1.1 200 OK\r\n" + AUTH_OK + "Content-Length: 10\r\n\r\nhello");
            Thread.sleep(300);
            c.send("world");
            c.keepOpen();
        });
        ServerConfig config = config("");
        ok(login("a", config));
        eventually("the connection back in the pool", () -> module.stats().idleConnections() == 1);
        ok(login("b", config));
        assertEquals(1, auth.connections());
    }

    @Test
    void waitResendsUseTheKeptConnection() throws Exception {
        start(perRequest(replyKeep("HTTP/1.1 200 OK\r\nAuth-Status: WAIT\r\nAuth-Wait: 1\r\nContent-Length: 0\r\n\r\n"),
                replyKeep(KEEP)));
        ok(login("alice", config("")));
        assertArrayEquals(auth.request(), auth.request(), "the same request again");
        assertEquals(1, auth.connections());
        assertEquals(1, module.stats().waits());
        assertEquals(1, module.stats().reusedConnections());
    }

    @Test
    void theJdkHttpServerKeepsItsConnection() throws Exception {
        start(replyKeep(KEEP));
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        List<String> seen = new CopyOnWriteArrayList<>();
        Set<Integer> clientPorts = java.util.concurrent.ConcurrentHashMap.newKeySet();
        http.createContext("/auth", ex -> {
            seen.add(ex.getProtocol() + " " + ex.getRequestHeaders().getFirst("Connection"));
            clientPorts.add(ex.getRemoteAddress().getPort());
            ex.getResponseHeaders().add("Auth-Status", "OK");
            ex.getResponseHeaders().add("Auth-Server", "127.0.0.1");
            ex.getResponseHeaders().add("Auth-Port", "8143");
            byte[] body = "accepted".getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.start();
        try {
            ServerConfig config = server(module, "auth_http http://127.0.0.1:" + http.getAddress().getPort() + "/auth;");
            for (String u : new String[] {"a", "b", "c", "d"}) {
                assertEquals(u, ok(login(u, config)).user());
                eventually("the connection back in the pool", () -> module.stats().idleConnections() == 1);
            }
            assertEquals(List.of("HTTP/1.0 keep-alive", "HTTP/1.0 keep-alive", "HTTP/1.0 keep-alive",
                    "HTTP/1.0 keep-alive"), seen);
            assertEquals(1, clientPorts.size(), "all on one connection: " + clientPorts);
            assertEquals(3, module.stats().reusedConnections());
        } finally {
            http.stop(0);
        }
    }

    // ----------------------------------------------------------------- no reuse

    @Test
    void anHttp10ServerThatClosesAfterEachResponseLosesNoLogin() throws Exception {
        start(headers("Auth-Status: OK", "Auth-Server: 127.0.0.1", "Auth-Port: 143"));
        ServerConfig config = config("");
        List<String> users = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            users.add("user" + i);
            ok(login("user" + i, config));
        }
        List<CompletableFuture<AuthResult>> parallel = new ArrayList<>();
        for (int i = 10; i < 20; i++) {
            users.add("user" + i);
            parallel.add(module.authenticate(request("plain", "user" + i, "secret", "imap"), config)
                    .toCompletableFuture());
        }
        for (CompletableFuture<AuthResult> f : parallel) {
            ok(f.get(20, TimeUnit.SECONDS));
        }
        Set<String> received = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            String r = auth.requestText();
            received.add(r.substring(r.indexOf("Auth-User: ") + 11, r.indexOf("\r\n", r.indexOf("Auth-User: "))));
        }
        assertEquals(new HashSet<>(users), received, "each login's request reached the server once");
        assertEquals(20, auth.connections());
        AuthHttpStats s = module.stats();
        assertEquals(20, s.ok());
        assertEquals(20, s.newConnections());
        assertEquals(0, s.reusedConnections());
        assertEquals(0, s.staleRetries());
        assertTrue(log.all().isEmpty(), log.all().toString());
    }

    @Test
    void anHttp10AnswerWithoutKeepAliveIsNotReusedEvenIfTheServerWaits() throws Exception {
        start(replyKeep("HTTP/1.0 200 OK\r\n" + AUTH_OK + "Content-Length: 0\r\n\r\n"));
        logins(config(""), "a", "b");
        assertEquals(2, auth.connections());
        assertClosedByClient(0, 1);
    }

    @Test
    void connectionCloseIsNotReused() throws Exception {
        start(replyKeep("HTTP/1.1 200 OK\r\nConnection: close\r\n" + AUTH_OK + "Content-Length: 0\r\n\r\n"));
        logins(config(""), "a", "b");
        assertEquals(2, auth.connections());
        assertClosedByClient(0, 1);
    }

    @Test
    void headersWithoutContentLengthAreNotReused() throws Exception {
        // the server would wait for another request, but the end of its body is unknown
        start(replyKeep("HTTP/1.1 200 OK\r\n" + AUTH_OK + "\r\n"));
        logins(config(""), "a", "b");
        assertEquals(2, auth.connections());
        assertClosedByClient(0, 1);
        assertEquals(0, module.stats().reusedConnections());
    }

    @Test
    void aServerClosingRightAfterHeadersWithoutContentLength() throws Exception {
        start(FakeAuthServer.reply("HTTP/1.1 200 OK\r\n" + AUTH_OK + "\r\n"));
        logins(config(""), "a", "b", "c", "d");
        assertEquals(4, auth.connections());
        AuthHttpStats s = module.stats();
        assertEquals(0, s.reusedConnections());
        assertEquals(0, s.staleRetries());
        assertEquals(0, s.idleConnections());
    }

    @Test
    void chunkedIsNotReused() throws Exception {
        start(replyKeep("HTTP/1.1 200 OK\r\n" + AUTH_OK + "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"));
        logins(config(""), "a", "b");
        assertEquals(2, auth.connections());
        assertClosedByClient(0, 1);
    }

    @Test
    void moreBytesThanTheContentLengthAreNotReused() throws Exception {
        start(replyKeep("HTTP/1.1 200 OK\r\n" + AUTH_OK + "Content-Length: 2\r\n\r\nok and more"));
        logins(config(""), "a", "b");
        assertEquals(2, auth.connections());
        assertClosedByClient(0, 1);
    }

    @Test
    void withKeepaliveOffEachLoginHasItsOwnConnection() throws Exception {
        start(replyKeep(KEEP));
        ServerConfig config = config("auth_http_keepalive off;");
        logins(config, "a", "b");
        assertEquals(2, auth.connections());
        assertClosedByClient(0, 1);
        assertFalse(auth.requestText().contains("Connection"));
        assertEquals(0, module.stats().reusedConnections());
    }

    // ----------------------------------------------------------------- stale connections

    @Test
    void aConnectionTheServerClosedWhileIdleIsReplaced() throws Exception {
        start(perRequest((i, c) -> {
            c.send(KEEP);
            c.close();
        }));
        ServerConfig config = config("");
        ok(login("a", config));
        eventually("the close seen by the client", () -> module.stats().idleConnections() == 0);
        ok(login("b", config));
        assertEquals(2, auth.connections());
        assertTrue(log.all().isEmpty(), log.all().toString());
    }

    @Test
    void aKeptConnectionClosedBeforeAnyAnswerIsRetriedOnANewOne() throws Exception {
        // the server's keep-alive timeout hit as the request came: it closes without answering
        start(sequence(perRequest(replyKeep(KEEP), (i, c) -> c.close()), replyKeep(KEEP)));
        ServerConfig config = config("");
        ok(login("a", config));
        ok(login("b", config));
        auth.request();
        byte[] lost = auth.request();
        byte[] retried = auth.request();
        assertArrayEquals(lost, retried, "the same request on the new connection");
        assertEquals(2, auth.connections());
        AuthHttpStats s = module.stats();
        assertEquals(2, s.requests());
        assertEquals(1, s.staleRetries());
        assertEquals(2, s.newConnections());
        assertEquals(1, s.reusedConnections());
        assertTrue(log.all().isEmpty(), log.all().toString());
    }

    @Test
    void aKeptConnectionResetBeforeAnyAnswerIsRetriedOnANewOne() throws Exception {
        start(sequence(perRequest(replyKeep(KEEP), (i, c) -> c.reset()), replyKeep(KEEP)));
        ServerConfig config = config("");
        ok(login("a", config));
        ok(login("b", config));
        assertEquals(2, auth.connections());
        assertEquals(1, module.stats().staleRetries());
        assertTrue(log.all().isEmpty(), log.all().toString());
    }

    @Test
    void noRetryAfterAPartOfTheAnswer() throws Exception {
        start(sequence(perRequest(replyKeep(KEEP), (i, c) -> {
            c.send("HTTP/1.1 200 OK\r\nAuth-Sta");
            c.close();
        }), replyKeep(KEEP)));
        ServerConfig config = config("");
        ok(login("a", config));
        assertInstanceOf(AuthResult.TemporaryError.class, login("b", config));
        assertEquals(1, auth.connections(), "not sent again");
        assertEquals(0, module.stats().staleRetries());
        assertEquals(List.of("auth http server " + auth.address() + " prematurely closed connection while in http "
                + "auth state, client: 192.0.2.7, login: \"b\""), log.errors);
    }

    @Test
    void aRetryIsMadeOnlyOnce() throws Exception {
        start(sequence(perRequest(replyKeep(KEEP), (i, c) -> c.close()), (i, c) -> c.close(), replyKeep(KEEP)));
        ServerConfig config = config("");
        ok(login("a", config));
        assertInstanceOf(AuthResult.TemporaryError.class, login("b", config));
        assertEquals(2, auth.connections());
        assertEquals(1, module.stats().staleRetries());
        assertTrue(log.errors.get(0).contains("prematurely closed connection"), log.errors.toString());
    }

    @Test
    void aTimeoutOnAKeptConnectionClosesIt() throws Exception {
        start(sequence(perRequest(replyKeep(KEEP), (i, c) -> c.hang()), replyKeep(KEEP)));
        ok(login("a", config("")));
        AuthResult r = login("b", config("auth_http_timeout 300ms;"));
        assertInstanceOf(AuthResult.TemporaryError.class, r);
        assertTrue(log.errors.get(0).contains("timed out"), log.errors.toString());
        assertTrue(auth.awaitPeerClose(), "the hanging connection was closed");
        ok(login("c", config("")));
        assertEquals(2, auth.connections());
        assertEquals(0, module.stats().staleRetries());
    }

    @Test
    void unaskedBytesOnAnIdleConnectionCloseIt() throws Exception {
        start(perRequest((i, c) -> {
            c.send(KEEP);
            Thread.sleep(300);
            c.send("HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n");
            c.keepOpen();
        }, replyKeep(KEEP)));
        ServerConfig config = config("");
        ok(login("a", config));
        assertEquals(0, auth.awaitClientClose());
        ok(login("b", config));
        assertEquals(2, auth.connections());
    }

    // ----------------------------------------------------------------- limits

    @Test
    void anIdleConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        start(new KeepAlive.Limits(32, Duration.ofMillis(200), 65536), replyKeep(KEEP));
        ServerConfig config = config("");
        ok(login("a", config));
        assertEquals(0, auth.awaitClientClose());
        assertEquals(0, module.stats().idleConnections());
        ok(login("b", config));
        assertEquals(2, auth.connections());
    }

    @Test
    void theServersKeepAliveTimeoutShortensTheIdleTime() throws Exception {
        // ours is 30 s: only the server's 1 s can close it within the 10 s awaited
        start(replyKeep("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\n" + AUTH_OK + "Content-Length: 0\r\n\r\n"));
        ok(login("a", config("")));
        assertEquals(0, auth.awaitClientClose());
    }

    @Test
    void theDefaultIdleTimeoutKeepsTheConnectionForAWhile() throws Exception {
        // the counterpart of the tests above: without a reason to, the client does not close
        start(replyKeep(KEEP));
        ok(login("a", config("")));
        assertFalse(auth.clientClosedWithin(1500));
        assertEquals(1, module.stats().idleConnections());
    }

    @Test
    void stoppingTheModuleClosesTheKeptConnections() throws Exception {
        start(replyKeep(KEEP));
        ok(login("a", config("")));
        module.stop();
        assertEquals(0, auth.awaitClientClose());
        assertEquals(0, module.stats().idleConnections());
    }

    @Test
    void twentyParallelLoginsWithAPoolOfFour() throws Exception {
        AtomicReference<CountDownLatch> all = new AtomicReference<>();
        List<String> errors = new CopyOnWriteArrayList<>();
        // no answer until all 20 requests are in: 20 requests at once, each on a connection of its own;
        // each answer names the login it answers, so that a mix-up shows
        start(new KeepAlive.Limits(4, Duration.ofSeconds(30), 65536), (i, c) -> {
            CountDownLatch latch = all.get();
            latch.countDown();
            if (!latch.await(10, TimeUnit.SECONDS)) {
                errors.add("not all 20 requests came at once");
            }
            c.send(echoUser(c.request(), "ok"));
            c.keepOpen();
        });
        ServerConfig config = config("");

        all.set(new CountDownLatch(20));
        wave(config, 0);
        assertEquals(List.of(), errors);
        assertEquals(20, auth.connections());
        for (int n = 0; n < 16; n++) {
            assertNotEquals(-1, auth.awaitClientClose(), "the client keeps 4 and closes 16, closed " + n);
        }
        eventually("4 left open", () -> auth.openConnections() == 4);
        assertEquals(4, module.stats().idleConnections());

        all.set(new CountDownLatch(20));
        wave(config, 20);
        assertEquals(List.of(), errors);
        assertEquals(36, auth.connections(), "4 kept connections reused, 16 new ones");
        AuthHttpStats s = module.stats();
        assertEquals(40, s.ok());
        assertEquals(36, s.newConnections());
        assertEquals(4, s.reusedConnections());
        assertEquals(0, s.inFlight());
        assertEquals(0, auth.pipelined(), "never two requests at once on one connection");
        eventually("4 idle again", () -> module.stats().idleConnections() == 4);
    }

    private void wave(ServerConfig config, int first) throws Exception {
        List<CompletableFuture<AuthResult>> results = new ArrayList<>();
        for (int i = first; i < first + 20; i++) {
            results.add(module.authenticate(request("plain", "user" + i, "secret", "imap"), config).toCompletableFuture());
        }
        for (int i = 0; i < 20; i++) {
            AuthResult.Ok r = ok(results.get(i).get(20, TimeUnit.SECONDS));
            assertEquals("user" + (first + i), r.user(), "each login got the answer to its own request");
        }
    }
}
