package org.mailproxy.core.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.session.IoSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.core.config.DirectiveSpec;
import org.mailproxy.core.net.BindingState;
import org.mailproxy.core.net.ListenBinding;
import org.mailproxy.core.net.ListenerSet;
import org.mailproxy.core.net.PooledReads;
import org.mailproxy.core.net.TestClient;
import org.mailproxy.core.net.TestListen;
import org.mailproxy.core.session.Backend;
import org.mailproxy.core.session.BackendLogin;
import org.mailproxy.core.session.MailServer;
import org.mailproxy.core.session.MailSession;
import org.mailproxy.core.session.SessionLimits;
import org.mailproxy.core.session.SessionManager;
import org.mailproxy.core.session.TestBackend;
import org.mailproxy.core.spi.MailProtocol;
import org.mailproxy.core.spi.ProtocolHandler;

/** The relay through the real listener, session and connector: bytes, back-pressure, closing, proxy_timeout. */
class RelayTest {

    private static final int PROXY_BUFFER = 16 * 1024;

    private SessionManager sessions;
    private ListenerSet listeners;
    private int port;

    @BeforeEach
    void start() {
        sessions = new SessionManager(2);
        listeners = new ListenerSet(sessions.ioProcessor(), sessions.clientHandler());
    }

    @AfterEach
    void stop() {
        listeners.close();
        sessions.close();
    }

    /** Relays every client of a listen with sndbuf=16k to {@code backend}, with proxy_buffer 16k. */
    private void relayTo(TestBackend backend, Duration proxyTimeout) {
        port = TestListen.freePort();
        SessionLimits limits = new SessionLimits(Duration.ofSeconds(10), 5, 1000, PROXY_BUFFER, proxyTimeout);
        MailServer server = new MailServer("relay test", new RelayAtOnce(backend.port()), "settings", limits);
        List<BindingState> states = listeners.apply(List.of(
                new ListenBinding(TestListen.on("127.0.0.1", port).sndbuf(16 * 1024).spec(), server)));
        assertTrue(states.get(0).bound(), states.get(0).error());
    }

    @Test
    void carriesBinaryDataBothWaysUnchanged() throws Exception {
        byte[] up = random(4 << 20, 1);
        byte[] down = random(4 << 20, 2);
        CompletableFuture<byte[]> backendGot = new CompletableFuture<>();
        try (TestBackend backend = TestBackend.start(socket -> {
            Thread writer = writeAsync(socket.getOutputStream(), down);
            backendGot.complete(readExactly(socket.getInputStream(), up.length));
            writer.join();
        })) {
            relayTo(backend, Duration.ofHours(24));
            try (TestClient client = TestClient.connect("127.0.0.1", port)) {
                MailSession session = awaitRelay();
                assertTrue(PooledReads.allowed(TestBackend.proxyConnection(session)), "plain connections: pooled reads");
                Thread writer = writeAsync(client.out(), up);
                byte[] clientGot = readExactly(client.in(), down.length);
                writer.join();
                assertArrayEquals(down, clientGot);
                assertArrayEquals(up, backendGot.get(10, TimeUnit.SECONDS));
                assertEquals(up.length, session.bytesFromClient());
                assertEquals(down.length, session.bytesFromBackend());
            }
            backend.awaitScript();
        }
    }

