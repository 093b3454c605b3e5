package org.mailproxy.core.proxyprotocol;

import org.mailproxy.core.testing.CommandLineProtocol;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
import org.mailproxy.core.config.ListenSpec;
import org.mailproxy.core.config.RealIpModule;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.net.BindingState;
import org.mailproxy.core.net.ListenBinding;
import org.mailproxy.core.net.ListenerSet;
import org.mailproxy.core.net.TestListen;
import org.mailproxy.core.session.Backend;
import org.mailproxy.core.session.BackendLogin;
import org.mailproxy.core.session.ConnectionInitializer;
import org.mailproxy.core.session.MailServer;
import org.mailproxy.core.session.MailSession;
import org.mailproxy.core.session.SessionLimits;
import org.mailproxy.core.session.SessionManager;
import org.mailproxy.core.session.TestBackend;
import org.mailproxy.core.spi.AuthRequest;
import org.mailproxy.core.tls.TestCerts;
import org.mailproxy.core.tls.TlsConnections;
import org.mailproxy.core.tls.TlsContextBuilder;

/**
 * {@code listen ... proxy_protocol}, {@code set_real_ip_from} and {@code proxy_protocol on|v2}
 * over real sockets, wired as MailRuntime wires them. The protocol is a tiny line protocol: a
 * greeting, {@code WHO} (the session's client address and PROXY protocol addresses, as the auth
 * request the protocols build carries them), {@code BACKEND port} (relays to a backend after its
 * greeting line).
 */
class ProxyProtocolTest {

    private static final String V1 = "PROXY TCP4 192.0.2.1 192.0.2.2 123 5678\r\n";
    private static final String WHO_V1 = "client=192.0.2.1:123 pp=192.0.2.1:123>192.0.2.2:5678";

    @TempDir
    Path dir;

    private SessionManager sessions;
    private ListenerSet listeners;
    private int port;

    @BeforeEach
    void start() {
        sessions = new SessionManager(2);
        sessions.setConnectionInitializer(ConnectionInitializer.inOrder(new TlsConnections(),
                new ProxyProtocolConnections())); // as MailRuntime
        listeners = new ListenerSet(sessions.ioProcessor(), sessions.clientHandler());
    }

    @AfterEach
    void stop() {
        listeners.close();
        sessions.close();
    }

    // ---------------------------------------------------------------- v1, v2, real ip

    @Test
    void v1FromATrustedPeerSetsTheClientAddress() throws Exception {
        serve("set_real_ip_from 127.0.0.1;", "");
        try (Socket s = connect()) {
            send(s, V1);
            BufferedReader in = reader(s);
            assertEquals("+OK ready", in.readLine());
            send(s, "WHO\r\n");
            assertEquals(WHO_V1, in.readLine());
        }
    }

    @Test
    void v1FromAnUntrustedPeerKeepsThePeerButPassesWhatWasReceived() throws Exception {
        serve("set_real_ip_from 10.0.0.0/8; set_real_ip_from ::1; set_real_ip_from unix:;", "");
        try (Socket s = connect()) {
            send(s, V1 + "WHO\r\n");
            BufferedReader in = reader(s);
            assertEquals("+OK ready", in.readLine());
            String who = in.readLine();
            assertTrue(who.startsWith("client=127.0.0.1:"), who);
            assertTrue(who.endsWith(" pp=192.0.2.1:123>192.0.2.2:5678"), who);
        }
    }

    @Test
    void withoutSetRealIpFromTheClientAddressStaysThePeer() throws Exception {
        serve("", "");
        try (Socket s = connect()) {
            send(s, V1 + "WHO\r\n");
            BufferedReader in = reader(s);
            assertEquals("+OK ready", in.readLine());
            assertTrue(in.readLine().startsWith("client=127.0.0.1:"));
        }
    }

