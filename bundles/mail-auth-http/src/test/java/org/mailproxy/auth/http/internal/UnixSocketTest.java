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
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
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
                + "\r\n", auth.requestText());
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
