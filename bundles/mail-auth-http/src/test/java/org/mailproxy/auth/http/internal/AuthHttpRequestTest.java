package org.mailproxy.auth.http.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mailproxy.auth.http.internal.FakeAuthServer.headers;
import static org.mailproxy.auth.http.internal.TestSupport.await;
import static org.mailproxy.auth.http.internal.TestSupport.plain;
import static org.mailproxy.auth.http.internal.TestSupport.request;
import static org.mailproxy.auth.http.internal.TestSupport.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.spi.AuthRequest;
import org.mailproxy.core.spi.AuthResult;

/**
 * The request on the wire, byte for byte, for every protocol and method, as a real TCP server
 * receives it.
 *
 * <p>With {@code auth_http_keepalive on} (the default) the request is nginx's plus one line,
 * {@code Connection: keep-alive}, right before the empty line: {@link #send} checks that line and
 * takes it out, so that the expected texts here are exactly what nginx sends.
 */
class AuthHttpRequestTest {

    private static final String OK = "Auth-Status: OK";
    private static final String KEEP_ALIVE = "Connection: keep-alive\r\n";

    private final TestSupport.RecordingLog log = new TestSupport.RecordingLog();
    private final AuthHttpModule module = new AuthHttpModule(log);
    private FakeAuthServer auth;

    @BeforeEach
    void start() throws IOException {
        module.start();
        auth = FakeAuthServer.tcp(headers(OK, "Auth-Server: 127.0.0.1", "Auth-Port: 143", "Auth-Pass: backend"));
    }

    @AfterEach
    void stop() throws IOException {
        module.stop();
        auth.close();
    }

    private ServerConfig config(String extra) {
        return server(module, "auth_http http://" + auth.address() + "/mail/auth;\n" + extra);
    }

    private String send(AuthRequest r, ServerConfig config) throws InterruptedException {
        AuthResult result = await(module.authenticate(r, config));
        assertInstanceOf(AuthResult.Ok.class, result, () -> "result " + result + ", log " + log.all());
        return nginxPart(auth.requestText());
    }

    /** The request less its last line, which must be the only Connection header: what nginx sends. */
    private static String nginxPart(String sent) {
        assertTrue(sent.endsWith("\r\n" + KEEP_ALIVE + "\r\n"), () -> "not ending in " + KEEP_ALIVE + ": " + sent);
        assertEquals(sent.indexOf("\nConnection:"), sent.lastIndexOf("\nConnection:"), sent);
        return sent.substring(0, sent.length() - KEEP_ALIVE.length() - 2) + "\r\n";
    }

    private String send(AuthRequest r) throws InterruptedException {
        return send(r, config(""));
    }

    @Test
    void plainImapLogin() throws Exception {
        assertEquals("GET /mail/auth HTTP/1.0\r\n"
                + "Host: 127.0.0.1\r\n"
                + "Auth-Method: plain\r\n"
                + "Auth-User: alice\r\n"
                + "Auth-Pass: secret\r\n"
                + "Auth-Protocol: imap\r\n"
                + "Auth-Login-Attempt: 1\r\n"
                + "Client-IP: 192.0.2.7\r\n"
                + "\r\n", send(plain("imap")));
    }

    @Test
    void loginMethodIsSentAsPlainWithItsAttemptNumber() throws Exception {
        AuthRequest r = new AuthRequest("login", "bob", "pw", null, "smtp", 3,
                new InetSocketAddress("198.51.100.1", 5000), null, null, null);
        assertEquals("GET /mail/auth HTTP/1.0\r\n"
                + "Host: 127.0.0.1\r\n"
                + "Auth-Method: plain\r\n"
                + "Auth-User: bob\r\n"
                + "Auth-Pass: pw\r\n"
                + "Auth-Protocol: smtp\r\n"
                + "Auth-Login-Attempt: 3\r\n"
                + "Client-IP: 198.51.100.1\r\n"
                + "\r\n", send(r));
    }