    @Test
    void manyRelaysAtOnceEachCarryTheirOwnBytes() throws Exception {
        // The relays of one I/O thread share its pool of read buffers: a buffer given back while
        // still in use would show here as one session's bytes in another's stream.
        int clients = 12;
        int size = 512 * 1024;
        try (TestBackend backend = TestBackend.start(socket -> socket.getInputStream().transferTo(socket.getOutputStream()))) {
            relayTo(backend, Duration.ofHours(24));
            List<CompletableFuture<Void>> done = new java.util.ArrayList<>();
            for (int i = 0; i < clients; i++) {
                byte[] up = random(size, 100 + i);
                done.add(CompletableFuture.runAsync(() -> {
                    try (TestClient client = TestClient.connect("127.0.0.1", port)) {
                        Thread writer = writeAsync(client.out(), up);
                        byte[] echoed = readExactly(client.in(), size);
                        writer.join();
                        assertArrayEquals(up, echoed);
                    } catch (IOException | InterruptedException e) {
                        throw new AssertionError(e);
                    }
                }, runnable -> new Thread(runnable, "test-client").start()));
            }
            CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void backPressureBoundsWhatIsQueuedForASlowReader() throws Exception {
        int total = 16 << 20;
        byte[] down = random(total, 3);
        AtomicLong backendWritten = new AtomicLong();
        try (TestBackend backend = TestBackend.start(socket -> {
            socket.setSendBufferSize(16 * 1024);
            OutputStream out = socket.getOutputStream();
            for (int offset = 0; offset < total; offset += 64 * 1024) {
                out.write(down, offset, 64 * 1024);
                backendWritten.addAndGet(64 * 1024);
            }
            out.flush();
        })) {
            relayTo(backend, Duration.ofHours(24));
            try (TestClient client = TestClient.connectWithReceiveBuffer("127.0.0.1", port, 16 * 1024)) {
                MailSession session = awaitRelay();
                byte[] received = new byte[total];
                int have = 0;
                long maxQueued = 0;
                for (int round = 0; round < 10; round++) { // a slow reader: 4 KiB every 100 ms
                    have += client.in().read(received, have, 4096);
                    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
                    while (System.nanoTime() < end) {
                        maxQueued = Math.max(maxQueued, session.ioSession().getScheduledWriteBytes());
                        Thread.sleep(1);
                    }
                }
                long writtenWhileSlow = backendWritten.get();

                assertTrue(maxQueued > PROXY_BUFFER / 2, "the relay paused with a full queue: " + maxQueued);
                assertTrue(maxQueued <= 2L * PROXY_BUFFER,
                        "at most proxy_buffer plus one proxy_buffer-sized read queued, was " + maxQueued);
                assertTrue(writtenWhileSlow < total, "the backend is held back too, it wrote " + writtenWhileSlow);

                new DataInputStream(client.in()).readFully(received, have, total - have);
                assertArrayEquals(down, received);
            }
            backend.awaitScript();
        }
    }

    /** The mirror of the test above: a fast client, a backend that does not read for a while. */
    @Test
    void backPressureBoundsWhatIsQueuedForASlowBackend() throws Exception {
        int total = 16 << 20;
        byte[] up = random(total, 6);
        CountDownLatch startReading = new CountDownLatch(1);
        CompletableFuture<byte[]> backendGot = new CompletableFuture<>();
        try (TestBackend backend = TestBackend.start(socket -> {
            assertTrue(startReading.await(30, TimeUnit.SECONDS), "released by the test");
            backendGot.complete(readExactly(socket.getInputStream(), total));
        })) {
            relayTo(backend, Duration.ofHours(24));
            try (TestClient client = TestClient.connect("127.0.0.1", port)) {
                MailSession session = awaitRelay();
                IoSession toBackend = TestBackend.proxyConnection(session);
                assertTrue(toBackend != null, "the relay has a backend connection");
                Thread writer = writeAsync(client.out(), up); // as fast as the proxy takes it

                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (toBackend.getScheduledWriteBytes() <= PROXY_BUFFER && System.nanoTime() < end) {
                    Thread.sleep(1);
                }
                long maxQueued = 0;
                long readBefore = session.ioSession().getReadBytes();
                end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1000);
                while (System.nanoTime() < end) {
                    maxQueued = Math.max(maxQueued, toBackend.getScheduledWriteBytes());
                    Thread.sleep(1);
                }
                long readAfter = session.ioSession().getReadBytes();

                assertTrue(maxQueued > PROXY_BUFFER / 2, "the relay paused with a full queue: " + maxQueued);
                assertTrue(maxQueued <= 2L * PROXY_BUFFER,
                        "at most proxy_buffer plus one proxy_buffer-sized read queued, was " + maxQueued);
                assertEquals(readBefore, readAfter, "the client is not read while the backend's queue is full");
                assertTrue(readAfter < total, "the client is held back, " + readAfter + " bytes read of " + total);
                assertTrue(writer.isAlive(), "the client's writes block");

                startReading.countDown();
                assertArrayEquals(up, backendGot.get(30, TimeUnit.SECONDS));
                writer.join(10_000);
                assertEquals(total, session.bytesFromClient());
            }
            backend.awaitScript();
        }
    }

    @Test
    void whenTheClientClosesTheBackendGetsEverythingFirst() throws Exception {
        byte[] up = random(2 << 20, 4);
        try (TestBackend backend = TestBackend.start(socket -> {
            Thread.sleep(300); // let the relay's queue fill up and pause the client
            InputStream in = socket.getInputStream();
            assertArrayEquals(up, readExactly(in, up.length));
            assertEquals(-1, in.read(), "then EOF");
        })) {
            relayTo(backend, Duration.ofHours(24));
            try (TestClient client = TestClient.connect("127.0.0.1", port)) {
                client.out().write(up);
                client.out().flush();
            }
            backend.awaitScript();
        }
    }

    @Test
    void whenTheBackendClosesTheClientGetsEverythingFirst() throws Exception {
        byte[] down = random(2 << 20, 5);
        try (TestBackend backend = TestBackend.start(socket -> socket.getOutputStream().write(down))) {
            relayTo(backend, Duration.ofHours(24));
            try (TestClient client = TestClient.connect("127.0.0.1", port)) {
                backend.awaitScript(); // the backend has written everything and closed
                Thread.sleep(300);
                assertArrayEquals(down, readExactly(client.in(), down.length));
                assertEquals(-1, client.in().read(), "then EOF");
            }
        }
    }

    @Test
    void proxyTimeoutClosesBothSidesWhenIdle() throws Exception {
        CompletableFuture<Boolean> backendSawEof = new CompletableFuture<>();
        try (TestBackend backend = TestBackend.start(socket -> {
            socket.getInputStream().transferTo(socket.getOutputStream());
            backendSawEof.complete(true);
        })) {
            relayTo(backend, Duration.ofMillis(500));
            try (TestClient client = TestClient.connect("127.0.0.1", port)) {
                for (int i = 0; i < 5; i++) {
                    client.send("ping " + i + "\n");
                    assertEquals("ping " + i, client.readLine(), "traffic keeps the relay alive");
                    Thread.sleep(200);
                }
                assertTrue(client.closedByPeer(), "idle for proxy_timeout: closed");
                assertTrue(backendSawEof.get(5, TimeUnit.SECONDS));
            }
        }
    }

    // ------------------------------------------------------------ helpers

    private MailSession awaitRelay() throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < end) {
            for (MailSession session : sessions.sessions()) {
                if (session.isRelaying()) {
                    return session;
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no session started relaying");
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static byte[] readExactly(InputStream in, int size) throws IOException {
        byte[] bytes = new byte[size];
        new DataInputStream(in).readFully(bytes);
        return bytes;
    }

    private static Thread writeAsync(OutputStream out, byte[] data) {
        Thread writer = new Thread(() -> {
            try {
                out.write(data);
                out.flush();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "test-writer");
        writer.start();
        return writer;
    }

    /** A protocol that connects every client to one backend and relays at once, without greeting. */
    private static final class RelayAtOnce implements MailProtocol {
        private final int backendPort;

        RelayAtOnce(int backendPort) {
            this.backendPort = backendPort;
        }

        @Override
        public String name() {
            return "relay";
        }

        @Override
        public List<DirectiveSpec> directives() {
            return List.of();
        }

        @Override
        public int[] defaultPorts() {
            return new int[0];
        }

        @Override
        public ProtocolHandler newHandler(MailSession session) {
            return new ProtocolHandler() {
                @Override
                public void onStart() {
                    session.connectBackend(new InetSocketAddress("127.0.0.1", backendPort), new BackendLogin() {
                        @Override
                        public void onConnected(Backend backend) {
                            session.startRelay(null);
                        }

                        @Override
                        public void onData(IoBuffer data) {
                        }

                        @Override
                        public void onClose(Failure failure) {
                            session.write(("-ERR " + failure + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        }
                    });
                }

                @Override
                public void onData(IoBuffer data) {
                }
            };
        }
    }
}
