package org.mailproxy.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.inject.Inject;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.mailproxy.itests.fixtures.AuthHttpServer;
import org.mailproxy.itests.fixtures.MailBackends;
import org.mailproxy.itests.fixtures.OpensslCerts;
import org.osgi.framework.Bundle;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * {@code listen ... proxy_protocol} in a real Karaf: the test is the load balancer, writing PROXY
 * protocol v1 and v2 headers on a real socket before the mail protocol, then logging in to the
 * real Dovecot through the proxy. What is asserted is what the real auth server fixture received:
 * from a source in {@code set_real_ip_from} Client-IP is the header's address; from any other it
 * stays the socket's (127.0.0.1); Proxy-Protocol-Addr/-Port/-Server-Addr/-Server-Port are the
 * header's either way. On {@code listen ... ssl proxy_protocol} the header comes before the TLS
 * handshake. A broken header closes the connection without a word and no auth request is made.
 */
public class ProxyProtocolIT extends MailProxyTestSupport {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    @Inject
    private ConfigurationAdmin configAdmin;

    private AuthHttpServer auth;
    private final List<Configuration> servers = new ArrayList<>();
    private final List<Socket> sockets = new ArrayList<>();

    @Before
    public void setUp() throws Exception {
        for (String bundle : List.of("org.mailproxy.imap", "org.mailproxy.pop3")) {
            awaitBundleState(bundle, Bundle.ACTIVE, DEFAULT_TIMEOUT);
        }
        auth = AuthHttpServer.start(port("auth_http")).failureWait(1);
    }

    @After
    public void tearDown() throws Exception {
        for (Socket s : sockets) {
            s.close();
        }
        for (Configuration server : servers) {
            server.delete();
        }
        if (auth != null) {
            auth.close();
        }
    }

    // ---------------------------------------------------------------- trusted source

    @Test
    public void v1FromATrustedSourceMakesTheHeaderAddressTheClient() throws Exception {
        int port = server("pp-imap-trusted", "127.0.0.1:%d proxy_protocol", "protocol", "imap",
                "set_real_ip_from", "127.0.0.0/8");
        Socket s = connect(port);
        send(s, "PROXY TCP4 203.0.113.7 192.0.2.1 40001 143\r\n".getBytes(StandardCharsets.US_ASCII));
        imapLoginAndSelect(s);

        AuthHttpServer.Request r = auth.awaitRequest(WAIT);
        assertEquals("203.0.113.7", r.header("Client-IP"));
        assertProxyHeaders(r, "203.0.113.7", 40001, "192.0.2.1", 143);
    }

    @Test
    public void v2Ipv6FromATrustedSourceMakesTheHeaderAddressTheClient() throws Exception {
        int port = server("pp-imap-trusted-v2", "127.0.0.1:%d proxy_protocol", "protocol", "imap",
                "set_real_ip_from", "127.0.0.1");
        Socket s = connect(port);
        send(s, v2("2001:db8::7", 40002, "2001:db8::1", 143));
        imapLoginAndSelect(s);

        AuthHttpServer.Request r = auth.awaitRequest(WAIT);
        assertEquals("2001:db8::7", r.header("Client-IP"));
        assertProxyHeaders(r, "2001:db8::7", 40002, "2001:db8::1", 143);
    }

    // ---------------------------------------------------------------- untrusted source

    @Test
    public void v1FromAnUntrustedSourceKeepsTheSocketAddress() throws Exception {
        int port = server("pp-pop3-untrusted", "127.0.0.1:%d proxy_protocol", "protocol", "pop3",
                "set_real_ip_from", "192.0.2.0/24");
        Socket s = connect(port);
        send(s, "PROXY TCP4 198.51.100.9 192.0.2.1 40003 110\r\n".getBytes(StandardCharsets.US_ASCII));
        pop3LoginAndStat(s);

        AuthHttpServer.Request r = auth.awaitRequest(WAIT);
        assertEquals("127.0.0.1", r.header("Client-IP"));
        assertProxyHeaders(r, "198.51.100.9", 40003, "192.0.2.1", 110);
    }