    @Test
    void apopSendsTheSaltAndTheDigest() throws Exception {
        AuthRequest r = new AuthRequest("apop", "alice", "c4c9334bac560ecc979e58001b3e22fb",
                "<1896.697170952@mail.example.com>\r\n", "pop3", 1,
                new InetSocketAddress("192.0.2.7", 40000), null, null, null);
        assertEquals("GET /mail/auth HTTP/1.0\r\n"
                + "Host: 127.0.0.1\r\n"
                + "Auth-Method: apop\r\n"
                + "Auth-User: alice\r\n"
                + "Auth-Pass: c4c9334bac560ecc979e58001b3e22fb\r\n"
                + "Auth-Salt: <1896.697170952@mail.example.com>\r\n"
                + "Auth-Protocol: pop3\r\n"
                + "Auth-Login-Attempt: 1\r\n"
                + "Client-IP: 192.0.2.7\r\n"
                + "\r\n", send(r));
    }

    @Test
    void cramMd5SendsTheSaltAndTheDigest() throws Exception {
        AuthRequest r = new AuthRequest("cram-md5", "tim", "b913a602c7eda7a495b4e6e7334d3890",
                "<4711.1700000000@mail.example.com>\r\n", "imap", 2,
                new InetSocketAddress("192.0.2.7", 40000), null, null, null);
        assertEquals("GET /mail/auth HTTP/1.0\r\n"
                + "Host: 127.0.0.1\r\n"
                + "Auth-Method: cram-md5\r\n"
                + "Auth-User: tim\r\n"
                + "Auth-Pass: b913a602c7eda7a495b4e6e7334d3890\r\n"
                + "Auth-Salt: <4711.1700000000@mail.example.com>\r\n"
                + "Auth-Protocol: imap\r\n"
                + "Auth-Login-Attempt: 2\r\n"
                + "Client-IP: 192.0.2.7\r\n"
                + "\r\n", send(r));
    }

    @Test
    void plainAndLoginNeverSendTheSessionSalt() throws Exception {
        for (String method : new String[] {"plain", "login"}) {
            AuthRequest r = new AuthRequest(method, "alice", "secret", "<1.2@mail.example.com>\r\n", "pop3", 1,
                    new InetSocketAddress("192.0.2.7", 40000), null, null, null);
            String sent = send(r);
            assertFalse(sent.contains("Auth-Salt"), sent);
            assertTrue(sent.contains("Auth-Pass: secret\r\n"), sent);
        }
    }

    @Test
    void externalWithTlsDetailsAndTheCertificate() throws Exception {
        String pem = "-----BEGIN CERTIFICATE-----\nMIIB+zCCAaGgAwIBAgIU\n-----END CERTIFICATE-----\n";
        AuthRequest r = request("external", "alice@example.com", "", "imap")
                .withTls(new AuthRequest.TlsInfo("TLSv1.3", "TLS_AES_128_GCM_SHA256", "SUCCESS",
                        "CN=alice,O=Example", "CN=Example CA", "1F2E", "a1b2c3d4", pem));
        String expected = "GET /mail/auth HTTP/1.0\r\n"
                + "Host: 127.0.0.1\r\n"
                + "Auth-Method: external\r\n"
                + "Auth-User: alice@example.com\r\n"
                + "Auth-Pass: \r\n"
                + "Auth-Protocol: imap\r\n"
                + "Auth-Login-Attempt: 1\r\n"
                + "Client-IP: 192.0.2.7\r\n"
                + "Auth-SSL: on\r\n"
                + "Auth-SSL-Protocol: TLSv1.3\r\n"
                + "Auth-SSL-Cipher: TLS_AES_128_GCM_SHA256\r\n"
                + "Auth-SSL-Verify: SUCCESS\r\n"
                + "Auth-SSL-Subject: CN=alice,O=Example\r\n"
                + "Auth-SSL-Issuer: CN=Example CA\r\n"
                + "Auth-SSL-Serial: 1F2E\r\n"
                + "Auth-SSL-Fingerprint: a1b2c3d4\r\n";
        assertEquals(expected + "\r\n", send(r));
        assertEquals(expected
                + "Auth-SSL-Cert: -----BEGIN%20CERTIFICATE-----%0AMIIB+zCCAaGgAwIBAgIU%0A-----END%20CERTIFICATE-----%0A\r\n"
                + "\r\n", send(r, config("auth_http_pass_client_cert on;")));
    }

    @Test
    void tlsWithoutClientVerificationSendsOnlyWhatItHas() throws Exception {
        AuthRequest r = plain("pop3").withTls(new AuthRequest.TlsInfo("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256",
                null, null, null, null, null, null));
        String sent = send(r, config("auth_http_pass_client_cert on;"));
        assertTrue(sent.endsWith("Client-IP: 192.0.2.7\r\nAuth-SSL: on\r\nAuth-SSL-Protocol: TLSv1.2\r\n"
                + "Auth-SSL-Cipher: ECDHE-RSA-AES128-GCM-SHA256\r\n\r\n"), sent);
    }

