package org.mailproxy.smtp;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.auth.http.internal.AuthHttpModule;
import org.mailproxy.core.tls.TestCerts;
import org.mailproxy.smtp.fixtures.AuthServer;
import org.mailproxy.smtp.fixtures.Client;
import org.mailproxy.smtp.fixtures.FakeSmtpBackend;
import org.mailproxy.smtp.fixtures.SmtpProxy;

/**
 * SMTP over TLS end to end: the core's listeners, sessions and TLS, this module, the real
 * auth_http module asking a real HTTP auth server, a scripted SMTP backend, the JDK's SSLSocket as
 * the client; certificates made at test time. Replies and EHLO lists as nginx gives them
 * (mail_ssl.t, ngx_mail_smtp_module.c, ngx_mail_smtp_handler.c).
 */
class SmtpTlsTest {

    private static TestCerts certs;

    private AuthServer auth;
    private FakeSmtpBackend backend;
    private SmtpProxy proxy;
    private final AuthHttpModule authHttp = new AuthHttpModule();
    private final List<Client> clients = new ArrayList<>();

    @BeforeAll
    static void makeCertificates() throws IOException {
        certs = new TestCerts(Files.createTempDirectory("smtp-tls-certs"));
    }

    @AfterAll
    static void removeCertificates() throws IOException {
        try (var files = Files.list(certs.dir)) {
            for (var f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(certs.dir);
    }

    @BeforeEach
    void start() throws Exception {
        backend = new FakeSmtpBackend(Map.of("alice", "secret"));
        auth = new AuthServer(this::answer);
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

    /** alice/secret by AUTH PLAIN, and smtp_auth none for any recipient. */
    private Map<String, String> answer(Map<String, String> h) {
        boolean ok = "none".equals(h.get("auth-method"))
                || "alice".equals(h.get("auth-user")) && "secret".equals(h.get("auth-pass"));
        Map<String, String> out = new HashMap<>();
        if (ok) {
            out.put("Auth-Status", "OK");
            out.put("Auth-Server", "127.0.0.1");
            out.put("Auth-Port", String.valueOf(backend.port()));
        } else {
            out.put("Auth-Status", "Invalid login or password");
            out.put("Auth-Wait", "1");
        }
        return out;
    }

    private void serve(String listenParameters, String directives) throws Exception {
        proxy = new SmtpProxy(new SmtpProtocol(authHttp, null), listenParameters,
                "auth_http http://127.0.0.1:" + auth.port() + "/mail/auth;\n" + certs.directives() + directives,
                authHttp);
    }

    private Client plain() throws Exception {
        Client c = proxy.connect();
        clients.add(c);
        assertEquals("220 mx.example ESMTP ready", c.readLine());
        return c;
    }

    private static SSLContext anonymous() {
        return certs.clientContext(null, null);
    }

    private static SSLContext alice() {
        return certs.clientContext(certs.client, certs.clientKeys);
    }

    private static SSLContext mallory() {
        return certs.clientContext(certs.strangerClient, certs.strangerKeys);
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(UTF_8));
    }

    private void assertAuthRelayed(Client c) throws Exception {
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<alice@example.com>"), "the backend's reply");
        assertEquals("221 2.0.0 Bye", c.command("QUIT"));
    }

    // ---------------------------------------------------------------- implicit TLS

    @Test
    void implicitTlsGreetingEhloAndAuth() throws Exception {
        serve("ssl", "");
        Client c = proxy.connect();
        clients.add(c);
        assertTrue(c.silentFor(300), "no greeting in clear before the handshake");
        c.startTls(anonymous());
        assertEquals("220 mx.example ESMTP ready", c.readLine());
        c.line("EHLO client.example");
        assertEquals(List.of("250-mx.example", "250 AUTH PLAIN LOGIN"), c.reply(), "no STARTTLS on TLS");
        assertEquals("500 5.5.1 Invalid command", c.command("STARTTLS"));
        assertAuthRelayed(c);
        Map<String, String> r = auth.lastRequest();
        assertEquals("on", r.get("auth-ssl"));
        assertEquals("TLSv1.3", r.get("auth-ssl-protocol"));
        assertTrue(r.get("auth-ssl-cipher").startsWith("TLS_"), r.get("auth-ssl-cipher"));
        assertNull(r.get("auth-ssl-verify"));
    }

    // ---------------------------------------------------------------- STARTTLS

    @Test
    void starttlsOnEhloBeforeAndAfter() throws Exception {
        serve("", "starttls on;");
        Client c = plain();
        c.line("EHLO client.example");
        assertEquals(List.of("250-mx.example", "250-AUTH PLAIN LOGIN", "250 STARTTLS"), c.reply());
        assertEquals("220 2.0.0 Start TLS", c.command("STARTTLS"));
        c.startTls(anonymous());
        c.line("EHLO client.example");
        assertEquals(List.of("250-mx.example", "250 AUTH PLAIN LOGIN"), c.reply());
        assertEquals("500 5.5.1 Invalid command", c.command("STARTTLS"));
        assertAuthRelayed(c);
        assertEquals("on", auth.lastRequest().get("auth-ssl"));
        // starttls on: AUTH in clear is still served (nginx mail_ssl.t: smtp auth before startls on)
        c = plain();
        assertEquals("334 VXNlcm5hbWU6", c.command("AUTH LOGIN"));
    }

    @Test
    void starttlsOnlyRefusesAuthBeforeTls() throws Exception {
        serve("", "starttls only; smtp_capabilities SIZE PIPELINING;");
        Client c = plain();
        c.line("EHLO client.example");
        assertEquals(List.of("250-mx.example", "250-SIZE", "250-PIPELINING", "250 STARTTLS"), c.reply(),
                "nginx: no AUTH line before TLS");
        assertEquals("500 5.5.1 Invalid command", c.command("AUTH LOGIN"), "nginx mail_ssl.t: 5xx");
        assertEquals("500 5.5.1 Invalid command", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        assertEquals("250 2.0.0 OK", c.command("NOOP"));
        assertEquals("220 2.0.0 Start TLS", c.command("STARTTLS"));
        c.startTls(anonymous());
        c.line("EHLO client.example");
        assertEquals(List.of("250-mx.example", "250-SIZE", "250-PIPELINING", "250 AUTH PLAIN LOGIN"), c.reply());
        assertAuthRelayed(c);
        assertEquals(1, auth.requests().size(), "only the AUTH over TLS was asked about");
    }

    /**
     * CVE-2014-3556 and RFC 3207: what follows STARTTLS in the same packet is never executed, and
     * the HELO and MAIL given before STARTTLS are forgotten.
     */
    @Test
    void starttlsDiscardsPipelinedCommandsAndForgetsHeloAndMail() throws Exception {
        serve("", "starttls on; smtp_auth none;");
        Client c = plain();
        c.line("EHLO before.example");
        assertEquals(List.of("250-mx.example", "250 STARTTLS"), c.reply());
        assertEquals("250 2.0.0 OK", c.command("MAIL FROM:<before@example.com>"));
        c.send("STARTTLS\r\nMAIL FROM:<injected@example.com>\r\nRCPT TO:<injected@example.com>\r\n");
        assertEquals("220 2.0.0 Start TLS", c.readLine());
        assertTrue(c.silentFor(300), "no reply in clear to what followed STARTTLS");
        c.startTls(anonymous());
        assertEquals("503 5.5.1 Bad sequence of commands", c.command("RCPT TO:<b@example.com>"),
                "neither the MAIL before STARTTLS nor the injected one is kept");
        assertEquals("250 2.0.0 OK", c.command("MAIL FROM:<after@example.com>"),
                "a second MAIL would be a bad sequence: the injected one was not executed");
        assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<b@example.com>"), "the backend's reply");
        assertEquals(1, auth.requests().size());
        Map<String, String> r = auth.lastRequest();
        assertEquals("none", r.get("auth-method"));
        assertEquals("", r.getOrDefault("auth-smtp-helo", ""), "the EHLO before STARTTLS is forgotten");
        assertEquals("MAIL FROM:<after@example.com>", r.get("auth-smtp-from"));
        assertEquals("RCPT TO:<b@example.com>", r.get("auth-smtp-to"));
        assertEquals("on", r.get("auth-ssl"));
        for (String line : backend.last().lines) {
            assertFalse(line.contains("injected") || line.contains("before"), line);
        }
    }

    @Test
    void plaintextAfterStarttlsClosesTheConnection() throws Exception {
        serve("", "starttls on;");
        Client c = plain();
        assertEquals("220 2.0.0 Start TLS", c.command("STARTTLS"));
        c.line("EHLO client.example");
        assertTrue(c.closedByPeer());
    }

    // ---------------------------------------------------------------- client certificates

    @Test
    void starttlsWithAClientCertificate() throws Exception {
        serve("", "starttls only; ssl_verify_client optional; ssl_client_certificate " + certs.path("ca.pem")
                + "; auth_http_pass_client_cert on;");
        Client c = plain();
        assertEquals("220 2.0.0 Start TLS", c.command("STARTTLS"));
        c.startTls(alice());
        assertAuthRelayed(c); // the AUTH right behind the handshake is answered (see ServerTls)
        Map<String, String> r = auth.lastRequest();
        assertEquals("on", r.get("auth-ssl"));
        assertEquals("SUCCESS", r.get("auth-ssl-verify"));
        assertEquals("O=mailproxy,CN=alice", r.get("auth-ssl-subject"));
        assertEquals("O=mailproxy,CN=Test CA", r.get("auth-ssl-issuer"));
        assertEquals(opensslSerial(certs.client.getSerialNumber()), r.get("auth-ssl-serial"));
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(certs.client.getEncoded())),
                r.get("auth-ssl-fingerprint"));
        assertTrue(r.get("auth-ssl-cert").startsWith("-----BEGIN%20CERTIFICATE-----%0A"), r.get("auth-ssl-cert"));

        c = plain();
        assertEquals("220 2.0.0 Start TLS", c.command("STARTTLS"));
        c.startTls(anonymous());
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        r = auth.lastRequest();
        assertEquals("NONE", r.get("auth-ssl-verify"));
        assertNull(r.get("auth-ssl-subject"));
        assertNull(r.get("auth-ssl-cert"));
    }

    @Test
    void verifyClientRefusalsAreNginxsReplies() throws Exception {
        serve("ssl", "ssl_verify_client on; ssl_client_certificate " + certs.path("ca.pem") + ";");
        Client c = proxy.connect();
        clients.add(c);
        c.startTls(anonymous());
        assertEquals("421 4.7.1 No required SSL certificate", c.readLine());
        assertTrue(c.closedByPeer());
        c = proxy.connect();
        clients.add(c);
        c.startTls(mallory());
        assertEquals("421 4.7.1 SSL certificate error", c.readLine());
        assertTrue(c.closedByPeer());
        assertTrue(auth.requests().isEmpty());
    }

    /** OpenSSL's i2a_ASN1_INTEGER, as nginx sends Auth-SSL-Serial. */
    private static String opensslSerial(BigInteger serial) {
        byte[] b = serial.toByteArray();
        if (b.length > 1 && b[0] == 0) {
            b = Arrays.copyOfRange(b, 1, b.length);
        }
        return HexFormat.of().withUpperCase().formatHex(b);
    }
}
