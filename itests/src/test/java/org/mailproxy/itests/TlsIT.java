package org.mailproxy.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.inject.Inject;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.mailproxy.itests.fixtures.AuthHttpServer;
import org.mailproxy.itests.fixtures.MailBackends;
import org.osgi.framework.Bundle;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * TLS in a real Karaf, between a real HTTP auth server ({@link AuthHttpServer} on the suite's
 * auth_http port) and the real Dovecot and Postfix of {@link MailBackends}: servers added through
 * Config Admin with a certificate and key made at test time (the JDK's keytool, written out as
 * PEM), then
 * <ul>
 * <li>IMAP on {@code listen ... ssl}: login over TLS to Dovecot and FETCH of a seeded message;</li>
 * <li>POP3 with {@code starttls on}: STLS, login to Dovecot, RETR of a seeded message;</li>
 * <li>SMTP with {@code starttls only}: STARTTLS, AUTH, a message delivered by Postfix.</li>
 * </ul>
 * The auth server sees Auth-SSL: on with the protocol and cipher each time.
 */
public class TlsIT extends MailProxyTestSupport {

    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static Path certDir;
    private static X509Certificate certificate;

    @Inject
    private ConfigurationAdmin configAdmin;

    private AuthHttpServer auth;
    private final List<Configuration> servers = new ArrayList<>();
    private final List<TlsLineClient> clients = new ArrayList<>();

    @Before
    public void setUp() throws Exception {
        for (String bundle : List.of("org.mailproxy.imap", "org.mailproxy.pop3", "org.mailproxy.smtp")) {
            awaitBundleState(bundle, Bundle.ACTIVE, DEFAULT_TIMEOUT);
        }
        certificates();
        auth = AuthHttpServer.start(port("auth_http")).failureWait(1);
    }

    @After
    public void tearDown() throws Exception {
        for (TlsLineClient c : clients) {
            c.close();
        }
        for (Configuration server : servers) {
            server.delete();
        }
        if (auth != null) {
            auth.close();
        }
    }

    // ---------------------------------------------------------------- the tests

    @Test
    public void imapsLoginToDovecotAndFetchOfASeededMessage() throws Exception {
        int port = server("tlsit-imaps", "127.0.0.1:%d ssl", "protocol", "imap");
        String id = "tlsit-" + SEQUENCE.incrementAndGet();
        byte[] message = message(id);
        MailBackends.seed("alice", message);

        TlsLineClient c = connect(port);
        c.startTls(clientContext()); // implicit TLS: the greeting only comes over TLS
        assertEquals("* OK IMAP4 ready", c.readLine());
        c.send("a1 CAPABILITY");
        assertEquals("* CAPABILITY IMAP4rev1 UIDPLUS IDLE LITERAL+ QUOTA AUTH=PLAIN", c.readLine());
        assertEquals("a1 OK completed", c.readLine());
        c.send("a2 LOGIN alice " + MailBackends.ALICE_PASSWORD);
        String ok = c.readLine();
        assertTrue(ok, ok.startsWith("a2 OK ") && ok.contains("Logged in"));
        c.send("a3 SELECT INBOX");
        String line;
        while (!(line = c.readLine()).startsWith("a3 ")) {
            // FLAGS, EXISTS...
        }
        assertTrue(line, line.startsWith("a3 OK"));
        c.send("a4 SEARCH HEADER X-Test-Id " + id);
        String search = c.readLine();
        assertTrue(search, search.matches("\\* SEARCH \\d+"));
        assertEquals("a4 OK", c.readLine().substring(0, 5));
        String n = search.substring("* SEARCH ".length());
        c.send("a5 FETCH " + n + " BODY.PEEK[]");
        assertEquals("* " + n + " FETCH (BODY[] {" + message.length + "}", c.readLine());
        assertArrayEquals("the seeded message, byte for byte, through TLS", message, c.read(message.length));
        assertEquals(")", c.readLine());
        assertTrue(c.readLine().startsWith("a5 OK"));
        c.send("a6 LOGOUT");
        assertTrue(c.readLine().startsWith("* BYE"));

        AuthHttpServer.Request r = auth.awaitRequest(Duration.ofSeconds(5));
        assertEquals("imap", r.protocol());
        assertEquals("on", r.header("Auth-SSL"));
        assertEquals(c.protocol(), r.header("Auth-SSL-Protocol"));
        assertTrue(r.header("Auth-SSL-Cipher"), r.header("Auth-SSL-Cipher") != null);
    }