    @Test
    void smtpAuthNoneSendsTheEnvelopeAfterClientHostAndProxyProtocol() throws Exception {
        AuthRequest r = new AuthRequest("none", "", "", null, "smtp", 1,
                new InetSocketAddress("2001:db8::7", 40000), "client.example.org",
                new AuthRequest.ProxyProtocolInfo(new InetSocketAddress("203.0.113.9", 51000),
                        new InetSocketAddress("192.0.2.1", 25)),
                new AuthRequest.SmtpEnvelope("client.example.org", "<sender@example.org> SIZE=100",
                        "<rcpt@example.com>"));
        assertEquals("GET /mail/auth HTTP/1.0\r\n"
                + "Host: 127.0.0.1\r\n"
                + "Auth-Method: none\r\n"
                + "Auth-User: \r\n"
                + "Auth-Pass: \r\n"
                + "Auth-Protocol: smtp\r\n"
                + "Auth-Login-Attempt: 1\r\n"
                + "Client-IP: 2001:db8::7\r\n"
                + "Client-Host: client.example.org\r\n"
                + "Proxy-Protocol-Addr: 203.0.113.9\r\n"
                + "Proxy-Protocol-Port: 51000\r\n"
                + "Proxy-Protocol-Server-Addr: 192.0.2.1\r\n"
                + "Proxy-Protocol-Server-Port: 25\r\n"
                + "Auth-SMTP-Helo: client.example.org\r\n"
                + "Auth-SMTP-From: <sender@example.org> SIZE=100\r\n"
                + "Auth-SMTP-To: <rcpt@example.com>\r\n"
                + "\r\n", send(r));
    }

    @Test
    void xoauth2AndOauthbearerSendTheTokenAsPassword() throws Exception {
        for (String method : new String[] {"xoauth2", "oauthbearer"}) {
            String sent = send(request(method, "alice@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", "imap"));
            assertTrue(sent.startsWith("GET /mail/auth HTTP/1.0\r\nHost: 127.0.0.1\r\nAuth-Method: " + method + "\r\n"
                    + "Auth-User: alice@example.com\r\nAuth-Pass: ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\r\n"
                    + "Auth-Protocol: imap\r\n"), sent);
        }
    }

    @Test
    void loginAndPasswordAreEscapedAsNginxEscapesThem() throws Exception {
        String user = "a b%c\r\nInjected: yes\u0000\u0001\u001f\u007f~\u00e9";
        String pass = "p\r\nX-Evil: 1\t%25 ";
        AuthResult result = await(module.authenticate(plainWith(user, pass), config("")));
        assertInstanceOf(AuthResult.Ok.class, result);
        byte[] wire = nginxPart(new String(auth.request(), StandardCharsets.ISO_8859_1))
                .getBytes(StandardCharsets.ISO_8859_1);
        String expected = "GET /mail/auth HTTP/1.0\r\n"
                + "Host: 127.0.0.1\r\n"
                + "Auth-Method: plain\r\n"
                + "Auth-User: a%20b%25c%0D%0AInjected:%20yes%00%01%1F\u007f~\u00e9\r\n"
                + "Auth-Pass: p%0D%0AX-Evil:%201%09%2525%20\r\n"
                + "Auth-Protocol: imap\r\n"
                + "Auth-Login-Attempt: 1\r\n"
                + "Client-IP: 192.0.2.7\r\n"
                + "\r\n";
        assertArrayEquals(expected.getBytes(StandardCharsets.ISO_8859_1), wire);
        String text = new String(wire, StandardCharsets.ISO_8859_1);
        assertFalse(text.contains("\r\nInjected"), text);
        assertFalse(text.contains("\r\nX-Evil"), text);
        assertEquals(10, text.split("\r\n", -1).length, "no extra line: " + text);
    }