    @Test
    void v1Tcp6AndV2Tcp4AndTcp6() throws Exception {
        serve("set_real_ip_from 127.0.0.0/8;", "");
        byte[] v1tcp6 = "PROXY TCP6 2001:db8::1 2001:db8::2 40000 143\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] v2tcp4 = ProxyHeaderWriter.v2(new InetSocketAddress("192.0.2.7", 1000), new InetSocketAddress("192.0.2.8", 143));
        byte[] v2tcp6 = ProxyHeaderWriter.v2(new InetSocketAddress("2001:db8::7", 65535), new InetSocketAddress("2001:db8::8", 993));
        assertEquals("client=2001:db8:0:0:0:0:0:1:40000 pp=2001:db8:0:0:0:0:0:1:40000>2001:db8:0:0:0:0:0:2:143", who(v1tcp6));
        assertEquals("client=192.0.2.7:1000 pp=192.0.2.7:1000>192.0.2.8:143", who(v2tcp4));
        assertEquals("client=2001:db8:0:0:0:0:0:7:65535 pp=2001:db8:0:0:0:0:0:7:65535>2001:db8:0:0:0:0:0:8:993", who(v2tcp6));
    }

    @Test
    void v2WithTlvsIsReadAndTheTlvsSkipped() throws Exception {
        serve("set_real_ip_from 127.0.0.1;", "");
        byte[] base = ProxyHeaderWriter.v2(new InetSocketAddress("192.0.2.7", 1000), new InetSocketAddress("192.0.2.8", 143));
        byte[] tlv = {0x02, 0, 5, 'h', 'e', 'l', 'l', 'o', 0x04, 0, 2, 0, 0}; // AUTHORITY "hello", NOOP
        byte[] header = concat(base, tlv);
        int len = 12 + tlv.length;
        header[14] = (byte) (len >> 8);
        header[15] = (byte) len;
        assertEquals("client=192.0.2.7:1000 pp=192.0.2.7:1000>192.0.2.8:143", who(header));
    }

    @Test
    void localUnknownAndOtherFamiliesGiveNoAddresses() throws Exception {
        serve("set_real_ip_from 127.0.0.1;", "");
        byte[] local = ProxyHeaderWriter.v2(new InetSocketAddress("192.0.2.7", 1000), new InetSocketAddress("192.0.2.8", 143));
        local[12] = 0x20; // version 2, LOCAL
        byte[] unspec = ProxyHeaderWriter.v2(InetSocketAddress.createUnresolved("x", 1), new InetSocketAddress("192.0.2.8", 143));
        byte[] unix = new byte[16 + 216];
        System.arraycopy(ProxyHeaderParser.V2_SIGNATURE, 0, unix, 0, 12);
        unix[12] = 0x21;
        unix[13] = 0x31; // AF_UNIX, STREAM
        unix[14] = 0;
        unix[15] = (byte) 216;
        for (byte[] header : List.of(local, unspec, unix, "PROXY UNKNOWN\r\n".getBytes(StandardCharsets.US_ASCII),
                "PROXY UNKNOWN 1.2.3.4 anything at all\r\n".getBytes(StandardCharsets.US_ASCII))) {
            String who = who(header);
            assertTrue(who.startsWith("client=127.0.0.1:") && who.endsWith(" pp=null"), who);
        }
    }

    @Test
    void aHeaderSplitAtEveryByteIsReadAndWhatFollowsItKept() throws Exception {
        serve("set_real_ip_from 127.0.0.1;", "");
        byte[] v2 = ProxyHeaderWriter.v2(new InetSocketAddress("192.0.2.1", 123), new InetSocketAddress("192.0.2.2", 5678));
        for (byte[] header : List.of(V1.getBytes(StandardCharsets.US_ASCII), v2)) {
            byte[] all = concat(header, "WHO\r\n".getBytes(StandardCharsets.US_ASCII));
            for (int split = 1; split < header.length; split++) {
                try (Socket s = connect()) {
                    s.getOutputStream().write(all, 0, split);
                    s.getOutputStream().flush();
                    Thread.sleep(5);
                    s.getOutputStream().write(all, split, all.length - split);
                    s.getOutputStream().flush();
                    BufferedReader in = reader(s);
                    assertEquals("+OK ready", in.readLine(), "split at " + split);
                    assertEquals(WHO_V1, in.readLine(), "split at " + split);
                }
            }
        }
    }

