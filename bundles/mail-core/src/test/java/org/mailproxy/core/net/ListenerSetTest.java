package org.mailproxy.core.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.service.IoHandlerAdapter;
import org.apache.mina.core.service.SimpleIoProcessorPool;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.transport.socket.nio.NioProcessor;
import org.apache.mina.transport.socket.nio.NioSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.core.config.ListenSpec;

/**
 * Real sockets on loopback: options read back from the kernel, routing by local address,
 * the IPv6 dual-stack emulation, and diff-apply across reloads.
 */
class ListenerSetTest {

    /** Greets with the server key of the listen it matched, then echoes. */
    private static final class KeyEchoHandler extends IoHandlerAdapter {
        final BlockingQueue<IoSession> accepted = new LinkedBlockingQueue<>();

        @Override
        public void sessionOpened(IoSession session) {
            accepted.add(session);
            session.write(IoBuffer.wrap((ListenerSet.bindingOf(session).serverKey() + "\n")
                    .getBytes(StandardCharsets.US_ASCII)));
        }

        @Override
        public void messageReceived(IoSession session, Object message) {
            session.write(message);
        }
    }

    private SimpleIoProcessorPool<NioSession> processors;
    private KeyEchoHandler handler;
    private ListenerSet listeners;

    @BeforeEach
    void start() {
        processors = new SimpleIoProcessorPool<>(NioProcessor.class, 2);
        handler = new KeyEchoHandler();
        listeners = new ListenerSet(processors, handler);
    }

    @AfterEach
    void stop() {
        listeners.close();
        processors.dispose();
    }

    @Test
    void setsListenerOptionsBeforeBindAndAcceptedSocketOptionsPerConnection() throws Exception {
        int port = TestListen.freePort();
        ListenSpec spec = TestListen.on("127.0.0.1", port).rcvbuf(96 * 1024).sndbuf(48 * 1024)
                .keepalive(Duration.ofSeconds(33), Duration.ofSeconds(11), 4).reuseport().backlog(64).spec();
        List<BindingState> states = listeners.apply(List.of(new ListenBinding(spec, "A")));
        assertTrue(states.get(0).bound(), states.get(0).error());

        ServerSocketChannel listening = onlySocket().channel();
        assertEquals(kernelValue(StandardSocketOptions.SO_RCVBUF, 96 * 1024), listening.getOption(StandardSocketOptions.SO_RCVBUF));
        assertTrue(listening.getOption(StandardSocketOptions.SO_REUSEPORT));
        assertTrue(listening.getOption(StandardSocketOptions.SO_REUSEADDR));

        try (TestClient client = TestClient.connect("127.0.0.1", port)) {
            assertEquals("A", client.readLine());
            SocketChannel accepted = channelOf(handler.accepted.poll(5, TimeUnit.SECONDS));
            assertEquals(kernelValue(StandardSocketOptions.SO_SNDBUF, 48 * 1024), accepted.getOption(StandardSocketOptions.SO_SNDBUF));
            assertTrue(accepted.getOption(StandardSocketOptions.SO_KEEPALIVE));
            assertEquals(33, accepted.getOption(extended(accepted, "TCP_KEEPIDLE")));
            assertEquals(11, accepted.getOption(extended(accepted, "TCP_KEEPINTERVAL")));
            assertEquals(4, accepted.getOption(extended(accepted, "TCP_KEEPCOUNT")));
            assertTrue(accepted.getOption(StandardSocketOptions.TCP_NODELAY));
        }
    }

    @Test
    void leavesKeepaliveOffWithoutSoKeepalive() throws Exception {
        int port = TestListen.freePort();
        listeners.apply(List.of(new ListenBinding(TestListen.on("127.0.0.1", port).spec(), "A")));
        try (TestClient client = TestClient.connect("127.0.0.1", port)) {
            assertEquals("A", client.readLine());
            SocketChannel accepted = channelOf(handler.accepted.poll(5, TimeUnit.SECONDS));
            assertFalse(accepted.getOption(StandardSocketOptions.SO_KEEPALIVE));
        }
    }

    @Test
    void backlogIsTheListenQueueLengthOfTheSocket() throws Exception {
        int port = TestListen.freePort();
        listeners.apply(List.of(new ListenBinding(TestListen.on("127.0.0.1", port).backlog(37).spec(), "A")));
        assertEquals(37, listenBacklog(port));
    }

