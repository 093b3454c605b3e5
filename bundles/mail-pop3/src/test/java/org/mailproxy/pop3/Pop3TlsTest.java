package org.mailproxy.pop3;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.core.tls.TestCerts;
import org.mailproxy.pop3.fixture.AuthServerStub;
import org.mailproxy.pop3.fixture.FakePop3Backend;
import org.mailproxy.pop3.fixture.Pop3Proxy;
import org.mailproxy.pop3.fixture.RawClient;

/**
 * POP3 over TLS end to end: the core's listeners, sessions and TLS, this module, the real
 * auth_http module asking a real HTTP auth server, a scripted POP3 backend, the JDK's SSLSocket as
 * the client; certificates made at test time. Replies and CAPA lists as nginx gives them
 * (mail_ssl.t, ngx_mail_pop3_module.c, ngx_mail_pop3_handler.c).
 */
class Pop3TlsTest {

    static final byte[] MESSAGE = "Subject: hi\r\n\r\nbody\r\n".getBytes(UTF_8);

    private static TestCerts certs;

    private AuthServerStub auth;
    private FakePop3Backend backend;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeAll
    static void makeCertificates() throws IOException {
        certs = new TestCerts(Files.createTempDirectory("pop3-tls-certs"));
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
        backend = new FakePop3Backend(AuthServerStub.PASSWORDS, List.of(MESSAGE));
        auth = new AuthServerStub().backend(backend.port()).authWait(1);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
        auth.close();
        backend.close();
    }

    private Pop3Proxy proxy(String listenParameters, String server) throws Exception {
        Pop3Proxy proxy = Pop3Proxy.listening(listenParameters, certs.directives(), server, auth.url());
        closing.add(proxy);
        return proxy;
    }

    private RawClient plain(Pop3Proxy proxy) throws Exception {
        RawClient c = proxy.client();
        closing.add(c);
        assertEquals("+OK POP3 ready", c.readLine());
        return c;
    }

