package org.mailproxy.core.tls;

import org.mailproxy.core.testing.CommandLineProtocol;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.config.ConfigBuilder;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.ConfigParser;
import org.mailproxy.core.config.DirectiveRegistry;
import org.mailproxy.core.config.ListenSpec;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.net.BindingState;
import org.mailproxy.core.net.ListenBinding;
import org.mailproxy.core.net.ListenerSet;
import org.mailproxy.core.net.TestListen;
import org.mailproxy.core.session.MailServer;
import org.mailproxy.core.session.MailSession;
import org.mailproxy.core.session.SessionLimits;
import org.mailproxy.core.session.SessionManager;
import org.mailproxy.core.spi.AuthRequest;

/**
 * TLS over real sockets, JDK SSLSocket as the client: implicit TLS (TLS 1.2 and 1.3), STARTTLS
 * with a pipelined command that must never run, ALPN refusal, a garbage handshake, client
 * certificates and what reaches the auth server (TlsInfo), configuration errors with file:line.
 * The protocol is a tiny line protocol named imap (for ALPN): NOOP counts, STARTTLS, INFO prints
 * the TlsInfo.
 */
class TlsTest {

    @TempDir
    Path dir;

    private TestCerts certs;
    private SessionManager sessions;
    private ListenerSet listeners;
    private final AtomicInteger noops = new AtomicInteger();
    private MailServer server;
    private int port;

    @BeforeEach
    void start() {
        certs = new TestCerts(dir);
        sessions = new SessionManager(2);
        sessions.setConnectionInitializer(new TlsConnections());
        listeners = new ListenerSet(sessions.ioProcessor(), sessions.clientHandler());
    }

    @AfterEach
    void stop() {
        listeners.close();
        sessions.close();
    }

    // ---------------------------------------------------------------- implicit TLS

    @Test
    void implicitTlsGreetsAfterTheHandshakeWithTls13AndTls12() throws Exception {
        serve(true, "");
        for (String version : List.of("TLSv1.3", "TLSv1.2")) {
            try (SSLSocket s = tls(certs.clientContext(null, null), version, null)) {
                BufferedReader in = reader(s);
                assertEquals("+OK ready", in.readLine());
                send(s, "NOOP\r\n");
                assertEquals("+OK", in.readLine());
                send(s, "INFO\r\n");
                assertEquals("protocol=" + version + " verify=null", in.readLine());
            }
        }
    }

    @Test
    void rsaAndEcdsaCertificatesAreBothServed() throws Exception {
        serve(true, "");
        for (String suite : List.of("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")) {
            try (SSLSocket s = (SSLSocket) certs.clientContext(null, null).getSocketFactory().createSocket("127.0.0.1", port)) {
                s.setEnabledProtocols(new String[] {"TLSv1.2"});
                s.setEnabledCipherSuites(new String[] {suite});
                s.startHandshake();
                assertEquals(suite, s.getSession().getCipherSuite());
                assertEquals("+OK ready", reader(s).readLine());
            }
        }
    }

    @Test
    void alpnOfAnotherProtocolIsRefusedAndItsOwnAccepted() throws Exception {
        serve(true, "");
        SSLException refused = assertThrows(SSLException.class, () -> {
            try (SSLSocket s = tls(certs.clientContext(null, null), "TLSv1.3", "http/1.1")) {
                reader(s).readLine();
            }
        });
        assertTrue(refused.getMessage().contains("no_application_protocol"), refused.getMessage());
        try (SSLSocket s = tls(certs.clientContext(null, null), "TLSv1.3", "imap")) {
            assertEquals("+OK ready", reader(s).readLine());
            assertEquals("imap", s.getApplicationProtocol());
        }
        assertTrue(eventually(() -> server.tls().failedHandshakes() == 1), "the refused handshake is counted");
    }