    @Test
    void backlogDefaultsToNginxs511() throws Exception {
        int port = TestListen.freePort();
        listeners.apply(List.of(new ListenBinding(TestListen.on("127.0.0.1", port).spec(), "A")));
        assertEquals(511, listenBacklog(port));
    }

    @Test
    void soKeepaliveOnAndOffOnTheAcceptedSocket() throws Exception {
        int on = TestListen.freePort();
        int off = TestListen.freePort();
        listeners.apply(List.of(new ListenBinding(TestListen.on("127.0.0.1", on).keepalive(true).spec(), "on"),
                new ListenBinding(TestListen.on("127.0.0.1", off).keepalive(false).spec(), "off")));
        try (TestClient client = TestClient.connect("127.0.0.1", on)) {
            assertEquals("on", client.readLine());
            SocketChannel accepted = channelOf(handler.accepted.poll(5, TimeUnit.SECONDS));
            assertTrue(accepted.getOption(StandardSocketOptions.SO_KEEPALIVE));
            try (SocketChannel plain = SocketChannel.open()) {
                assertEquals(plain.getOption(extended(plain, "TCP_KEEPIDLE")), accepted.getOption(extended(accepted, "TCP_KEEPIDLE")),
                        "plain so_keepalive=on keeps the system's TCP_KEEPIDLE");
            }
        }
        try (TestClient client = TestClient.connect("127.0.0.1", off)) {
            assertEquals("off", client.readLine());
            assertFalse(channelOf(handler.accepted.poll(5, TimeUnit.SECONDS)).getOption(StandardSocketOptions.SO_KEEPALIVE));
        }
    }

    @Test
    void rcvbufIsInheritedByTheAcceptedSocket() throws Exception {
        int port = TestListen.freePort();
        listeners.apply(List.of(new ListenBinding(TestListen.on("127.0.0.1", port).rcvbuf(80 * 1024).spec(), "A")));
        try (TestClient client = TestClient.connect("127.0.0.1", port)) {
            assertEquals("A", client.readLine());
            SocketChannel accepted = channelOf(handler.accepted.poll(5, TimeUnit.SECONDS));
            assertEquals(kernelValue(StandardSocketOptions.SO_RCVBUF, 80 * 1024), accepted.getOption(StandardSocketOptions.SO_RCVBUF));
        }
    }

    @Test
    void reuseportLetsAnotherProcessBindTheSameAddress() throws Exception {
        int shared = TestListen.freePort();
        int exclusive = TestListen.freePort();
        listeners.apply(List.of(new ListenBinding(TestListen.on("127.0.0.1", shared).reuseport().spec(), "A"),
                new ListenBinding(TestListen.on("127.0.0.1", exclusive).spec(), "B")));

        try (ServerSocketChannel second = ServerSocketChannel.open()) {
            second.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            second.bind(new InetSocketAddress("127.0.0.1", shared));
        }
        try (ServerSocketChannel second = ServerSocketChannel.open()) {
            second.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            assertThrows(IOException.class, () -> second.bind(new InetSocketAddress("127.0.0.1", exclusive)));
        }
    }

    @Test
    void routesByLocalAddressOnASharedWildcardSocket() throws Exception {
        int port = TestListen.freePort();
        List<BindingState> states = listeners.apply(List.of(
                new ListenBinding(TestListen.on("0.0.0.0", port).spec(), "wildcard"),
                new ListenBinding(TestListen.on("127.0.0.2", port).spec(), "second")));

        assertEquals(1, listeners.sockets().size(), "without bind, 127.0.0.2 shares the wildcard socket");
        assertEquals(states.get(0).socket(), states.get(1).socket());
        assertEquals("wildcard", greeting("127.0.0.1", port));
        assertEquals("second", greeting("127.0.0.2", port));
    }

    @Test
    void bindGivesAnAddressItsOwnSocket() throws Exception {
        int port = TestListen.freePort();
        List<BindingState> states = listeners.apply(List.of(
                new ListenBinding(TestListen.on("127.0.0.1", port).spec(), "first"),
                new ListenBinding(TestListen.on("127.0.0.2", port).bind().spec(), "second")));

        assertEquals(2, listeners.sockets().size());
        assertTrue(states.get(1).bound());
        assertEquals(new InetSocketAddress("127.0.0.2", port), states.get(1).socket());
        assertEquals("first", greeting("127.0.0.1", port));
        assertEquals("second", greeting("127.0.0.2", port));
    }