    private RawClient tls(Pop3Proxy proxy, SSLContext context) throws Exception {
        RawClient c = proxy.client();
        closing.add(c);
        c.startTls(context);
        assertEquals("+OK POP3 ready", c.readLine());
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

    private static void assertLoginRelayed(RawClient c) throws Exception {
        assertEquals("+OK", c.command("USER alice"));
        assertEquals("+OK Logged in.", c.command("PASS alicepw"));
        assertEquals("+OK 1 " + MESSAGE.length, c.command("STAT"), "the backend's mailbox");
    }

    // ---------------------------------------------------------------- implicit TLS

    @Test
    void implicitTlsGreetingCapaAndLogin() throws Exception {
        Pop3Proxy proxy = proxy("ssl", "");
        RawClient c = proxy.client();
        closing.add(c);
        assertTrue(c.silentFor(300), "no greeting in clear before the handshake");
        c.startTls(anonymous());
        assertEquals("+OK POP3 ready", c.readLine());
        assertEquals("+OK Capability list follows", c.command("CAPA"));
        assertEquals(List.of("TOP", "USER", "UIDL", "SASL PLAIN LOGIN"), c.readMultiline(), "no STLS on TLS");
        assertEquals("-ERR invalid command", c.command("STLS"), "STLS on TLS");
        assertLoginRelayed(c);
        AuthServerStub.Request r = auth.lastRequest();
        assertEquals("on", r.get("Auth-SSL"));
        assertEquals("TLSv1.3", r.get("Auth-SSL-Protocol"));
        assertTrue(r.get("Auth-SSL-Cipher").startsWith("TLS_"), r.get("Auth-SSL-Cipher"));
        assertNull(r.get("Auth-SSL-Verify"), "ssl_verify_client off");
    }

    // ---------------------------------------------------------------- STLS

    @Test
    void stlsOnCapaBeforeAndAfterAndLogin() throws Exception {
        Pop3Proxy proxy = proxy("", "starttls on;");
        RawClient c = plain(proxy);
        assertEquals("+OK Capability list follows", c.command("CAPA"));
        assertEquals(List.of("TOP", "USER", "UIDL", "SASL PLAIN LOGIN", "STLS"), c.readMultiline());
        assertEquals("+OK", c.command("STLS"));
        c.startTls(anonymous());
        assertEquals("+OK Capability list follows", c.command("CAPA"));
        assertEquals(List.of("TOP", "USER", "UIDL", "SASL PLAIN LOGIN"), c.readMultiline());
        assertEquals("-ERR invalid command", c.command("STLS"));
        assertLoginRelayed(c);
        assertEquals("on", auth.lastRequest().get("Auth-SSL"));
        // starttls on: a login in clear is still allowed, and says nothing of TLS
        c = plain(proxy);
        assertEquals("+OK", c.command("USER alice"));
        assertEquals("+OK Logged in.", c.command("PASS alicepw"));
        assertNull(auth.lastRequest().get("Auth-SSL"));
    }

    @Test
    void stlsOnlyRefusesUserAuthAndApopBeforeTls() throws Exception {
        Pop3Proxy proxy = proxy("", "starttls only; pop3_auth plain apop cram-md5;");
        RawClient c = proxy.client();
        closing.add(c);
        String greeting = c.readLine();
        assertTrue(greeting.startsWith("+OK POP3 ready <"), greeting);
        assertEquals("+OK Capability list follows", c.command("CAPA"));
        assertEquals(List.of("TOP", "UIDL", "STLS"), c.readMultiline(), "nginx: no USER and no SASL before TLS");
        assertEquals("-ERR invalid command", c.command("USER alice"));
        assertEquals("-ERR invalid command", c.command("AUTH LOGIN"), "nginx mail_ssl.t: pop3 auth before startls only");
        assertEquals("-ERR invalid command", c.command("AUTH PLAIN " + b64("\0alice\0alicepw")));
        assertEquals("-ERR invalid command", c.command("APOP alice 00000000000000000000000000000000"));
        assertEquals("+OK", c.command("NOOP"));
        assertEquals("+OK", c.command("STLS"));
        c.startTls(anonymous());
        assertEquals("+OK Capability list follows", c.command("CAPA"));
        assertEquals(List.of("TOP", "USER", "UIDL", "SASL PLAIN LOGIN CRAM-MD5"), c.readMultiline());
        assertLoginRelayed(c);
        assertEquals(1, auth.requests().size(), "only the login over TLS was asked about");
    }

    /** CVE-2014-3556: what follows STLS in the same packet is never executed. */
    @Test
    void commandsPipelinedBehindStlsAreDiscarded() throws Exception {
        Pop3Proxy proxy = proxy("", "starttls on;");
        RawClient c = plain(proxy);
        c.sendRaw("STLS\r\nUSER alice\r\nAUTH PLAIN " + b64("\0alice\0alicepw") + "\r\n");
        assertEquals("+OK", c.readLine());
        assertTrue(c.silentFor(300), "no reply in clear to the pipelined commands");
        c.startTls(anonymous());
        assertEquals("-ERR invalid command", c.command("PASS alicepw"), "USER was not executed: PASS has no user");
        assertEquals("+OK", c.command("NOOP"));
        assertTrue(c.silentFor(300));
        assertTrue(auth.requests().isEmpty(), "the pipelined AUTH PLAIN never reached the auth server");
        assertEquals(0, backend.connections());
    }

    @Test
    void plaintextAfterStlsClosesTheConnection() throws Exception {
        Pop3Proxy proxy = proxy("", "starttls on;");
        RawClient c = plain(proxy);
        assertEquals("+OK", c.command("STLS"));
        c.send("USER alice");
        assertTrue(c.closedByPeer());
    }

    // ---------------------------------------------------------------- client certificates

    @Test
    void clientCertificateDetailsReachTheAuthServer() throws Exception {
        Pop3Proxy proxy = proxy("ssl", "ssl_verify_client on; ssl_client_certificate " + certs.path("ca.pem")
                + "; auth_http_pass_client_cert on;");
        RawClient c = tls(proxy, alice());
        assertLoginRelayed(c);
        AuthServerStub.Request r = auth.lastRequest();
        assertEquals("on", r.get("Auth-SSL"));
        assertEquals("SUCCESS", r.get("Auth-SSL-Verify"));
        assertEquals("O=mailproxy,CN=alice", r.get("Auth-SSL-Subject"));
        assertEquals("O=mailproxy,CN=Test CA", r.get("Auth-SSL-Issuer"));
        assertEquals(opensslSerial(certs.client.getSerialNumber()), r.get("Auth-SSL-Serial"));
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(certs.client.getEncoded())),
                r.get("Auth-SSL-Fingerprint"));
        String cert = r.get("Auth-SSL-Cert");
        assertTrue(cert.startsWith("-----BEGIN%20CERTIFICATE-----%0A") && cert.endsWith("-----END%20CERTIFICATE-----%0A"),
                cert);
    }

    @Test
    void verifyClientRefusalsAreNginxsReplies() throws Exception {
        Pop3Proxy on = proxy("ssl", "ssl_verify_client on; ssl_client_certificate " + certs.path("ca.pem") + ";");
        RawClient c = on.client();
        closing.add(c);
        c.startTls(anonymous());
        assertEquals("-ERR No required SSL certificate", c.readLine());
        assertTrue(c.closedByPeer());
        Pop3Proxy optional = proxy("", "starttls on; ssl_verify_client optional; ssl_client_certificate "
                + certs.path("ca.pem") + ";");
        c = plain(optional);
        assertEquals("+OK", c.command("STLS"));
        c.startTls(mallory());
        c.send("USER alice"); // right behind the handshake: not executed
        assertEquals("-ERR SSL certificate error", c.readLine());
        assertTrue(c.closedByPeer());
        assertTrue(auth.requests().isEmpty());
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(UTF_8));
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