    @Test
    void garbageInsteadOfAHandshakeClosesTheConnectionAndIsCounted() throws Exception {
        serve(true, "");
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            send(s, "NOOP\r\nGARBAGE GARBAGE GARBAGE\r\n");
            assertEquals(-1, readAll(s), "closed without a greeting");
        }
        assertTrue(eventually(() -> server.tls().failedHandshakes() == 1));
        assertEquals(0, noops.get());
    }

    // ---------------------------------------------------------------- STARTTLS

    @Test
    void starttlsDiscardsWhatWasPipelinedBehindIt() throws Exception {
        serve(false, "starttls on;");
        try (Socket plain = new Socket("127.0.0.1", port)) {
            plain.setSoTimeout(5000);
            BufferedReader in = reader(plain);
            assertEquals("+OK ready", in.readLine());
            send(plain, "NOOP\r\n");
            assertEquals("+OK", in.readLine());
            send(plain, "STARTTLS\r\nNOOP\r\nNOOP\r\n"); // one packet: the NOOPs must never run
            assertEquals("+OK begin TLS", in.readLine());
            SSLSocket s = (SSLSocket) certs.clientContext(null, null).getSocketFactory()
                    .createSocket(plain, "127.0.0.1", port, true);
            s.startHandshake();
            BufferedReader tlsIn = reader(s);
            send(s, "COUNT\r\n");
            assertEquals("noops=1", tlsIn.readLine(), "only the NOOP before STARTTLS ran");
            send(s, "INFO\r\n");
            assertTrue(tlsIn.readLine().startsWith("protocol=TLSv1.3"));
            send(s, "STARTTLS\r\n");
            assertEquals("-ERR invalid", tlsIn.readLine(), "no second STARTTLS on TLS");
        }
    }

    @Test
    void plaintextAfterStarttlsFailsTheHandshake() throws Exception {
        serve(false, "starttls on;");
        try (Socket plain = new Socket("127.0.0.1", port)) {
            plain.setSoTimeout(5000);
            BufferedReader in = reader(plain);
            assertEquals("+OK ready", in.readLine());
            send(plain, "STARTTLS\r\n");
            assertEquals("+OK begin TLS", in.readLine());
            send(plain, "NOOP\r\n");
            assertEquals(-1, readAll(plain));
        }
        assertEquals(0, noops.get());
        assertTrue(eventually(() -> server.tls().failedHandshakes() == 1));
    }

    // ---------------------------------------------------------------- client certificates

    @Test
    void clientCertificateResultsReachTheTlsInfo() throws Exception {
        serve(true, "ssl_verify_client optional; ssl_client_certificate " + certs.path("ca.pem") + ";");
        try (SSLSocket s = tls(certs.clientContext(certs.client, certs.clientKeys), "TLSv1.3", null)) {
            BufferedReader in = reader(s);
            assertEquals("+OK ready", in.readLine());
            send(s, "INFO\r\n");
            assertEquals("protocol=TLSv1.3 verify=SUCCESS", in.readLine());
            send(s, "CERT\r\n");
            assertEquals("subject=O=mailproxy,CN=alice issuer=O=mailproxy,CN=Test CA serial=" // RFC 2253 order, as nginx prints it
                    + opensslSerial(certs.client.getSerialNumber()) + " pem=true", in.readLine());
        }
        try (SSLSocket s = tls(certs.clientContext(null, null), "TLSv1.2", null)) {
            BufferedReader in = reader(s);
            assertEquals("+OK ready", in.readLine());
            send(s, "INFO\r\n");
            assertEquals("protocol=TLSv1.2 verify=NONE", in.readLine(), "optional: no certificate is fine");
        }
        try (SSLSocket s = tls(certs.clientContext(certs.strangerClient, certs.strangerKeys), "TLSv1.3", null)) {
            BufferedReader in = reader(s);
            assertEquals("-ERR SSL certificate error", in.readLine(), "instead of the greeting");
            assertNull(in.readLine());
        }
    }

    /** OpenSSL's i2a_ASN1_INTEGER, as nginx sends Auth-SSL-Serial: two upper-case hex digits a byte. */
    private static String opensslSerial(java.math.BigInteger serial) {
        byte[] b = serial.toByteArray();
        int from = b.length > 1 && b[0] == 0 ? 1 : 0;
        return java.util.HexFormat.of().withUpperCase().formatHex(b, from, b.length);
    }

    @Test
    void serialNumbersAreWrittenAsOpensslWritesThem() {
        assertEquals("01A2B3", ServerTls.serial(java.math.BigInteger.valueOf(0x1A2B3)), "even number of digits");
        assertEquals("80", ServerTls.serial(java.math.BigInteger.valueOf(0x80)), "no sign byte");
        assertEquals("00", ServerTls.serial(java.math.BigInteger.ZERO));
        assertEquals("FF00", ServerTls.serial(java.math.BigInteger.valueOf(0xFF00)));
        assertEquals("-01", ServerTls.serial(java.math.BigInteger.valueOf(-1)));
        assertEquals(opensslSerial(certs.client.getSerialNumber()), ServerTls.serial(certs.client.getSerialNumber()));
    }

    @Test
    void verifyClientOnNeedsACertificateAndOptionalNoCaTakesAnUnknownOne() throws Exception {
        serve(true, "ssl_verify_client on; ssl_client_certificate " + certs.path("ca.pem") + ";");
        try (SSLSocket s = tls(certs.clientContext(null, null), "TLSv1.3", null)) {
            BufferedReader in = reader(s);
            assertEquals("-ERR No required SSL certificate", in.readLine());
            assertNull(in.readLine());
        }
        listeners.close();
        listeners = new ListenerSet(sessions.ioProcessor(), sessions.clientHandler());
        serve(true, "ssl_verify_client optional_no_ca;");
        try (SSLSocket s = tls(certs.clientContext(certs.strangerClient, certs.strangerKeys), "TLSv1.3", null)) {
            BufferedReader in = reader(s);
            assertEquals("+OK ready", in.readLine());
            send(s, "INFO\r\n");
            assertEquals("protocol=TLSv1.3 verify=FAILED:self-signed certificate", in.readLine());
        }
    }

    // ---------------------------------------------------------------- configuration

    @Test
    void configurationErrorsNameFileAndLine() throws Exception {
        assertEquals("no \"ssl_certificate\" is defined for the \"listen ... ssl\" directive in test.conf:3",
                error("mail {\n server {\n  listen 127.0.0.1:993 ssl;\n  protocol imap;\n }\n}\n"));
        assertEquals("no \"ssl_certificate\" is defined for the \"starttls\" directive in test.conf:4",
                error("mail {\n server {\n  listen 127.0.0.1:143;\n  starttls on;\n }\n}\n"));
        assertTrue(error("mail {\n ssl_certificate /nonexistent.pem;\n ssl_certificate_key /nonexistent.key;\n"
                + " server { listen 127.0.0.1:993 ssl; }\n}\n")
                .startsWith("cannot load certificate \"/nonexistent.pem\": no such file in test.conf:2"));
        String base = "mail {\n" + certs.directives().replace("\n", " ") + "\n server { listen 127.0.0.1:993 ssl;\n";
        assertEquals("ssl_ciphers: cipher \"FOO\" in \"FOO\" cannot be mapped to a Java (JSSE) cipher suite in test.conf:4",
                error(base + "ssl_ciphers HIGH:FOO; } }"));
        assertTrue(error(base + "ssl_dhparam dh.pem; } }").startsWith("\"ssl_dhparam\" cannot be honoured"));
        assertTrue(error(base + "ssl_conf_command Options PrioritizeChaCha; } }")
                .startsWith("\"ssl_conf_command\" cannot be honoured"));
        assertTrue(error(base + "ssl_protocols SSLv3 TLSv1.2; } }").startsWith("ssl_protocols: \"SSLv3\""));
        assertTrue(error(base + "ssl_ciphers aNULL; ssl_protocols TLSv1.2; } }").contains("no cipher match"));
        assertEquals("no ssl_client_certificate or ssl_trusted_certificate for ssl_verify_client in test.conf:4",
                error(base + "ssl_verify_client on; } }"));
        // an encrypted key: the second password of the file opens it; without the file it is an error
        String encrypted = "mail {\n ssl_certificate " + certs.path("rsa.pem") + ";\n ssl_certificate_key "
                + certs.path("rsa-enc.key") + ";\n";
        build(encrypted + " ssl_password_file " + certs.path("passwords") + ";\n server { listen 127.0.0.1:993 ssl; } }");
        assertTrue(error(encrypted + " server { listen 127.0.0.1:993 ssl; } }")
                .contains("the key is encrypted and no \"ssl_password_file\" is given"));
        Path wrong = dir.resolve("wrong");
        Files.writeString(wrong, "nope\n");
        assertTrue(error(encrypted + " ssl_password_file " + wrong + ";\n server { listen 127.0.0.1:993 ssl; } }")
                .contains("bad password"));
        // RSA key with the ECDSA certificate
        assertTrue(error("mail {\n ssl_certificate " + certs.path("ec.pem") + ";\n ssl_certificate_key "
                + certs.path("rsa.key") + ";\n server { listen 127.0.0.1:993 ssl; } }").contains("do not match"));
    }

    @Test
    void cipherStringsMapAsOpenSslReadsThem() throws Exception {
        java.util.Set<String> all = new java.util.HashSet<>();
        OpenSslCiphers.TABLE.forEach(s -> all.add(s.jsse()));
        List<String> high = OpenSslCiphers.select("HIGH:!aNULL:!MD5", all);
        assertTrue(high.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
        assertTrue(high.stream().noneMatch(s -> s.contains("3DES")));
        assertEquals(List.of("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
                OpenSslCiphers.select("ECDHE+AES256+AESGCM", all));
        assertEquals(List.of("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
                OpenSslCiphers.select("ECDHE-RSA-AES128-GCM-SHA256:!ECDSA", all));
        assertTrue(OpenSslCiphers.select("HIGH:!kRSA:!DHE:-SHA1", all).stream()
                .noneMatch(s -> s.startsWith("TLS_RSA_") || s.startsWith("TLS_DHE_") || s.endsWith("_SHA")));
        assertEquals("ECDHE-RSA-AES128-GCM-SHA256", OpenSslCiphers.opensslName("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
        assertThrows(OpenSslCiphers.InvalidCipherString.class, () -> OpenSslCiphers.select("HIGH:KRB5", all));
    }

    // ---------------------------------------------------------------- fixture

    private String error(String text) {
        ConfigException e = assertThrows(ConfigException.class, () -> build(text));
        return e.getMessage();
    }

    private static ServerConfig build(String text) throws ConfigException {
        DirectiveRegistry registry = DirectiveRegistry.withCoreModules();
        return ConfigBuilder.build(ConfigParser.parse(text, "test.conf"), registry).servers().get(0);
    }

    private void serve(boolean ssl, String directives) throws ConfigException {
        port = TestListen.freePort();
        ServerConfig config = build("mail {\n" + certs.directives() + " server {\n  listen 127.0.0.1:" + port
                + (ssl ? " ssl" : "") + ";\n  protocol imap;\n  " + directives + "\n }\n}\n");
        server = new MailServer("tls test", new Protocol(), config, SessionLimits.of(config));
        server.setTls(TlsContextBuilder.build(config));
        List<ListenBinding> bindings = new ArrayList<>();
        for (ListenSpec listen : config.listens()) {
            bindings.add(new ListenBinding(listen, server));
        }
        List<BindingState> states = listeners.apply(bindings);
        assertTrue(states.get(0).bound(), states.get(0).error());
    }

    private SSLSocket tls(SSLContext context, String version, String alpn) throws IOException {
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port);
        s.setSoTimeout(5000);
        SSLParameters params = s.getSSLParameters();
        params.setProtocols(new String[] {version});
        if (alpn != null) {
            params.setApplicationProtocols(new String[] {alpn});
        }
        s.setSSLParameters(params);
        s.startHandshake();
        return s;
    }

    private static BufferedReader reader(Socket s) throws IOException {
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
    }

    private static void send(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** Reads until the end; -1 when the peer closed, after whatever it sent. */
    private static int readAll(Socket s) throws IOException {
        try {
            while (s.getInputStream().read() != -1) {
                // drain (a TLS alert, nothing else)
            }
            return -1;
        } catch (java.net.SocketException e) {
            return -1; // reset: closed as well
        }
    }

    private static boolean eventually(java.util.function.BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(50);
        }
        return condition.getAsBoolean();
    }

    /** The line protocol, named imap so that ALPN expects "imap". */
    private final class Protocol extends CommandLineProtocol {
        @Override
        protected boolean command(MailSession session, String command) {
            switch (command) {
                case "NOOP" -> {
                    noops.incrementAndGet();
                    session.write("+OK\r\n");
                }
                case "COUNT" -> session.write("noops=" + noops.get() + "\r\n");
                case "STARTTLS" -> {
                    if (session.isSecure() || !session.canStartTls()) {
                        session.write("-ERR invalid\r\n");
                    } else {
                        session.startTls("+OK begin TLS\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                }
                case "INFO" -> {
                    AuthRequest.TlsInfo info = session.tlsInfo();
                    session.write("protocol=" + info.protocol() + " verify=" + info.verify() + "\r\n");
                }
                case "CERT" -> {
                    AuthRequest.TlsInfo info = session.tlsInfo();
                    session.write("subject=" + info.subject() + " issuer=" + info.issuer() + " serial="
                            + info.serial() + " pem=" + info.certificate().startsWith("-----BEGIN CERTIFICATE-----")
                            + "\r\n");
                }
                default -> session.write("-ERR invalid\r\n");
            }
            return true;
        }
    }
}