    /**
     * {@code listen 143; listen 127.0.0.2:143 bind;}: Linux refuses a wildcard beside a listening
     * address of the same port, even in one process (nginx gets EADDRINUSE there too). The bind
     * address is bound first, as nginx orders them; the wildcard's error says why.
     */
    @Test
    void wildcardBesideABindAddressOfItsPortIsRefusedByLinuxWithAClearError() throws Exception {
        int port = TestListen.freePort();
        List<BindingState> states = listeners.apply(List.of(
                new ListenBinding(TestListen.on("0.0.0.0", port).spec(), "wildcard"),
                new ListenBinding(TestListen.on("127.0.0.2", port).bind().spec(), "second")));

        assertFalse(states.get(0).bound());
        assertEquals("bind() to 0.0.0.0:" + port + " failed (98: Address already in use): 127.0.0.2:" + port
                + " of this proxy is listening, and on Linux a wildcard and an address of the same port can both "
                + "listen only when both listens have the \"reuseport\" parameter", states.get(0).error());
        assertTrue(states.get(1).bound(), states.get(1).error());
        assertEquals("second", greeting("127.0.0.2", port));
    }

    @Test
    void wildcardAndBindAddressOfOnePortWithReuseportBothListen() throws Exception {
        int port = TestListen.freePort();
        List<BindingState> states = listeners.apply(List.of(
                new ListenBinding(TestListen.on("0.0.0.0", port).reuseport().spec(), "wildcard"),
                new ListenBinding(TestListen.on("127.0.0.2", port).reuseport().bind().spec(), "second")));

        assertTrue(states.get(0).bound(), states.get(0).error());
        assertTrue(states.get(1).bound(), states.get(1).error());
        assertEquals(2, listeners.sockets().size());
        assertEquals("wildcard", greeting("127.0.0.1", port));
        assertEquals("second", greeting("127.0.0.2", port));
    }

