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
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.apache.mina.core.buffer.IoBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.config.ConfigBuilder;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.ConfigParser;
import org.mailproxy.core.config.DirectiveRegistry;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.net.BindingState;
import org.mailproxy.core.net.ListenBinding;
import org.mailproxy.core.net.ListenerSet;
import org.mailproxy.core.net.TestClient;
import org.mailproxy.core.net.TestListen;
import org.mailproxy.core.session.Backend;
import org.mailproxy.core.session.BackendLogin;
import org.mailproxy.core.session.MailServer;
import org.mailproxy.core.session.MailSession;
import org.mailproxy.core.session.SessionLimits;
import org.mailproxy.core.session.SessionManager;
import org.mailproxy.core.spi.BackendTlsMode;

/**
 * TLS toward the backend ({@code proxy_ssl*}, beyond nginx): the directives and their errors
 * with file:line, then real connections through the core to a JDK SSLSocket backend: implicit
 * TLS, STARTTLS, verification with the right CA and name, with a wrong CA, a wrong name, the
 * per-login override, SNI, and a backend that refuses STARTTLS.
 */
class BackendTlsTest {

    @TempDir
    Path dir;

    private TestCerts certs;
    private SessionManager sessions;
    private ListenerSet listeners;
    private int port;
    private ServerSocket backend;
    private final BlockingQueue<String> backendSaw = new LinkedBlockingQueue<>();

    @BeforeEach
    void start() {
        certs = new TestCerts(dir);
        sessions = new SessionManager(2);
        listeners = new ListenerSet(sessions.ioProcessor(), sessions.clientHandler());
    }

    @AfterEach
    void stop() throws IOException {
        listeners.close();
        sessions.close();
        if (backend != null) {
            backend.close();
        }
    }

    // ---------------------------------------------------------------- directives

    @Test
    void defaultsArePlaintextWithoutVerification() throws Exception {
        ServerConfig server = build("");
        assertEquals("off", server.get("proxy_ssl"));
        assertEquals(false, server.flag("proxy_ssl_verify"));
        assertEquals(1, server.number("proxy_ssl_verify_depth"));
        assertEquals(List.of("TLSv1.2", "TLSv1.3"), server.get("proxy_ssl_protocols"));
        assertNull(server.get("proxy_ssl_name"));
        BackendTls tls = BackendTls.build(server);
        assertEquals(BackendTlsMode.OFF, tls.mode());
        assertTrue(!tls.verifies());
    }

    @Test
    void serversInheritFromMailAndOverride() throws Exception {
        String text = "mail {\n proxy_ssl starttls;\n proxy_ssl_verify on;\n proxy_ssl_trusted_certificate "
                + certs.path("ca.pem") + ";\n"
                + " server { listen 127.0.0.1:1143; protocol imap; }\n"
                + " server { listen 127.0.0.1:1144; protocol imap; proxy_ssl on; proxy_ssl_verify off; }\n}\n";
        List<ServerConfig> servers = ConfigBuilder.build(ConfigParser.parse(text, "test.conf"),
                DirectiveRegistry.withCoreModules()).servers();
        assertEquals(BackendTlsMode.STARTTLS, BackendTls.build(servers.get(0)).mode());
        assertTrue(BackendTls.build(servers.get(0)).verifies());
        assertEquals(BackendTlsMode.ON, BackendTls.build(servers.get(1)).mode());
        assertTrue(!BackendTls.build(servers.get(1)).verifies());
    }

