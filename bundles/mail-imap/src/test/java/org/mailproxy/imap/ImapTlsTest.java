package org.mailproxy.imap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.auth.http.internal.AuthHttpModule;
import org.mailproxy.core.tls.TestCerts;
import org.mailproxy.imap.fixtures.AuthServer;
import org.mailproxy.imap.fixtures.Client;
import org.mailproxy.imap.fixtures.FakeImapBackend;
import org.mailproxy.imap.fixtures.ImapProxy;

/**
 * IMAP over TLS end to end: the core's listeners, sessions and TLS, this bundle's handler, the real
 * auth_http module asking a real HTTP auth server, a scripted IMAP backend, and the JDK's SSLSocket
 * as the client; certificates are made at test time (mail-core's TestCerts). The expected replies
 * and auth_http headers are nginx's (mail_ssl.t, mail_imap_ssl.t, ngx_mail_imap_module.c,
 * ngx_mail_auth_http_module.c).
 */
class ImapTlsTest {

    private static TestCerts certs;

    private AuthServer auth;
    private FakeImapBackend backend;
    private ImapProxy proxy;
    private final AuthHttpModule authHttp = new AuthHttpModule();

    @BeforeAll
    static void makeCertificates() throws IOException {
        certs = new TestCerts(Files.createTempDirectory("imap-tls-certs"));
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
        backend = new FakeImapBackend();
        auth = new AuthServer(this::answer);
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

    /** test@example.com:secret logs in (EXTERNAL with the backend password); anything else fails. */
    private Map<String, String> answer(Map<String, String> h) {
        Map<String, String> out = new HashMap<>();
        boolean external = "external".equals(h.get("auth-method")) && "test@example.com".equals(h.get("auth-user"));
        if (external || "test@example.com:secret".equals(h.get("auth-user") + ":" + h.get("auth-pass"))) {
            out.put("Auth-Status", "OK");
            out.put("Auth-Server", "127.0.0.1");
            out.put("Auth-Port", String.valueOf(backend.port()));
            if (external) {
                out.put("Auth-Pass", "secret");
            }
        } else {
            out.put("Auth-Status", "ERROR");
            out.put("Auth-Wait", "1");
        }
        return out;
    }

    private void serve(String listenParameters, String directives) throws Exception {
        proxy = new ImapProxy(new ImapProtocol(authHttp), listenParameters,
                "auth_http http://127.0.0.1:" + auth.port() + "/mail/auth;\n" + certs.directives() + directives,
                authHttp);
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

    private Client plain() throws Exception {
        Client c = proxy.connect();
        assertEquals("* OK IMAP4 ready", c.readLine());
        return c;
    }

    private Client tls(SSLContext context) throws Exception {
        Client c = proxy.connectTls(context);
        assertEquals("* OK IMAP4 ready", c.readLine());
        return c;
    }

    private static void assertLoginRelayed(Client c, String tag) throws Exception {
        c.line(tag + " LOGIN test@example.com secret");
        assertEquals(tag + " OK LOGIN completed", c.readLine());
        c.line("r1 NOOP");
        assertEquals("r1 OK completed", c.readLine(), "relayed to the backend");
    }

    // ---------------------------------------------------------------- implicit TLS

    @Test
    void implicitTlsGreetsAfterTheHandshakeAndLogsIn() throws Exception {
        serve("ssl", "");
        // TLS 1.2 with a given suite (its OpenSSL name goes to the auth server), then TLS 1.3
        String[][] cases = {
            {"TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
            {"TLSv1.3", "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"},
        };
        for (String[] tc : cases) {
            try (Client c = proxy.connect()) {
                assertTrue(c.silentFor(300), "no greeting in clear: it waits for the handshake");
                c.offer(new String[] {tc[0]}, new String[] {tc[1]}).startTls(anonymous());
                assertEquals(tc[0], c.tlsSession().getProtocol());
                assertEquals("* OK IMAP4 ready", c.readLine());
                c.line("a1 CAPABILITY");
                assertEquals("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN", c.readLine(),
                        "no STARTTLS on a TLS connection");
                assertEquals("a1 OK completed", c.readLine());
                c.line("a2 STARTTLS");
                assertEquals("a2 BAD invalid command", c.readLine(), "STARTTLS on TLS is invalid, as in nginx");
                assertLoginRelayed(c, "a3");
            }
            Map<String, String> r = auth.lastRequest();
            assertEquals("on", r.get("auth-ssl"));
            assertEquals(tc[0], r.get("auth-ssl-protocol"));
            assertEquals(tc[2], r.get("auth-ssl-cipher"));
            assertNull(r.get("auth-ssl-verify"), "ssl_verify_client off: no certificate details, as nginx");
            assertNull(r.get("auth-ssl-subject"));
            assertNull(r.get("auth-ssl-cert"));
        }
    }

    @Test
    void plaintextOnAnSslListenIsAFailedHandshake() throws Exception {
        serve("ssl", "");
        try (Client c = proxy.connect()) {
            c.line("a1 CAPABILITY");
            assertTrue(c.closedByPeer(), "closed without an IMAP reply");
        }
        assertTrue(auth.requests().isEmpty());
    }

    @Test
    void alpnOfAnotherProtocolIsRefusedAndImapIsAccepted() throws Exception {
        serve("ssl", "");
        try (Client c = proxy.connectTls(anonymous(), "imap")) {
            assertEquals("imap", c.applicationProtocol());
            assertEquals("* OK IMAP4 ready", c.readLine());
        }
        assertThrows(SSLException.class, () -> proxy.connectTls(anonymous(), "http/1.1", "pop3").close(),
                "ALPACA: no_application_protocol");
    }

    // ---------------------------------------------------------------- STARTTLS

    @Test
    void starttlsOnCapabilitiesBeforeAndAfterAndLoginAfterTls() throws Exception {
        serve("", "starttls on;");
        try (Client c = plain()) {
            c.line("a1 CAPABILITY");
            assertEquals("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN STARTTLS", c.readLine());
            assertEquals("a1 OK completed", c.readLine());
            c.line("a2 STARTTLS");
            assertEquals("a2 OK completed", c.readLine());
            c.startTls(anonymous());
            c.line("a3 CAPABILITY");
            assertEquals("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN", c.readLine());
            assertEquals("a3 OK completed", c.readLine());
            c.line("a4 STARTTLS");
            assertEquals("a4 BAD invalid command", c.readLine());
            assertLoginRelayed(c, "a5");
        }
        assertEquals("on", auth.lastRequest().get("auth-ssl"));
        assertEquals("TLSv1.3", auth.lastRequest().get("auth-ssl-protocol"));
        // starttls on: login in clear is allowed, and then nothing says TLS
        try (Client c = plain()) {
            assertLoginRelayed(c, "b1");
        }
        assertNull(auth.lastRequest().get("auth-ssl"));
        assertNull(auth.lastRequest().get("auth-ssl-protocol"));
    }

    @Test
    void starttlsOnlyRefusesLoginsBeforeTlsAndAllowsThemAfter() throws Exception {
        serve("", "starttls only; imap_auth plain login;");
        try (Client c = plain()) {
            c.line("a1 CAPABILITY");
            assertEquals("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS STARTTLS LOGINDISABLED", c.readLine());
            assertEquals("a1 OK completed", c.readLine());
            c.line("a2 LOGIN test@example.com secret");
            assertEquals("a2 BAD invalid command", c.readLine());
            c.line("a3 AUTHENTICATE LOGIN");
            assertEquals("a3 BAD invalid command", c.readLine(), "nginx mail_ssl.t: imap auth before startls only");
            c.line("a4 STARTTLS");
            assertEquals("a4 OK completed", c.readLine());
            c.startTls(anonymous());
            c.line("a5 CAPABILITY");
            assertEquals("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN AUTH=LOGIN", c.readLine());
            assertEquals("a5 OK completed", c.readLine());
            c.line("a6 AUTHENTICATE LOGIN");
            assertEquals("+ VXNlcm5hbWU6", c.readLine());
            c.line("*");
            assertEquals("a6 BAD invalid command", c.readLine());
            assertLoginRelayed(c, "a7");
        }
        assertEquals(1, auth.requests().size(), "only the login after TLS reached the auth server");
        assertEquals("on", auth.lastRequest().get("auth-ssl"));
    }

    /** CVE-2014-3556: a command pipelined behind STARTTLS in the same packet is never executed. */
    @Test
    void commandsPipelinedBehindStarttlsAreDiscarded() throws Exception {
        serve("", "starttls on;");
        try (Client c = plain()) {
            c.send("a1 STARTTLS\r\na2 LOGIN test@example.com secret\r\na3 NOOP\r\n");
            assertEquals("a1 OK completed", c.readLine());
            assertTrue(c.silentFor(300), "no reply in clear to what followed STARTTLS");
            c.startTls(anonymous()); // a reply in clear would have broken the handshake
            c.line("b1 NOOP");
            assertEquals("b1 OK completed", c.readLine(), "the first reply over TLS is the first command's over TLS");
            c.line("b2 CAPABILITY");
            assertEquals("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN", c.readLine());
            assertEquals("b2 OK completed", c.readLine());
            assertTrue(c.silentFor(300));
        }
        assertTrue(auth.requests().isEmpty(), "the pipelined LOGIN never reached the auth server");
        assertEquals(0, backend.connections(), "nor the backend");
    }

    @Test
    void plaintextAfterStarttlsClosesTheConnection() throws Exception {
        serve("", "starttls on;");
        try (Client c = plain()) {
            c.line("a1 STARTTLS");
            assertEquals("a1 OK completed", c.readLine());
            c.line("a2 LOGIN test@example.com secret");
            assertTrue(c.closedByPeer());
        }
        assertTrue(auth.requests().isEmpty());
    }

    // ---------------------------------------------------------------- client certificates

    @Test
    void verifyClientOnWithACertificateSendsItsDetailsToTheAuthServer() throws Exception {
        serve("ssl", "ssl_verify_client on; ssl_client_certificate " + certs.path("ca.pem") + ";\n"
                + "auth_http_pass_client_cert on;");
        try (Client c = tls(alice())) {
            assertLoginRelayed(c, "a1");
        }
        Map<String, String> r = auth.lastRequest();
        assertEquals("on", r.get("auth-ssl"));
        assertEquals("SUCCESS", r.get("auth-ssl-verify"));
        assertEquals("O=mailproxy,CN=alice", r.get("auth-ssl-subject"), "RFC 2253, as nginx's ngx_ssl_get_subject_dn");
        assertEquals("O=mailproxy,CN=Test CA", r.get("auth-ssl-issuer"));
        assertEquals(opensslSerial(certs.client.getSerialNumber()), r.get("auth-ssl-serial"));
        assertEquals(sha1Hex(certs.client), r.get("auth-ssl-fingerprint"));
        assertClientCertificate(r.get("auth-ssl-cert"));
    }

    @Test
    void verifyClientOnWithoutACertificateIsRefused() throws Exception {
        serve("ssl", "ssl_verify_client on; ssl_client_certificate " + certs.path("ca.pem") + ";");
        try (Client c = proxy.connectTls(anonymous())) {
            assertEquals("* BYE No required SSL certificate", c.readLine(), "nginx's no_cert for imap");
            assertTrue(c.closedByPeer());
        }
        assertTrue(auth.requests().isEmpty());
    }

    @Test
    void verifyClientOptional() throws Exception {
        serve("ssl", "ssl_verify_client optional; ssl_client_certificate " + certs.path("ca.pem") + ";");
        // no certificate: served, Auth-SSL-Verify NONE and nothing else about a certificate
        try (Client c = tls(anonymous())) {
            assertLoginRelayed(c, "a1");
        }
        Map<String, String> r = auth.lastRequest();
        assertEquals("on", r.get("auth-ssl"));
        assertEquals("NONE", r.get("auth-ssl-verify"));
        assertNull(r.get("auth-ssl-subject"));
        assertNull(r.get("auth-ssl-serial"));
        assertNull(r.get("auth-ssl-cert"), "auth_http_pass_client_cert is off");
        // a certificate from the CA: SUCCESS, no Auth-SSL-Cert without auth_http_pass_client_cert
        try (Client c = tls(alice())) {
            assertLoginRelayed(c, "a1");
        }
        r = auth.lastRequest();
        assertEquals("SUCCESS", r.get("auth-ssl-verify"));
        assertEquals("O=mailproxy,CN=alice", r.get("auth-ssl-subject"));
        assertNull(r.get("auth-ssl-cert"));
        // a certificate of nobody we know: refused
        int before = auth.requests().size();
        try (Client c = proxy.connectTls(mallory())) {
            assertEquals("* BYE SSL certificate error", c.readLine(), "nginx's cert_error for imap");
            assertTrue(c.closedByPeer());
        }
        assertEquals(before, auth.requests().size());
    }

    @Test
    void verifyClientOptionalNoCaLetsAnUnknownIssuerThroughAndSaysSo() throws Exception {
        serve("ssl", "ssl_verify_client optional_no_ca; ssl_client_certificate " + certs.path("ca.pem") + ";\n"
                + "auth_http_pass_client_cert on;");
        try (Client c = tls(mallory())) {
            assertLoginRelayed(c, "a1");
        }
        Map<String, String> r = auth.lastRequest();
        assertTrue(r.get("auth-ssl-verify").startsWith("FAILED:"), r.get("auth-ssl-verify"));
        assertEquals("CN=mallory", r.get("auth-ssl-subject"));
        assertEquals("CN=mallory", r.get("auth-ssl-issuer"));
        assertEquals(opensslSerial(certs.strangerClient.getSerialNumber()), r.get("auth-ssl-serial"));
        assertEquals(sha1Hex(certs.strangerClient), r.get("auth-ssl-fingerprint"));
    }

    /**
     * Also the first command right behind a TLS 1.3 handshake with a client certificate: it is
     * answered at once (MINA 2.2.4 kept it until the client sent more; see ServerTls).
     */
    @Test
    void starttlsWithAClientCertificateAndAuthenticateExternal() throws Exception {
        serve("", "starttls only; imap_auth external; ssl_verify_client on; ssl_client_certificate "
                + certs.path("ca.pem") + "; auth_http_pass_client_cert on;");
        try (Client c = plain()) {
            c.line("a1 AUTHENTICATE EXTERNAL " + Base64.getEncoder().encodeToString(
                    "test@example.com".getBytes(StandardCharsets.UTF_8)));
            assertEquals("a1 BAD invalid command", c.readLine());
            c.line("a2 STARTTLS");
            assertEquals("a2 OK completed", c.readLine());
            c.startTls(alice());
            c.line("a3 AUTHENTICATE EXTERNAL " + Base64.getEncoder().encodeToString(
                    "test@example.com".getBytes(StandardCharsets.UTF_8)));
            assertEquals("a3 OK LOGIN completed", c.readLine());
        }
        Map<String, String> r = auth.lastRequest();
        assertEquals(1, auth.requests().size());
        assertEquals("external", r.get("auth-method"));
        assertEquals("SUCCESS", r.get("auth-ssl-verify"));
        assertEquals("O=mailproxy,CN=alice", r.get("auth-ssl-subject"));
        assertClientCertificate(r.get("auth-ssl-cert"));
    }

    /** The client's first command right behind its handshake is not executed when its certificate is refused. */
    @Test
    void starttlsWithVerifyClientOnAndNoCertificateIsRefusedAfterTheHandshake() throws Exception {
        serve("", "starttls on; ssl_verify_client on; ssl_client_certificate " + certs.path("ca.pem") + ";");
        try (Client c = plain()) {
            c.line("a1 STARTTLS");
            assertEquals("a1 OK completed", c.readLine());
            c.startTls(anonymous());
            c.line("a2 LOGIN test@example.com secret");
            assertEquals("* BYE No required SSL certificate", c.readLine());
            assertTrue(c.closedByPeer());
        }
        try (Client c = plain()) {
            c.line("a1 STARTTLS");
            assertEquals("a1 OK completed", c.readLine());
            c.startTls(mallory());
            c.line("a2 LOGIN test@example.com secret");
            assertEquals("* BYE SSL certificate error", c.readLine());
            assertTrue(c.closedByPeer());
        }
        assertTrue(auth.requests().isEmpty(), "the LOGIN behind a refused certificate never reached the auth server");
    }

    // ---------------------------------------------------------------- helpers

    /** The serial number as OpenSSL's i2a_ASN1_INTEGER writes it for nginx: two upper-case hex digits a byte. */
    static String opensslSerial(BigInteger serial) {
        byte[] bytes = serial.abs().toByteArray();
        if (bytes.length > 1 && bytes[0] == 0) {
            bytes = Arrays.copyOfRange(bytes, 1, bytes.length);
        }
        return (serial.signum() < 0 ? "-" : "") + HexFormat.of().withUpperCase().formatHex(bytes);
    }

    static String sha1Hex(X509Certificate cert) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(cert.getEncoded()));
    }

    /** Auth-SSL-Cert: the client certificate in PEM, escaped as nginx escapes it (no raw line ends). */
    private static void assertClientCertificate(String header) throws Exception {
        assertTrue(header != null && header.startsWith("-----BEGIN%20CERTIFICATE-----%0A"), String.valueOf(header));
        assertTrue(header.endsWith("-----END%20CERTIFICATE-----%0A"), header);
        assertFalse(header.contains("\n") || header.contains(" "));
        String pem = URLDecoder.decode(header.replace("+", "%2B"), StandardCharsets.US_ASCII);
        X509Certificate sent = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        assertArrayEquals(certs.client.getEncoded(), sent.getEncoded());
    }
}