    @Test
    void aFailedBindAffectsOnlyItsListensAndIsReportedInNginxWords() throws Exception {
        int good = TestListen.freePort();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int busy = taken.getLocalPort();
            List<BindingState> states = listeners.apply(List.of(
                    new ListenBinding(TestListen.on("127.0.0.1", busy).spec(), "busy"),
                    new ListenBinding(TestListen.on("127.0.0.1", good).spec(), "good")));

            assertFalse(states.get(0).bound());
            assertNull(states.get(0).socket());
            assertEquals("bind() to 127.0.0.1:" + busy + " failed (98: Address already in use)", states.get(0).error());
            assertTrue(states.get(1).bound());
            assertEquals("good", greeting("127.0.0.1", good));
        }
    }

    @Test
    void refusesUnixSocketsWithoutTouchingTheBoundOnes() throws Exception {
        int port = TestListen.freePort();
        listeners.apply(List.of(new ListenBinding(TestListen.on("127.0.0.1", port).spec(), "A")));
        ListenSpec unix = new ListenSpec(null, Path.of("/run/mail.sock"), false, false, -1, -1, -1, false, null,
                false, null, "mail.conf", 7);

        UnsupportedListenException e = assertThrows(UnsupportedListenException.class, () -> listeners.apply(List.of(
                new ListenBinding(TestListen.on("127.0.0.1", TestListen.freePort()).spec(), "B"),
                new ListenBinding(unix, "U"))));

        assertSame(unix, e.spec());
        assertTrue(e.getMessage().contains("unix:/run/mail.sock") && e.getMessage().contains("MINA"), e.getMessage());
        assertEquals(1, listeners.sockets().size());
        assertEquals("A", greeting("127.0.0.1", port));
    }

    @Test
    void applyKeepsUnchangedSocketsAndTheirConnectionsAndLetsRemovedSocketsSessionsFinish() throws Exception {
        int first = TestListen.freePort();
        int second = TestListen.freePort();
        ListenBinding a = new ListenBinding(TestListen.on("127.0.0.1", first).spec(), "A");
        ListenBinding b = new ListenBinding(TestListen.on("127.0.0.1", second).spec(), "B");
        listeners.apply(List.of(a));
        ListeningSocket socketA = onlySocket();

        try (TestClient client = TestClient.connect("127.0.0.1", first)) {
            assertEquals("A", client.readLine());
            assertEquals(new ConnectionCounts(1, 1), eventually(() -> listeners.connections("A"), new ConnectionCounts(1, 1)));

            listeners.apply(List.of(a, b));
            assertSame(socketA, listeners.socket(socketA.key()), "the unchanged socket stays bound");
            assertEquals("B", greeting("127.0.0.1", second));
            client.send("still here\n");
            assertEquals("still here", client.readLine());

            listeners.apply(List.of(b));
            assertNull(listeners.socket(socketA.key()));
            assertThrows(ConnectException.class, () -> TestClient.connect("127.0.0.1", first).close());
            client.send("after removal\n");
            assertEquals("after removal", client.readLine(), "a session accepted on a removed socket goes on");
        }
        assertEquals("B", greeting("127.0.0.1", second));
    }

    @Test
    void countsConnectionsPerServer() throws Exception {
        int port = TestListen.freePort();
        listeners.apply(List.of(new ListenBinding(TestListen.on("127.0.0.1", port).spec(), "A")));
        try (TestClient one = TestClient.connect("127.0.0.1", port); TestClient two = TestClient.connect("127.0.0.1", port)) {
            one.readLine();
            two.readLine();
            assertEquals(new ConnectionCounts(2, 2), listeners.connections("A"));
            one.close();
            assertEquals(new ConnectionCounts(1, 2), eventually(() -> listeners.connections("A"), new ConnectionCounts(1, 2)));
        }
        assertEquals(ConnectionCounts.NONE, listeners.connections("other"));
    }

    // ------------------------------------------------------------ IPv6: one dual-stack socket, routed like nginx's two

    @Test
    void ipv6WildcardWithDefaultIpv6onlyRefusesIpv4() throws Exception {
        assumeTrue(TestListen.ipv6Loopback(), "no IPv6 loopback");
        int port = TestListen.freePort();
        List<BindingState> states = listeners.apply(List.of(new ListenBinding(TestListen.on("::", port).spec(), "v6")));
        assertTrue(states.get(0).bound());

        assertEquals("v6", greeting("::1", port));
        try (TestClient client = TestClient.connect("127.0.0.1", port)) {
            assertTrue(client.closedByPeer(), "ipv6only=on: nothing listens for IPv4, the connection is closed at once");
        }
    }

    @Test
    void ipv6WildcardWithIpv6onlyOffServesIpv4() throws Exception {
        assumeTrue(TestListen.ipv6Loopback(), "no IPv6 loopback");
        int port = TestListen.freePort();
        listeners.apply(List.of(new ListenBinding(TestListen.on("::", port).ipv6only(false).spec(), "v6")));

        assertEquals("v6", greeting("::1", port));
        assertEquals("v6", greeting("127.0.0.1", port));
    }

    @Test
    void ipv4AndIpv6WildcardsOnOnePortShareTheDualStackSocket() throws Exception {
        assumeTrue(TestListen.ipv6Loopback(), "no IPv6 loopback");
        int port = TestListen.freePort();
        List<BindingState> states = listeners.apply(List.of(
                new ListenBinding(TestListen.on("0.0.0.0", port).spec(), "v4"),
                new ListenBinding(TestListen.on("::", port).spec(), "v6")));

        assertTrue(states.get(0).bound(), states.get(0).error());
        assertTrue(states.get(1).bound(), states.get(1).error());
        assertEquals(1, listeners.sockets().size());
        assertEquals("v4", greeting("127.0.0.1", port));
        assertEquals("v6", greeting("::1", port));
    }

    @Test
    void ipv4AddressBesideIpv6WildcardIsRoutedAndOtherIpv4Refused() throws Exception {
        assumeTrue(TestListen.ipv6Loopback(), "no IPv6 loopback");
        int port = TestListen.freePort();
        listeners.apply(List.of(
                new ListenBinding(TestListen.on("::", port).spec(), "v6"),
                new ListenBinding(TestListen.on("127.0.0.2", port).spec(), "second")));

        assertEquals("second", greeting("127.0.0.2", port));
        assertEquals("v6", greeting("::1", port));
        try (TestClient client = TestClient.connect("127.0.0.1", port)) {
            assertTrue(client.closedByPeer());
        }
    }

    @Test
    void refusesSocketParametersOfAnIpv4ListenBesideTheIpv6WildcardWithoutTouchingTheBoundOnes() throws Exception {
        int port = TestListen.freePort();
        listeners.apply(List.of(new ListenBinding(TestListen.on("127.0.0.1", port).spec(), "A")));
        int shared = TestListen.freePort();
        ListenSpec own = TestListen.on("127.0.0.2", shared).bind().backlog(16).spec();

        UnsupportedListenException e = assertThrows(UnsupportedListenException.class, () -> listeners.apply(List.of(
                new ListenBinding(TestListen.on("::", shared).spec(), "v6"),
                new ListenBinding(own, "v4"))));

        assertSame(own, e.spec());
        assertEquals("the \"bind\", \"backlog=\" parameters of \"listen 127.0.0.2:" + shared + "\" cannot be "
                + "honoured: \"listen [::]:" + shared + "\" is one dual-stack socket that also serves IPv4 on port "
                + shared + " (Java has no IPV6_V6ONLY), so an IPv4 listen of that port cannot have a socket or "
                + "socket options of its own", e.getMessage());
        assertEquals(1, listeners.sockets().size());
        assertEquals("A", greeting("127.0.0.1", port));
    }

    @Test
    void refusesSocketParametersOfTheIpv4WildcardBesideTheIpv6Wildcard() {
        int port = TestListen.freePort();
        UnsupportedListenException e = assertThrows(UnsupportedListenException.class, () -> listeners.apply(List.of(
                new ListenBinding(TestListen.on("0.0.0.0", port).keepalive(Duration.ofSeconds(30), null, null).spec(), "v4"),
                new ListenBinding(TestListen.on("::", port).spec(), "v6"))));
        assertTrue(e.getMessage().startsWith("the \"so_keepalive=\" parameter of \"listen 0.0.0.0:" + port + "\""),
                e.getMessage());
        assertEquals(0, listeners.sockets().size());
    }

    // ------------------------------------------------------------ helpers

    private ListeningSocket onlySocket() {
        List<ListeningSocket> sockets = listeners.sockets();
        assertEquals(1, sockets.size());
        return sockets.get(0);
    }

    private static String greeting(String host, int port) throws IOException {
        try (TestClient client = TestClient.connect(host, port)) {
            return client.readLine();
        }
    }

    /** What the kernel reports after setting {@code value} on a fresh socket (Linux doubles buffer sizes). */
    private static int kernelValue(SocketOption<Integer> option, int value) throws IOException {
        try (SocketChannel reference = SocketChannel.open()) {
            reference.setOption(option, value);
            return reference.getOption(option);
        }
    }

    /**
     * The backlog of the socket listening on 127.0.0.1:port, as the kernel reports it: Send-Q of
     * a listening socket in {@code ss -l} (sock_diag). Nothing else shows it: neither the JDK nor
     * /proc/net/tcp. ss comes with iproute2 (.ci/run installs it).
     */
    private static int listenBacklog(int port) throws Exception {
        Process ss;
        try {
            ss = new ProcessBuilder("ss", "-Hltn", "sport = :" + port).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("ss (iproute2) is needed to read a listen backlog back: " + e.getMessage(), e);
        }
        String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        assertTrue(ss.waitFor(10, TimeUnit.SECONDS) && ss.exitValue() == 0, out);
        String[] columns = out.split("\\s+"); // State Recv-Q Send-Q Local-Address:Port Peer-Address:Port
        assertEquals(5, columns.length, "one listening socket on port " + port + ": " + out);
        assertEquals("LISTEN", columns[0], out);
        assertEquals("127.0.0.1:" + port, columns[3], out);
        return Integer.parseInt(columns[2]);
    }

    @SuppressWarnings("unchecked")
    private static SocketOption<Integer> extended(SocketChannel channel, String name) {
        return (SocketOption<Integer>) channel.supportedOptions().stream()
                .filter(option -> option.name().equals(name)).findFirst().orElseThrow();
    }

    /**
     * The accepted socket behind a MINA session. MINA has no public accessor for it
     * ({@code NioSession.getChannel()} is package-private), so the test reads it reflectively to
     * check the options on the real socket.
     */
    private static SocketChannel channelOf(IoSession session) throws Exception {
        assertNotNull(session, "no connection accepted");
        Method getChannel = NioSession.class.getDeclaredMethod("getChannel");
        getChannel.setAccessible(true);
        return (SocketChannel) getChannel.invoke(session);
    }

    private static <T> T eventually(java.util.function.Supplier<T> value, T expected) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        T current = value.get();
        while (!current.equals(expected) && System.nanoTime() < end) {
            Thread.sleep(10);
            current = value.get();
        }
        return current;
    }
}