    @Test
    void badValuesAreErrorsWithFileAndLine() {
        assertEquals("invalid value \"yes\" in test.conf:4", error("proxy_ssl yes;"));
        assertEquals("no \"proxy_ssl_trusted_certificate\" for \"proxy_ssl_verify\" in test.conf:4",
                error("proxy_ssl_verify on;"));
        assertTrue(error("proxy_ssl_verify on; proxy_ssl_trusted_certificate " + dir.resolve("none.pem") + ";")
                .matches("cannot load certificate \".*none.pem\": no such file in test.conf:4"));
        assertTrue(error("proxy_ssl_verify_depth 0;").endsWith(" in test.conf:4"));
        assertTrue(error("proxy_ssl_protocols TLSv1.4;").startsWith("invalid value \"TLSv1.4\""));
        assertTrue(error("proxy_ssl_protocols SSLv2;").startsWith("proxy_ssl_protocols: \"SSLv2\" is not implemented"));
        assertEquals("no \"proxy_ssl_certificate_key\" is defined for certificate \"" + certs.path("rsa.pem")
                + "\" in test.conf:4", error("proxy_ssl_certificate " + certs.path("rsa.pem") + ";"));
        assertTrue(error("proxy_ssl_name \"bad name\";").startsWith("invalid value \"bad name\""));
        assertTrue(error("proxy_ssl on off;").startsWith("invalid number of arguments in \"proxy_ssl\" directive"));
    }

    @Test
    void aClientCertificateLoads() throws Exception {
        BackendTls.build(build("proxy_ssl_certificate " + certs.path("rsa.pem") + "; proxy_ssl_certificate_key "
                + certs.path("rsa-enc.key") + "; proxy_ssl_password_file " + certs.path("passwords") + ";"));
    }

    // ---------------------------------------------------------------- connections

    @Test
    void implicitTlsReachesTheBackendAndRelays() throws Exception {
        backend(false, false);
        serve("proxy_ssl on;");
        try (TestClient client = client()) {
            client.send("PROXY default " + backend.getLocalPort() + "\r\n");
            assertEquals("+OK backend greeting", client.readLine());
            client.send("ECHO hello\r\n");
            assertEquals("ECHO hello", client.readLine());
        }
        assertEquals("tls TLSv1.3 sni=none", backendSaw.poll(5, TimeUnit.SECONDS));
    }

    @Test
    void starttlsSwitchesAfterTheGreeting() throws Exception {
        backend(true, false);
        serve("proxy_ssl starttls; proxy_ssl_protocols TLSv1.2;");
        try (TestClient client = client()) {
            client.send("PROXY default " + backend.getLocalPort() + "\r\n");
            assertEquals("+OK secured", client.readLine());
            client.send("ECHO over tls\r\n");
            assertEquals("ECHO over tls", client.readLine());
        }
        assertEquals("plain STARTTLS", backendSaw.poll(5, TimeUnit.SECONDS));
        assertEquals("tls TLSv1.2 sni=none", backendSaw.poll(5, TimeUnit.SECONDS));
    }

    @Test
    void verificationWithTheRightCaAndNamePassesAndTheNameGoesAsSni() throws Exception {
        backend(false, false);
        serve("proxy_ssl on; proxy_ssl_verify on; proxy_ssl_trusted_certificate " + certs.path("ca.pem")
                + "; proxy_ssl_name localhost;");
        try (TestClient client = client()) {
            client.send("PROXY default " + backend.getLocalPort() + "\r\n");
            assertEquals("+OK backend greeting", client.readLine());
        }
        assertEquals("tls TLSv1.3 sni=localhost", backendSaw.poll(5, TimeUnit.SECONDS));
    }

    @Test
    void aWrongCaFailsTheLoginAsAnUnreachableBackend() throws Exception {
        TestCerts other = new TestCerts(Files.createDirectory(dir.resolve("other")));
        backend(false, false);
        serve("proxy_ssl on; proxy_ssl_verify on; proxy_ssl_trusted_certificate " + other.path("ca.pem")
                + "; proxy_ssl_name localhost;");
        try (TestClient client = client()) {
            client.send("PROXY default " + backend.getLocalPort() + "\r\n");
            assertEquals("-ERR backend TLS_FAILED", client.readLine());
            assertTrue(client.closedByPeer());
        }
    }