    @Test
    void theGreetingWaitsForTheHeader() throws Exception {
        serve("", "");
        try (Socket s = connect()) {
            s.setSoTimeout(300);
            send(s, "PROXY TCP4 192.0.2.1 ");
            assertTrue(nothingWithin(s), "no greeting before the header is complete");
            s.setSoTimeout(5000);
            send(s, "192.0.2.2 123 5678\r\n");
            assertEquals("+OK ready", reader(s).readLine());
        }
    }

    // ---------------------------------------------------------------- broken headers, timeouts

    @Test
    void brokenTruncatedAndOversizedHeadersCloseWithoutAGreeting() throws Exception {
        serve("", "");
        byte[] tooLarge = new byte[16];
        System.arraycopy(ProxyHeaderParser.V2_SIGNATURE, 0, tooLarge, 0, 12);
        tooLarge[12] = 0x21;
        tooLarge[13] = 0x11;
        tooLarge[14] = (byte) 0x10; // 4096 + 16 bytes
        byte[] version3 = tooLarge.clone();
        version3[12] = 0x31;
        List<byte[]> broken = List.of(
                "NOOP\r\n".getBytes(StandardCharsets.US_ASCII),
                "PROXY TCP5 1.2.3.4 1.2.3.5 1 2\r\n".getBytes(StandardCharsets.US_ASCII),
                "PROXY TCP4 1.2.3.4 1.2.3.5 1 65536\r\n".getBytes(StandardCharsets.US_ASCII),
                "PROXY TCP4 1.2.3.4 1.2.3.5 1 2\n".getBytes(StandardCharsets.US_ASCII),
                "PROXY TCP4 host.example 1.2.3.5 1 2\r\n".getBytes(StandardCharsets.US_ASCII),
                ("PROXY TCP6 " + "1".repeat(100)).getBytes(StandardCharsets.US_ASCII), // 111 bytes, no end
                ("PROXY UNKNOWN " + "x".repeat(100)).getBytes(StandardCharsets.US_ASCII),
                tooLarge, version3);
        for (byte[] header : broken) {
            try (Socket s = connect()) {
                s.getOutputStream().write(header);
                assertEquals(-1, readAll(s), new String(header, StandardCharsets.ISO_8859_1));
            }
        }
        try (Socket s = connect()) { // the client closes half-way
            send(s, "PROXY TCP4 1.2.");
            s.shutdownOutput();
            assertEquals(-1, readAll(s));
        }
        assertTrue(eventually(() -> sessions.currentSessions() == 0));
    }

    @Test
    void noHeaderWithinTheTimeoutClosesTheConnection() throws Exception {
        serve("timeout 400ms;", "");
        try (Socket s = connect()) {
            long start = System.nanoTime();
            assertEquals(-1, readAll(s));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(millis >= 300 && millis < 3000, millis + " ms");
        }
        assertEquals("timeout", lastEndReason());
    }

    @Test
    void aTrickleOfBytesDoesNotStretchTheTimeout() throws Exception {
        serve("timeout 500ms;", "");
        try (Socket s = connect()) {
            long start = System.nanoTime();
            CompletableFuture<Void> trickle = CompletableFuture.runAsync(() -> {
                try {
                    for (byte b : "PROXY TCP4 192.0.2.1 192.0.2.2 123 5678".getBytes(StandardCharsets.US_ASCII)) {
                        s.getOutputStream().write(b);
                        s.getOutputStream().flush();
                        Thread.sleep(100);
                    }
                } catch (Exception closed) {
                    // the proxy closed the connection: what this test expects
                }
            });
            assertEquals(-1, readAll(s));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(millis < 2000, "closed after " + millis + " ms, not after the 4 s the trickle would take");
            trickle.cancel(true);
        }
    }

    // ---------------------------------------------------------------- PROXY before TLS

