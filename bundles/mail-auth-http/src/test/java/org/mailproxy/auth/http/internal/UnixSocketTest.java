package org.mailproxy.auth.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mailproxy.auth.http.internal.FakeAuthServer.headers;
import static org.mailproxy.auth.http.internal.TestSupport.await;
import static org.mailproxy.auth.http.internal.TestSupport.plain;
import static org.mailproxy.auth.http.internal.TestSupport.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.auth.http.AuthHttpStats;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.spi.AuthResult;

/** {@code auth_http unix:/path:/uri} against a JDK unix-domain server. */
class UnixSocketTest {

    private final TestSupport.RecordingLog log = new TestSupport.RecordingLog();
    private final AuthHttpModule module = new AuthHttpModule(log);
    private Path dir;
    private Path socket;
    private FakeAuthServer auth;

    @BeforeEach
    void start() throws IOException {
        module.start();
        // short paths: sun_path holds 108 bytes
        dir = Files.createTempDirectory(Path.of("/tmp"), "ah");
        socket = dir.resolve("auth.sock");
        auth = FakeAuthServer.unix(socket, headers("Auth-Status: OK", "Auth-Server: 127.0.0.1", "Auth-Port: 143"));
    }

    @AfterEach
    void stop() throws IOException {
        module.stop();
        auth.close();
        Files.deleteIfExists(socket);
        Files.deleteIfExists(dir);
    }

    @Test
    void requestAndAnswerOverAUnixSocket() throws Exception {
        ServerConfig config = server(module, "auth_http unix:" + socket + ":/mail/auth;\nauth_http_header X-Key k;");
        AuthResult r = await(module.authenticate(plain("pop3"), config));
        assertEquals(new AuthResult.Ok(new InetSocketAddress("127.0.0.1", 143), "alice", "secret"), r);
        assertEquals("GET /mail/auth HTTP/1.0\r\n"
                + "Host: localhost\r\n"
                + "Auth-Method: plain\r\n"
                + "Auth-User: alice\r\n"
                + "Auth-Pass: secret\r\n"
                + "Auth-Protocol: pop3\r\n"
                + "Auth-Login-Attempt: 1\r\n"
                + "Client-IP: 192.0.2.7\r\n"
                + "X-Key: k\r\n"
                + "Connection: keep-alive\r\n"
                + "\r\n", auth.requestText());
    }

    @Test
    void withKeepaliveOffTheRequestIsNginxsByteForByte() throws Exception {
        ServerConfig config = server(module, "auth_http unix:" + socket + ":/mail/auth;\nauth_http_keepalive off;");
        assertInstanceOf(AuthResult.Ok.class, await(module.authenticate(plain("pop3"), config)));
        assertTrue(auth.requestText().endsWith("Client-IP: 192.0.2.7\r\n\r\n"));
    }

    /**
     * More requests at once than any thread pool of the old blocking transport had threads, each
     * answered after 500 ms: all are in flight together and all succeed within auth_http_timeout.
     */
    @Test
    void manySlowRequestsAreInFlightAtOnce() throws Exception {
        int n = 16;
        auth.script((i, c) -> {
            Thread.sleep(500);
            FakeAuthServer.headers("Auth-Status: OK", "Auth-Server: 127.0.0.1", "Auth-Port: 143").answer(i, c);
        });
        ServerConfig config = server(module, "auth_http unix:" + socket + ":/a;\nauth_http_timeout 2s;");
        long start = System.nanoTime();
        List<CompletableFuture<AuthResult>> results = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            results.add(module.authenticate(plain("imap"), config).toCompletableFuture());
        }
        for (CompletableFuture<AuthResult> r : results) {
            assertInstanceOf(AuthResult.Ok.class, await(r), () -> "log: " + log.all());
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        // one after the other they would take 8 s, four at a time 2 s (the last ones timing out)
        assertTrue(millis < 1900, "16 requests of 500 ms took " + millis + " ms");
        assertEquals(n, auth.connections());
        assertEquals(List.of(), log.errors);
    }