    @Test
    void aNameTheCertificateDoesNotHoldFails() throws Exception {
        backend(false, false);
        // the backend's address, 127.0.0.1, is not in its certificate (CN=localhost, no IP entry)
        serve("proxy_ssl on; proxy_ssl_verify on; proxy_ssl_trusted_certificate " + certs.path("ca.pem") + ";");
        try (TestClient client = client()) {
            client.send("PROXY default " + backend.getLocalPort() + "\r\n");
            assertEquals("-ERR backend TLS_FAILED", client.readLine());
        }
    }

    @Test
    void theAuthServersChoiceOverridesTheServers() throws Exception {
        backend(true, false);
        serve("proxy_ssl on;"); // the backend speaks STARTTLS; the login's choice wins
        try (TestClient client = client()) {
            client.send("PROXY starttls " + backend.getLocalPort() + "\r\n");
            assertEquals("+OK secured", client.readLine());
        }
        backendSaw.clear();
        backend.close();
        backend(true, false);
        serve("proxy_ssl off;");
        try (TestClient client = client()) {
            client.send("PROXY starttls " + backend.getLocalPort() + "\r\n");
            assertEquals("+OK secured", client.readLine());
        }
    }

    @Test
    void aBackendThatRefusesStarttlsGetsNoPlaintextLogin() throws Exception {
        backend(true, true);
        serve("proxy_ssl starttls;");
        try (TestClient client = client()) {
            client.send("PROXY default " + backend.getLocalPort() + "\r\n");
            assertEquals("-ERR backend refused STARTTLS", client.readLine());
            assertTrue(client.closedByPeer());
        }
    }

    @Test
    void plaintextBackendToAnImplicitTlsServerFails() throws Exception {
        backend = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread t = new Thread(() -> {
            try (Socket s = backend.accept()) {
                s.getOutputStream().write("+OK plain greeting\r\n".getBytes(StandardCharsets.US_ASCII));
                s.getInputStream().read(new byte[1024]);
                Thread.sleep(200);
            } catch (Exception ignored) {
                // closed
            }
        });
        t.setDaemon(true);
        t.start();
        serve("proxy_ssl on;");
        try (TestClient client = client()) {
            client.send("PROXY default " + backend.getLocalPort() + "\r\n");
            assertEquals("-ERR backend TLS_FAILED", client.readLine());
        }
    }

    // ---------------------------------------------------------------- fixture

    private String error(String directives) {
        return assertThrows(ConfigException.class, () -> BackendTls.build(build(directives))).getMessage();
    }

    private static ServerConfig build(String directives) throws ConfigException {
        String text = "mail {\n server {\n  listen 127.0.0.1:1143; protocol imap;\n  " + directives + "\n }\n}\n";
        return ConfigBuilder.build(ConfigParser.parse(text, "test.conf"), DirectiveRegistry.withCoreModules())
                .servers().get(0);
    }

    private void serve(String directives) throws ConfigException {
        port = TestListen.freePort();
        ServerConfig config = build(directives);
        MailServer server = new MailServer("backend tls test", new Protocol(), config, SessionLimits.of(config));
        server.setUpstreamTls(BackendTls.build(config));
        List<BindingState> states = listeners.apply(List.of(new ListenBinding(
                TestListen.on("127.0.0.1", port).spec(), server)));
        assertTrue(states.get(0).bound(), states.get(0).error());
    }

    private TestClient client() throws IOException {
        TestClient client = TestClient.connect("127.0.0.1", port);
        assertEquals("+OK ready", client.readLine());
        return client;
    }