    @Test
    void valuesNginxCopiesRawCannotBreakALine() throws Exception {
        AuthRequest r = new AuthRequest("none", "", "", null, "smtp", 1, new InetSocketAddress("192.0.2.7", 1),
                "evil\r\nX: 1", null, new AuthRequest.SmtpEnvelope("h\ne", "<a@b>\r\nX-Bad: 1", "<c@d>\u0000"));
        String sent = send(r);
        assertTrue(sent.contains("Client-Host: evil%0D%0AX: 1\r\n"), sent);
        assertTrue(sent.contains("Auth-SMTP-Helo: h%0Ae\r\nAuth-SMTP-From: <a@b>%0D%0AX-Bad: 1\r\n"
                + "Auth-SMTP-To: <c@d>%00\r\n"), sent);
    }

    @Test
    void authHttpHeaderLinesComeLastInOrder() throws Exception {
        String sent = send(plain("imap"), config("auth_http_header X-Auth-Key \"secret key\";\n"
                + "auth_http_header X-Second 2;"));
        assertTrue(sent.endsWith("Client-IP: 192.0.2.7\r\nX-Auth-Key: secret key\r\nX-Second: 2\r\n\r\n"), sent);
    }

    @Test
    void withKeepaliveOffTheRequestIsNginxsByteForByte() throws Exception {
        AuthResult result = await(module.authenticate(plain("imap"),
                config("auth_http_keepalive off;\nauth_http_header X-Key k;")));
        assertInstanceOf(AuthResult.Ok.class, result);
        assertEquals("GET /mail/auth HTTP/1.0\r\n"
                + "Host: 127.0.0.1\r\n"
                + "Auth-Method: plain\r\n"
                + "Auth-User: alice\r\n"
                + "Auth-Pass: secret\r\n"
                + "Auth-Protocol: imap\r\n"
                + "Auth-Login-Attempt: 1\r\n"
                + "Client-IP: 192.0.2.7\r\n"
                + "X-Key: k\r\n"
                + "\r\n", auth.requestText());
    }

    @Test
    void theKeepAliveLineComesAfterTheAuthHttpHeaderLines() throws Exception {
        await(module.authenticate(plain("imap"), config("auth_http_header X-Key k;")));
        assertTrue(auth.requestText().endsWith("Client-IP: 192.0.2.7\r\nX-Key: k\r\nConnection: keep-alive\r\n\r\n"));
    }

    @Test
    void anOperatorsConnectionHeaderIsSentAlone() throws Exception {
        await(module.authenticate(plain("imap"), config("auth_http_header connection close;")));
        String sent = auth.requestText();
        assertTrue(sent.endsWith("Client-IP: 192.0.2.7\r\nconnection: close\r\n\r\n"), sent);
        assertFalse(sent.contains("keep-alive"), sent);
    }

    @Test
    void hostComesFromTheUrlAndTheUriDefaultsToSlash() throws Exception {
        String sent = send(plain("imap"), server(module, "auth_http localhost:" + auth.port() + ";"));
        assertTrue(sent.startsWith("GET / HTTP/1.0\r\nHost: localhost\r\nAuth-Method: plain\r\n"), sent);
        sent = send(plain("imap"), server(module, "auth_http http://127.0.0.1:" + auth.port() + "/a/b?c=d&e;"));
        assertTrue(sent.startsWith("GET /a/b?c=d&e HTTP/1.0\r\nHost: 127.0.0.1\r\n"), sent);
    }