    @Test
    void onAnSslListenTheHeaderComesBeforeTheHandshake() throws Exception {
        TestCerts certs = new TestCerts(dir);
        serve("set_real_ip_from 127.0.0.1;", " ssl", certs.directives());
        try (Socket plain = connect()) {
            send(plain, V1); // the header, then the ClientHello, possibly in one segment
            SSLSocket s = (SSLSocket) certs.clientContext(null, null).getSocketFactory()
                    .createSocket(plain, "127.0.0.1", port, true);
            s.startHandshake();
            BufferedReader in = reader(s);
            assertEquals("+OK ready", in.readLine());
            send(s, "WHO\r\n");
            assertEquals(WHO_V1, in.readLine());
        }
    }

    // ---------------------------------------------------------------- proxy_protocol to the backend

    @Test
    void proxyProtocolOnSendsV1FirstOnTheBackendConnection() throws Exception {
        CompletableFuture<String> received = new CompletableFuture<>();
        try (TestBackend backend = TestBackend.start(socket -> {
            received.complete(new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine());
            send(socket, "+OK backend\r\n");
            Thread.sleep(200);
        })) {
            serve("set_real_ip_from 127.0.0.1;", "", "proxy_protocol on;");
            try (Socket s = connect()) {
                send(s, V1 + "BACKEND " + backend.port() + "\r\n");
                BufferedReader in = reader(s);
                assertEquals("+OK ready", in.readLine());
                assertEquals("+OK backend", in.readLine());
                assertEquals("PROXY TCP4 192.0.2.1 127.0.0.1 123 " + port, received.get(5, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void proxyProtocolV2SendsTheBinaryHeaderWithThePeerWhenNotTrusted() throws Exception {
        CompletableFuture<byte[]> received = new CompletableFuture<>();
        try (TestBackend backend = TestBackend.start(socket -> {
            byte[] header = new byte[28];
            new DataInputStream(socket.getInputStream()).readFully(header);
            received.complete(header);
            send(socket, "+OK backend\r\n");
            Thread.sleep(200);
        })) {
            serve("", "", "proxy_protocol v2;");
            try (Socket s = connect()) {
                send(s, V1 + "BACKEND " + backend.port() + "\r\n");
                BufferedReader in = reader(s);
                assertEquals("+OK ready", in.readLine());
                assertEquals("+OK backend", in.readLine());
                byte[] expected = ProxyHeaderWriter.v2(new InetSocketAddress("127.0.0.1", s.getLocalPort()),
                        new InetSocketAddress("127.0.0.1", port));
                assertArrayEquals(expected, received.get(5, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void proxyProtocolToTheBackendWorksWithoutAnIncomingHeader() throws Exception {
        CompletableFuture<String> received = new CompletableFuture<>();
        try (TestBackend backend = TestBackend.start(socket -> {
            received.complete(new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine());
            send(socket, "+OK backend\r\n");
            Thread.sleep(200);
        })) {
            serveWithoutProxyListen("proxy_protocol on;");
            try (Socket s = connect()) {
                send(s, "BACKEND " + backend.port() + "\r\n");
                BufferedReader in = reader(s);
                assertEquals("+OK ready", in.readLine());
                assertEquals("+OK backend", in.readLine());
                assertEquals("PROXY TCP4 127.0.0.1 127.0.0.1 " + s.getLocalPort() + " " + port,
                        received.get(5, TimeUnit.SECONDS));
            }
        }
    }

    // ---------------------------------------------------------------- fixture

    private MailServer server;
    private final List<MailSession> ended = new ArrayList<>();

    private void serve(String mailDirectives, String serverDirectives) throws ConfigException {
        serve(mailDirectives, "", serverDirectives);
    }

    private void serve(String mailDirectives, String listenFlags, String serverDirectives) throws ConfigException {
        serve(mailDirectives, " proxy_protocol" + listenFlags, serverDirectives, true);
    }

    private void serveWithoutProxyListen(String serverDirectives) throws ConfigException {
        serve("", "", serverDirectives, true);
    }

    private void serve(String mailDirectives, String listenFlags, String serverDirectives, boolean unused)
            throws ConfigException {
        port = TestListen.freePort();
        ServerConfig config = ConfigBuilder.build(ConfigParser.parse("mail {\n" + mailDirectives + "\n server {\n  listen 127.0.0.1:"
                + port + listenFlags + ";\n  protocol imap;\n  " + serverDirectives + "\n }\n}\n", "test.conf"),
                DirectiveRegistry.withCoreModules()).servers().get(0);
        server = new MailServer("pp test", new Protocol(), config, SessionLimits.of(config));
        // as MailRuntime
        server.setTls(TlsContextBuilder.build(config));
        server.setRealIpFrom(config.get(RealIpModule.SET_REAL_IP_FROM));
        server.setBackendProxyProtocol(ProxyHeaderWriter.version(config.get("proxy_protocol")));
        sessions.setCloseListener(session -> {
            synchronized (ended) {
                ended.add(session);
            }
        });
        List<ListenBinding> bindings = new ArrayList<>();
        for (ListenSpec listen : config.listens()) {
            bindings.add(new ListenBinding(listen, server));
        }
        List<BindingState> states = listeners.apply(bindings);
        assertTrue(states.get(0).bound(), states.get(0).error());
    }

    private String lastEndReason() throws InterruptedException {
        assertTrue(eventually(() -> {
            synchronized (ended) {
                return !ended.isEmpty();
            }
        }));
        synchronized (ended) {
            return ended.get(ended.size() - 1).endReason();
        }
    }

    /** Sends {@code header} and WHO in one write; the WHO line. */
    private String who(byte[] header) throws IOException {
        try (Socket s = connect()) {
            s.getOutputStream().write(concat(header, "WHO\r\n".getBytes(StandardCharsets.US_ASCII)));
            BufferedReader in = reader(s);
            assertEquals("+OK ready", in.readLine());
            return in.readLine();
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setTcpNoDelay(true);
        s.setSoTimeout(5000);
        return s;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static BufferedReader reader(Socket s) throws IOException {
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
    }

    private static void send(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static boolean nothingWithin(Socket s) throws IOException {
        try {
            return s.getInputStream().read() == -2;
        } catch (java.net.SocketTimeoutException e) {
            return true;
        }
    }

    /** Reads until the end; -1 when the peer closed (or reset), 1 when it sent something. */
    private static int readAll(Socket s) throws IOException {
        try {
            return s.getInputStream().read() == -1 ? -1 : 1;
        } catch (java.net.SocketException e) {
            return -1;
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

    private static String text(InetSocketAddress a) {
        return (a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString()) + ":" + a.getPort();
    }

    /** The line protocol, named imap (for ALPN on the ssl listen). */
    private static final class Protocol extends CommandLineProtocol {
        @Override
        protected boolean command(MailSession session, String command) {
            if (command.equals("WHO")) {
                // what the protocols put into the auth request
                AuthRequest request = new AuthRequest("plain", "u", "p", null, "imap", 1,
                        session.clientAddress(), null, session.proxyProtocol(), null);
                AuthRequest.ProxyProtocolInfo pp = request.proxyProtocol();
                session.write("client=" + text(request.client()) + " pp="
                        + (pp == null ? "null" : text(pp.source()) + ">" + text(pp.destination())) + "\r\n");
            } else if (command.startsWith("BACKEND ")) {
                session.connectBackend(new InetSocketAddress("127.0.0.1", Integer.parseInt(command.substring(8))),
                        new BackendLogin() {
                            @Override
                            public void onConnected(Backend backend) {
                            }

                            @Override
                            public void onData(IoBuffer in) {
                                session.startRelay(in);
                            }

                            @Override
                            public void onClose(Failure failure) {
                                session.write("-ERR backend " + failure + "\r\n");
                            }
                        });
                return false;
            } else {
                session.write("-ERR invalid\r\n");
            }
            return true;
        }
    }
}