    /**
     * A backend with the test CA's RSA certificate (CN=localhost): implicit TLS, or a plaintext
     * greeting, {@code STARTTLS} (refused with {@code refuse}), TLS and {@code +OK secured}; then
     * it echoes lines. What it saw goes to {@link #backendSaw}.
     */
    private void backend(boolean starttls, boolean refuse) throws Exception {
        SSLContext context = serverContext();
        backend = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        ServerSocket listening = backend;
        Thread t = new Thread(() -> {
            while (!listening.isClosed()) {
                try (Socket plain = listening.accept()) {
                    plain.setSoTimeout(5000);
                    Socket s = plain;
                    if (starttls) {
                        plain.getOutputStream().write("+OK plain greeting\r\n".getBytes(StandardCharsets.US_ASCII));
                        String command = readLine(plain);
                        backendSaw.add("plain " + command);
                        if (refuse) {
                            plain.getOutputStream().write("-ERR no TLS here\r\n".getBytes(StandardCharsets.US_ASCII));
                            readLine(plain);
                            continue;
                        }
                        plain.getOutputStream().write("+OK begin TLS\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, null, plain.getPort(), false);
                    tls.setUseClientMode(false);
                    tls.startHandshake();
                    List<SNIServerName> names = ((javax.net.ssl.ExtendedSSLSession) tls.getSession()).getRequestedServerNames();
                    backendSaw.add("tls " + tls.getSession().getProtocol() + " sni="
                            + (names.isEmpty() ? "none" : ((SNIHostName) names.get(0)).getAsciiName()));
                    s = tls;
                    OutputStream out = s.getOutputStream();
                    out.write((starttls ? "+OK secured\r\n" : "+OK backend greeting\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                    String line;
                    while ((line = in.readLine()) != null) {
                        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    }
                } catch (Exception e) {
                    // the proxy closed or refused the handshake: next connection
                }
            }
        }, "backend-tls-test");
        t.setDaemon(true);
        t.start();
    }

    private static String readLine(Socket s) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = s.getInputStream().read()) >= 0 && c != '\n') {
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    private SSLContext serverContext() throws Exception {
        List<X509Certificate> chain = PemFiles.certificates(Path.of(certs.path("rsa.pem")));
        PrivateKey key = PemFiles.privateKey(Path.of(certs.path("rsa.key")), List.of());
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("server", key, "x".toCharArray(), chain.toArray(new X509Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        kmf.init(store, "x".toCharArray());
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, new SecureRandom());
        return context;
    }

    /**
     * {@code PROXY default|on|starttls|off port}: connects with the server's {@code proxy_ssl} or
     * the given override, logs in with STARTTLS when asked, relays from the greeting on.
     */
    private static final class Protocol extends CommandLineProtocol {
        @Override
        protected boolean command(MailSession session, String line) {
            String[] command = line.split(" ");
            if (command[0].equals("PROXY")) {
                BackendTlsMode mode = BackendTlsMode.parse(command[1]);
                session.connectBackend(new InetSocketAddress("127.0.0.1", Integer.parseInt(command[2])),
                        mode, new Login(session));
                return false;
            }
            session.write("-ERR invalid\r\n");
            return true;
        }
    }

    /** Greeting, STARTTLS when asked, then relays from the next line on. */
    private static final class Login implements BackendLogin {
        private final MailSession session;
        private Backend backend;
        private boolean startTlsSent;

        Login(MailSession session) {
            this.session = session;
        }

        @Override
        public void onConnected(Backend connected) {
            backend = connected;
        }

        @Override
        public void onData(IoBuffer data) {
            int end = -1;
            for (int i = data.position(); i < data.limit(); i++) {
                if (data.get(i) == '\n') {
                    end = i + 1;
                    break;
                }
            }
            if (end < 0) {
                return;
            }
            if (startTlsSent) {
                startTlsSent = false;
                if (data.get(data.position()) != '+') {
                    session.write("-ERR backend refused STARTTLS\r\n");
                    session.closeAfterWrite();
                    data.position(data.limit());
                    return;
                }
                backend.startTls();
                data.position(data.limit());
                return;
            }
            if (backend.mustStartTls()) {
                data.position(data.limit());
                backend.write("STARTTLS\r\n");
                startTlsSent = true;
                return;
            }
            session.startRelay(data);
        }

        @Override
        public void onClose(Failure failure) {
            session.write("-ERR backend " + failure + "\r\n");
        }
    }
}