    @Test
    void clientAddressesAreWrittenAsNginxWritesThem() throws Exception {
        String[][] cases = {{"::1", "::1"}, {"2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
            {"fe80:0:0:0:0:0:0:0", "fe80::"}, {"10.0.0.1", "10.0.0.1"}};
        for (String[] c : cases) {
            AuthRequest r = new AuthRequest("plain", "u", "p", null, "imap", 1, new InetSocketAddress(c[0], 1),
                    null, null, null);
            String sent = send(r);
            assertTrue(sent.contains("\r\nClient-IP: " + c[1] + "\r\n"), sent);
        }
    }

    @Test
    void anUnknownMethodIsATemporaryErrorWithoutRequest() {
        AuthResult r = await(module.authenticate(request("digest-md5", "a", "b", "imap"), config("")));
        assertInstanceOf(AuthResult.TemporaryError.class, r);
        assertEquals(0, auth.connections());
        assertTrue(log.errors.get(0).startsWith("unknown auth method \"digest-md5\" while in http auth state"),
                log.errors.toString());
    }

    // ------------------------------------------------------------ every method of every protocol
    //
    // Each request as the protocol builds it (its Auth-Method name, the salt only for apop and
    // cram-md5), and the whole request nginx's ngx_mail_auth_http_create_request writes for it:
    // Host, Auth-Method, Auth-User, Auth-Pass, [Auth-Salt], Auth-Protocol, Auth-Login-Attempt,
    // Client-IP, [Client-Host], [Auth-SSL ...], then the empty line.

    /** The request text from its lines, each followed by CRLF, then the empty line. */
    private static String lines(String... lines) {
        StringBuilder b = new StringBuilder();
        for (String l : lines) {
            b.append(l).append("\r\n");
        }
        return b.append("\r\n").toString();
    }

    private static AuthRequest from(String method, String user, String pass, String salt, String protocol,
                                    String clientHost) {
        return new AuthRequest(method, user, pass, salt, protocol, 1, new InetSocketAddress("192.0.2.7", 40000),
                clientHost, null, null);
    }

    private static final AuthRequest.TlsInfo CLIENT_CERT = new AuthRequest.TlsInfo("TLSv1.3", "TLS_AES_256_GCM_SHA384",
            "SUCCESS", "CN=alice@example.com", "CN=Mail CA", "3A", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", null);

    /** The Auth-SSL lines of {@link #CLIENT_CERT}, as nginx writes them after Client-IP / Client-Host. */
    private static final String[] CLIENT_CERT_LINES = {"Auth-SSL: on", "Auth-SSL-Protocol: TLSv1.3",
        "Auth-SSL-Cipher: TLS_AES_256_GCM_SHA384", "Auth-SSL-Verify: SUCCESS", "Auth-SSL-Subject: CN=alice@example.com",
        "Auth-SSL-Issuer: CN=Mail CA", "Auth-SSL-Serial: 3A", "Auth-SSL-Fingerprint: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"};

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** POP3 USER/PASS and AUTH PLAIN are Auth-Method plain, AUTH LOGIN too ("plain" in nginx's method table). */
    @Test
    void pop3UserPassAuthPlainAndAuthLogin() throws Exception {
        String expected = lines("GET /mail/auth HTTP/1.0", "Host: 127.0.0.1", "Auth-Method: plain",
                "Auth-User: alice", "Auth-Pass: pass word", "Auth-Protocol: pop3", "Auth-Login-Attempt: 1",
                "Client-IP: 192.0.2.7").replace("pass word", "pass%20word");
        assertEquals(expected, send(from("plain", "alice", "pass word", null, "pop3", null)), "USER/PASS, AUTH PLAIN");
        assertEquals(expected, send(from("login", "alice", "pass word", null, "pop3", null)), "AUTH LOGIN");
    }

    /** SMTP AUTH PLAIN and AUTH LOGIN with the user name on the command line; Client-Host from the resolver. */
    @Test
    void smtpAuthPlainAndAuthLoginWithInitialUsername() throws Exception {
        String expected = lines("GET /mail/auth HTTP/1.0", "Host: 127.0.0.1", "Auth-Method: plain",
                "Auth-User: bob@example.org", "Auth-Pass: s3cret", "Auth-Protocol: smtp", "Auth-Login-Attempt: 1",
                "Client-IP: 192.0.2.7", "Client-Host: client.example.org");
        assertEquals(expected, send(from("plain", "bob@example.org", "s3cret", null, "smtp", "client.example.org")),
                "AUTH PLAIN");
        assertEquals(expected, send(from("login-username", "bob@example.org", "s3cret", null, "smtp",
                "client.example.org")), "AUTH LOGIN with initial username");
        assertEquals(expected.replace("Client-Host: client.example.org\r\n", "Client-Host: [UNAVAILABLE]\r\n"),
                send(from("login", "bob@example.org", "s3cret", null, "smtp", "[UNAVAILABLE]")), "AUTH LOGIN");
    }

    @Test
    void pop3AndSmtpCramMd5() throws Exception {
        String salt = "<3141.1700000000@mx.example>\r\n";
        assertEquals(lines("GET /mail/auth HTTP/1.0", "Host: 127.0.0.1", "Auth-Method: cram-md5",
                "Auth-User: alice", "Auth-Pass: 0123456789abcdef0123456789abcdef",
                "Auth-Salt: <3141.1700000000@mx.example>", "Auth-Protocol: pop3", "Auth-Login-Attempt: 1",
                "Client-IP: 192.0.2.7"),
                send(from("cram-md5", "alice", "0123456789abcdef0123456789abcdef", salt, "pop3", null)));
        assertEquals(lines("GET /mail/auth HTTP/1.0", "Host: 127.0.0.1", "Auth-Method: cram-md5",
                "Auth-User: alice", "Auth-Pass: 0123456789abcdef0123456789abcdef",
                "Auth-Salt: <3141.1700000000@mx.example>", "Auth-Protocol: smtp", "Auth-Login-Attempt: 1",
                "Client-IP: 192.0.2.7", "Client-Host: client.example.org"),
                send(from("cram-md5", "alice", "0123456789abcdef0123456789abcdef", salt, "smtp", "client.example.org")));
    }

    /** EXTERNAL: the authzid as Auth-User, an empty Auth-Pass, the client certificate in Auth-SSL-*. */
    @Test
    void pop3AndSmtpExternal() throws Exception {
        String[] head = {"GET /mail/auth HTTP/1.0", "Host: 127.0.0.1", "Auth-Method: external",
            "Auth-User: alice@example.com", "Auth-Pass: "};
        assertEquals(lines(concat(concat(head, "Auth-Protocol: pop3", "Auth-Login-Attempt: 1", "Client-IP: 192.0.2.7"),
                CLIENT_CERT_LINES)), send(from("external", "alice@example.com", "", null, "pop3", null).withTls(CLIENT_CERT)));
        assertEquals(lines(concat(concat(head, "Auth-Protocol: smtp", "Auth-Login-Attempt: 1", "Client-IP: 192.0.2.7",
                "Client-Host: client.example.org"), CLIENT_CERT_LINES)),
                send(from("external", "alice@example.com", "", null, "smtp", "client.example.org").withTls(CLIENT_CERT)));
    }

    /** XOAUTH2 and OAUTHBEARER (Angie): the user= / a= value as Auth-User, the bearer token as Auth-Pass. */
    @Test
    void xoauth2AndOauthbearerWholeRequests() throws Exception {
        String token = "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg";
        for (String method : new String[] {"xoauth2", "oauthbearer"}) {
            for (String protocol : new String[] {"imap", "pop3", "smtp"}) {
                String host = protocol.equals("smtp") ? "client.example.org" : null;
                String[] expected = {"GET /mail/auth HTTP/1.0", "Host: 127.0.0.1", "Auth-Method: " + method,
                    "Auth-User: alice@example.com", "Auth-Pass: " + token, "Auth-Protocol: " + protocol,
                    "Auth-Login-Attempt: 1", "Client-IP: 192.0.2.7"};
                if (host != null) {
                    expected = concat(expected, "Client-Host: " + host);
                }
                assertEquals(lines(concat(expected, "Auth-SSL: on", "Auth-SSL-Protocol: TLSv1.3",
                        "Auth-SSL-Cipher: TLS_AES_256_GCM_SHA384")),
                        send(from(method, "alice@example.com", token, null, protocol, host)
                                .withTls(new AuthRequest.TlsInfo("TLSv1.3", "TLS_AES_256_GCM_SHA384", null, null, null,
                                        null, null, null))), method + " " + protocol);
            }
        }
    }

    /**
     * A session salt is sent for apop and cram-md5 only. nginx writes Auth-Salt for every method
     * but plain when the session has a salt ({@code s->auth_method != NGX_MAIL_AUTH_PLAIN &&
     * s->salt.len}), so a POP3 AUTH LOGIN in a session with an APOP greeting gets it too, and then
     * nginx forgets the password for the backend; here the protocols hand a salt over only with
     * the methods it belongs to, and this module sends it only with those.
     */
    @Test
    void onlyApopAndCramMd5CarryTheSalt() throws Exception {
        String salt = "<3141.1700000000@mx.example>\r\n";
        for (String method : new String[] {"login", "login-username", "external", "xoauth2", "oauthbearer"}) {
            String sent = send(from(method, "alice", "pw", salt, "pop3", null));
            assertFalse(sent.contains("Auth-Salt"), sent);
        }
        assertTrue(send(from("apop", "alice", "0123456789abcdef0123456789abcdef", salt, "pop3", null))
                .contains("\r\nAuth-Salt: <3141.1700000000@mx.example>\r\nAuth-Protocol: pop3\r\n"));
    }

    private static AuthRequest plainWith(String user, String pass) {
        return request("plain", user, pass, "imap");
    }
}