    @Test
    public void v2FromAnUntrustedSourceKeepsTheSocketAddress() throws Exception {
        int port = server("pp-pop3-untrusted-v2", "127.0.0.1:%d proxy_protocol", "protocol", "pop3");
        Socket s = connect(port); // no set_real_ip_from at all: nobody is trusted
        send(s, v2("198.51.100.10", 40004, "192.0.2.2", 995));
        pop3LoginAndStat(s);

        AuthHttpServer.Request r = auth.awaitRequest(WAIT);
        assertEquals("127.0.0.1", r.header("Client-IP"));
        assertProxyHeaders(r, "198.51.100.10", 40004, "192.0.2.2", 995);
    }

    // ---------------------------------------------------------------- ssl proxy_protocol

    @Test
    public void onAnSslListenTheHeaderComesBeforeTheHandshake() throws Exception {
        int port = server("pp-imaps", "127.0.0.1:%d ssl proxy_protocol", "protocol", "imap",
                "set_real_ip_from", "127.0.0.1", "ssl_certificate", OpensslCerts.path("server.pem"),
                "ssl_certificate_key", OpensslCerts.path("server.key"));
        Socket plain = connect(port);
        send(plain, v2("203.0.113.20", 40005, "192.0.2.3", 993));
        SSLSocket s = (SSLSocket) clientContext().getSocketFactory().createSocket(plain, "localhost", port, true);
        sockets.add(s);
        s.startHandshake();
        imapLoginAndSelect(s);

        AuthHttpServer.Request r = auth.awaitRequest(WAIT);
        assertEquals("203.0.113.20", r.header("Client-IP"));
        assertEquals("on", r.header("Auth-SSL"));
        assertProxyHeaders(r, "203.0.113.20", 40005, "192.0.2.3", 993);
    }

    // ---------------------------------------------------------------- broken headers

    @Test
    public void aBrokenHeaderClosesTheConnectionWithoutAWord() throws Exception {
        int imap = server("pp-imap-broken", "127.0.0.1:%d proxy_protocol", "protocol", "imap",
                "set_real_ip_from", "127.0.0.0/8");
        int imaps = server("pp-imaps-broken", "127.0.0.1:%d ssl proxy_protocol", "protocol", "imap",
                "ssl_certificate", OpensslCerts.path("server.pem"), "ssl_certificate_key", OpensslCerts.path("server.key"));
        List<byte[]> broken = List.of(
                "PROXY TCP4 not-an-address 192.0.2.1 40001 143\r\n".getBytes(StandardCharsets.US_ASCII),
                "a1 LOGIN alice alicepw\r\n".getBytes(StandardCharsets.US_ASCII), // no header at all
                "PROXY TCP4 203.0.113.7 192.0.2.1 70000 143\r\n".getBytes(StandardCharsets.US_ASCII), // bad port
                badSignature(v2("203.0.113.7", 40001, "192.0.2.1", 143)),
                ("PROXY TCP4 " + "1".repeat(120) + "\r\n").getBytes(StandardCharsets.US_ASCII)); // over 107 bytes
        for (byte[] header : broken) {
            assertClosedWithoutAWord(imap, header);
        }
        // a TLS ClientHello where the header should be
        Socket plain = connect(imaps);
        SSLSocket tls = (SSLSocket) clientContext().getSocketFactory().createSocket(plain, "localhost", imaps, true);
        try {
            tls.startHandshake();
            fail("a handshake without the PROXY header must not complete");
        } catch (IOException expected) {
            // closed by the proxy
        }
        assertTrue("no auth request", auth.requests().isEmpty());
    }

    // ---------------------------------------------------------------- protocol steps

    private static void imapLoginAndSelect(Socket s) throws IOException {
        assertEquals("* OK IMAP4 ready", readLine(s));
        send(s, "a1 LOGIN alice " + MailBackends.ALICE_PASSWORD + "\r\n");
        String ok = readLine(s);
        assertTrue(ok, ok.startsWith("a1 OK") && ok.contains("Logged in"));
        send(s, "a2 SELECT INBOX\r\n");
        String line;
        while (!(line = readLine(s)).startsWith("a2 ")) {
            // FLAGS, EXISTS...: Dovecot's answer
        }
        assertTrue(line, line.startsWith("a2 OK"));
        send(s, "a3 LOGOUT\r\n");
        assertTrue(readLine(s).startsWith("* BYE"));
    }