    @Test
    public void pop3StlsLoginToDovecotAndRetr() throws Exception {
        int port = server("tlsit-pop3", "127.0.0.1:%d", "protocol", "pop3", "starttls", "on");
        String id = "tlsit-" + SEQUENCE.incrementAndGet();
        byte[] message = message(id);
        MailBackends.seed("bob", message);

        TlsLineClient c = connect(port);
        String greeting = c.readLine();
        assertTrue(greeting, greeting.startsWith("+OK POP3 ready"));
        assertEquals("+OK Capability list follows", c.command("CAPA"));
        assertEquals(List.of("LAST", "TOP", "USER", "PIPELINING", "UIDL", "SASL PLAIN LOGIN CRAM-MD5", "STLS"),
                c.readUntilDot());
        // STLS with a command pipelined behind it: that command is never executed
        c.sendRaw("STLS\r\nUSER bob\r\n");
        assertEquals("+OK", c.readLine());
        c.startTls(clientContext());
        assertEquals("USER was discarded", "-ERR invalid command", c.command("PASS " + MailBackends.BOB_PASSWORD));
        assertEquals("+OK Capability list follows", c.command("CAPA"));
        assertEquals(List.of("LAST", "TOP", "USER", "PIPELINING", "UIDL", "SASL PLAIN LOGIN CRAM-MD5"),
                c.readUntilDot());
        assertEquals("+OK", c.command("USER bob"));
        assertEquals("+OK Logged in.", c.command("PASS " + MailBackends.BOB_PASSWORD));
        // the seeded message: the one of its size, RETR byte for byte (dot-unstuffed)
        c.send("LIST");
        assertTrue(c.readLine().startsWith("+OK"));
        String number = null;
        for (String entry : c.readUntilDot()) {
            String[] parts = entry.split(" ");
            if (Integer.parseInt(parts[1]) == message.length) {
                number = parts[0];
            }
        }
        assertTrue("seeded message listed", number != null);
        assertEquals("+OK " + message.length + " octets", c.command("RETR " + number));
        assertArrayEquals(message, c.readDotTerminated());
        assertEquals("+OK Logging out.", c.command("QUIT"));

        AuthHttpServer.Request r = auth.awaitRequest(Duration.ofSeconds(5));
        assertEquals("pop3", r.protocol());
        assertEquals("on", r.header("Auth-SSL"));
        assertEquals(c.protocol(), r.header("Auth-SSL-Protocol"));
    }

    @Test
    public void smtpStarttlsOnlyAuthAndDeliveryByPostfix() throws Exception {
        int port = server("tlsit-smtp", "127.0.0.1:%d", "protocol", "smtp", "starttls", "only");
        TlsLineClient c = connect(port);
        assertEquals("220 mail.test.example ESMTP ready", c.readLine());
        c.send("EHLO client.example");
        assertEquals(List.of("250-mail.test.example", "250-SIZE 10485760", "250-ENHANCEDSTATUSCODES",
                "250-8BITMIME", "250-DSN", "250 STARTTLS"), c.readSmtpReply());
        assertEquals("500 5.5.1 Invalid command", c.command("AUTH PLAIN " + b64("\0alice\0" + MailBackends.ALICE_PASSWORD)));
        assertEquals("220 2.0.0 Start TLS", c.command("STARTTLS"));
        c.startTls(clientContext());
        c.send("EHLO client.example");
        assertEquals(List.of("250-mail.test.example", "250-SIZE 10485760", "250-ENHANCEDSTATUSCODES",
                "250-8BITMIME", "250-DSN", "250 AUTH PLAIN LOGIN CRAM-MD5"), c.readSmtpReply());
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0alice\0" + MailBackends.ALICE_PASSWORD)));
        String id = "tlsit-" + SEQUENCE.incrementAndGet();
        byte[] message = message(id);
        assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<sender@client.example>"));
        assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<alice@test.example>"));
        assertTrue(c.command("DATA").startsWith("354"));
        c.sendRaw(new String(message, StandardCharsets.US_ASCII).replace("\r\n.", "\r\n..") + ".\r\n");
        String queued = c.readLine();
        assertTrue(queued, queued.startsWith("250 2.0.0 Ok: queued"));
        assertEquals("221 2.0.0 Bye", c.command("QUIT"));

        byte[] stored = MailBackends.awaitDelivery("alice", "X-Test-Id: " + id, Duration.ofSeconds(20));
        assertArrayEquals(MailBackends.crlfToLf(message), MailBackends.fromLine(stored, "X-Test-Id: " + id));
        AuthHttpServer.Request r = auth.awaitRequest(Duration.ofSeconds(5));
        assertEquals("smtp", r.protocol());
        assertEquals("on", r.header("Auth-SSL"));
        assertEquals(c.protocol(), r.header("Auth-SSL-Protocol"));
    }

    // ---------------------------------------------------------------- servers and certificates