    @Test
    void keptAliveConnectionsAreReusedOverAUnixSocket() throws Exception {
        auth.script(FakeAuthServer.replyKeep("HTTP/1.1 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 127.0.0.1\r\n"
                + "Auth-Port: 143\r\nContent-Length: 4\r\n\r\nbody"));
        ServerConfig config = server(module, "auth_http unix:" + socket + ":/a;");
        for (int i = 0; i < 3; i++) {
            assertInstanceOf(AuthResult.Ok.class, await(module.authenticate(plain("imap"), config)));
        }
        AuthHttpStats stats = module.stats();
        assertEquals(1, stats.newConnections());
        assertEquals(2, stats.reusedConnections());
        assertEquals(1, auth.connections());
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (module.stats().idleConnections() != 1 && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertEquals(1, module.stats().idleConnections(), "the connection back in the pool");
        module.stop();
        assertEquals(0, auth.awaitClientClose(), "a stopped module closes its kept connections");
    }

    @Test
    void aKeptConnectionClosedByTheServerIsRetriedOnANewOne() throws Exception {
        // the first connection answers once and closes on the second request without a byte of answer
        auth.script(FakeAuthServer.sequence((i, c) -> {
            if (c.served() == 2) {
                c.close();
                return;
            }
            c.send("HTTP/1.1 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 127.0.0.1\r\nAuth-Port: 143\r\n"
                    + "Content-Length: 0\r\n\r\n");
            c.keepOpen();
        }, FakeAuthServer.headers("Auth-Status: OK", "Auth-Server: 127.0.0.1", "Auth-Port: 143")));
        ServerConfig config = server(module, "auth_http unix:" + socket + ":/a;");
        assertInstanceOf(AuthResult.Ok.class, await(module.authenticate(plain("imap"), config)));
        assertInstanceOf(AuthResult.Ok.class, await(module.authenticate(plain("imap"), config)));
        assertEquals(List.of(), log.errors);
        assertEquals(1, module.stats().staleRetries());
        assertEquals(2, auth.connections());
    }

    @Test
    void theUriDefaultsToSlash() throws Exception {
        await(module.authenticate(plain("imap"), server(module, "auth_http http://unix:" + socket + ";")));
        assertTrue(auth.requestText().startsWith("GET / HTTP/1.0\r\nHost: localhost\r\n"));
    }

    @Test
    void waitThenOkOverAUnixSocket() throws Exception {
        auth.script(FakeAuthServer.sequence(headers("Auth-Status: WAIT"),
                headers("Auth-Status: OK", "Auth-Server: 127.0.0.1", "Auth-Port: 143")));
        AuthResult r = await(module.authenticate(plain("imap"), server(module, "auth_http unix:" + socket + ";")));
        assertInstanceOf(AuthResult.Ok.class, r);
        assertEquals(auth.requestText(), auth.requestText());
    }

    @Test
    void timeoutOverAUnixSocket() throws Exception {
        auth.script((i, c) -> c.hang());
        ServerConfig config = server(module, "auth_http unix:" + socket + ":/a;\nauth_http_timeout 300ms;");
        AuthResult r = await(module.authenticate(plain("imap"), config));
        assertEquals(new AuthResult.TemporaryError("auth http server unix:" + socket + " timed out", true), r);
        assertTrue(auth.awaitPeerClose(), "the unix connection was not closed");
        assertEquals(List.of("auth http server unix:" + socket + " timed out (110: Connection timed out)"
                + " while in http auth state, "
                + "client: 192.0.2.7, login: \"alice\""), log.errors);
    }

    @Test
    void garbageOverAUnixSocket() {
        auth.script(FakeAuthServer.reply("HTTP/1.0 200 OK\r\nBad Header\r\n\r\n"));
        AuthResult r = await(module.authenticate(plain("imap"), server(module, "auth_http unix:" + socket + ";")));
        assertInstanceOf(AuthResult.TemporaryError.class, r);
        assertTrue(log.errors.get(0).startsWith("auth http server unix:" + socket + " sent invalid header in response"));
    }

    @Test
    void aMissingSocketCannotBeConnected() {
        ServerConfig config = server(module, "auth_http unix:" + dir.resolve("none.sock") + ";");
        AuthResult r = await(module.authenticate(plain("imap"), config));
        assertInstanceOf(AuthResult.TemporaryError.class, r);
        assertTrue(log.errors.get(0).startsWith("connect() to unix:" + dir.resolve("none.sock") + " failed ("),
                log.errors.toString());
    }
}