    private static void pop3LoginAndStat(Socket s) throws IOException {
        assertTrue(readLine(s).startsWith("+OK POP3 ready"));
        send(s, "USER bob\r\n");
        assertEquals("+OK", readLine(s));
        send(s, "PASS " + MailBackends.BOB_PASSWORD + "\r\n");
        assertEquals("+OK Logged in.", readLine(s));
        send(s, "STAT\r\n");
        String stat = readLine(s);
        assertTrue(stat, stat.matches("\\+OK \\d+ \\d+"));
        send(s, "QUIT\r\n");
        assertEquals("+OK Logging out.", readLine(s));
    }

    private static void assertProxyHeaders(AuthHttpServer.Request r, String addr, int port, String serverAddr,
                                           int serverPort) {
        assertEquals(addr, r.header("Proxy-Protocol-Addr"));
        assertEquals(Integer.toString(port), r.header("Proxy-Protocol-Port"));
        assertEquals(serverAddr, r.header("Proxy-Protocol-Server-Addr"));
        assertEquals(Integer.toString(serverPort), r.header("Proxy-Protocol-Server-Port"));
    }

    private void assertClosedWithoutAWord(int port, byte[] header) throws IOException {
        Socket s = connect(port);
        send(s, header);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try {
            InputStream in = s.getInputStream();
            int b;
            while ((b = in.read()) != -1) {
                got.write(b);
            }
        } catch (SocketException reset) {
            // closed as well
        }
        assertEquals("the answer to " + new String(header, StandardCharsets.ISO_8859_1), "",
                got.toString(StandardCharsets.ISO_8859_1));
    }

    // ---------------------------------------------------------------- PROXY v2

    /** A PROXY protocol v2 header, command PROXY, TCP over IPv4 or IPv6 (by the source address). */
    private static byte[] v2(String source, int sourcePort, String destination, int destinationPort)
            throws IOException {
        byte[] src = InetAddress.getByName(source).getAddress();
        byte[] dst = InetAddress.getByName(destination).getAddress();
        ByteBuffer b = ByteBuffer.allocate(16 + 2 * src.length + 4);
        b.put(V2_SIGNATURE).put((byte) 0x21).put((byte) (src.length == 4 ? 0x11 : 0x21));
        b.putShort((short) (2 * src.length + 4)).put(src).put(dst);
        b.putShort((short) sourcePort).putShort((short) destinationPort);
        return b.array();
    }

    private static byte[] badSignature(byte[] header) {
        byte[] copy = header.clone();
        copy[10] = 'X'; // "QUIX"
        return copy;
    }

    // ---------------------------------------------------------------- sockets, servers

    private Socket connect(int port) throws IOException {
        Socket s = new Socket(InetAddress.getByName("127.0.0.1"), port);
        s.setSoTimeout((int) WAIT.toMillis());
        sockets.add(s);
        return s;
    }

    private static void send(Socket s, byte[] bytes) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(bytes);
        out.flush();
    }

    private static void send(Socket s, String text) throws IOException {
        send(s, text.getBytes(StandardCharsets.US_ASCII));
    }

    /** One line without CRLF, read byte by byte (nothing buffered ahead of a TLS switch). */
    private static String readLine(Socket s) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        InputStream in = s.getInputStream();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            if (b != '\r') {
                line.write(b);
            }
        }
        if (b == -1 && line.size() == 0) {
            throw new java.io.EOFException("connection closed");
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    private static SSLContext clientContext() throws Exception {
        X509Certificate cert;
        try (InputStream in = java.nio.file.Files.newInputStream(OpensslCerts.directory().resolve("server.pem"))) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    /** Adds a server through Config Admin; waits until it accepts connections (which it then closes: no header). */
    private int server(String alias, String listen, String... directives) throws Exception {
        return addServer(configAdmin, servers, alias, listen, directives);
    }
}