    /**
     * Adds a server through Config Admin: {@code listen} (a format with the port), the certificate
     * and key, and the given directive pairs; waits until it accepts connections.
     */
    private int server(String alias, String listen, String... directives) throws Exception {
        return addServer(configAdmin, servers, alias, listen, concat(new String[] {
                "ssl_certificate", certDir.resolve("server.pem").toString(),
                "ssl_certificate_key", certDir.resolve("server.key").toString()}, directives));
    }

    /** A self-signed RSA certificate for localhost made by the JDK's keytool, written as PEM. */
    private static synchronized void certificates() throws Exception {
        if (certDir != null) {
            return;
        }
        Path dir = Files.createTempDirectory("tlsit-certs");
        Path store = dir.resolve("server.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "server", "-keyalg", "RSA", "-keysize", "2048",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", "changeit", "-keypass", "changeit")
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + output);
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, "changeit".toCharArray());
        }
        certificate = (X509Certificate) ks.getCertificate("server");
        PrivateKey key = (PrivateKey) ks.getKey("server", "changeit".toCharArray());
        Files.writeString(dir.resolve("server.pem"), pem("CERTIFICATE", certificate.getEncoded()));
        Files.writeString(dir.resolve("server.key"), pem("PRIVATE KEY", key.getEncoded())); // PKCS#8
        Files.delete(store);
        certDir = dir;
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** A client context that trusts the test certificate only. */
    private static SSLContext clientContext() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server", certificate);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    /** A message with a unique X-Test-Id, CRLF lines, some starting with a dot. */
    private static byte[] message(String id) {
        StringBuilder text = new StringBuilder();
        text.append("X-Test-Id: ").append(id).append("\r\nFrom: sender@client.example\r\nTo: alice@test.example\r\n")
                .append("Subject: tlsit\r\n\r\n.leading dot\r\nover TLS\r\n");
        for (int i = 0; i < 200; i++) {
            text.append("line ").append(i).append(" of ").append(id).append("\r\n");
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private TlsLineClient connect(int port) throws IOException {
        TlsLineClient c = new TlsLineClient(port);
        clients.add(c);
        return c;
    }

    /** Lines over a socket that can turn into TLS (unbuffered reads, so nothing in clear hides behind). */
    static final class TlsLineClient implements AutoCloseable {
        private Socket socket;
        private InputStream in;
        private OutputStream out;

        TlsLineClient(int port) throws IOException {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(20_000);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        }

        void startTls(SSLContext context) throws IOException {
            SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(socket, "localhost", socket.getPort(), true);
            tls.setSoTimeout(20_000);
            tls.startHandshake();
            socket = tls;
            in = new java.io.BufferedInputStream(tls.getInputStream(), 65536);
            out = tls.getOutputStream();
        }

        String protocol() {
            return ((SSLSocket) socket).getSession().getProtocol();
        }

        void send(String line) throws IOException {
            sendRaw(line + "\r\n");
        }

        void sendRaw(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        String command(String line) throws IOException {
            send(line);
            List<String> reply = readSmtpReplyOrLine();
            return reply.get(reply.size() - 1);
        }

        private List<String> readSmtpReplyOrLine() throws IOException {
            List<String> lines = new ArrayList<>();
            String line;
            do {
                line = readLine();
                lines.add(line);
            } while (line.length() > 3 && line.charAt(3) == '-' && Character.isDigit(line.charAt(0)));
            return lines;
        }

        List<String> readSmtpReply() throws IOException {
            return readSmtpReplyOrLine();
        }

        String readLine() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                if (b == '\n') {
                    String text = line.toString(StandardCharsets.UTF_8);
                    return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
                }
                line.write(b);
            }
            throw new IOException("connection closed; partial line: " + line.toString(StandardCharsets.UTF_8));
        }

        byte[] read(int n) throws IOException {
            byte[] bytes = in.readNBytes(n);
            if (bytes.length != n) {
                throw new IOException("connection closed after " + bytes.length + " of " + n + " bytes");
            }
            return bytes;
        }

        List<String> readUntilDot() throws IOException {
            List<String> lines = new ArrayList<>();
            String line;
            while (!(line = readLine()).equals(".")) {
                lines.add(line);
            }
            return lines;
        }

        /** A POP3 multi-line body, dot-unstuffed, with its CRLFs. */
        byte[] readDotTerminated() throws IOException {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            String line;
            while (!(line = readLine()).equals(".")) {
                body.writeBytes((line.startsWith(".") ? line.substring(1) : line).getBytes(StandardCharsets.UTF_8));
                body.writeBytes(new byte[] {'\r', '\n'});
            }
            return body.toByteArray();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
