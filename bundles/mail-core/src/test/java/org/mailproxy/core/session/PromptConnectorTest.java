package org.mailproxy.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.future.ConnectFuture;
import org.apache.mina.core.service.IoHandlerAdapter;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.transport.socket.nio.NioSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The connector against real loopback sockets: a handshake done within {@code connect()} never
 * touches the connector thread, one that is not done still connects through it, a refusal fails
 * at once.
 */
class PromptConnectorTest {

    private IoThreadPool threads;
    private ExecutorService connectorThreads;
    private final AtomicInteger connectorThreadsStarted = new AtomicInteger();
    private PromptConnector connector;
    private final BlockingQueue<Boolean> opened = new ArrayBlockingQueue<>(16);

    @BeforeEach
    void start() {
        threads = new IoThreadPool(1);
        connectorThreads = Executors.newCachedThreadPool(task -> {
            connectorThreadsStarted.incrementAndGet();
            Thread thread = new Thread(task, "test-connector");
            thread.setDaemon(true);
            return thread;
        });
        connector = new PromptConnector(connectorThreads, threads);
        connector.setHandler(new IoHandlerAdapter() {
            @Override
            public void sessionOpened(IoSession session) {
                opened.add(IoThreadPool.current() != null); // opened on an I/O thread
                session.write(IoBuffer.wrap("hello\n".getBytes(StandardCharsets.US_ASCII)));
            }
        });
    }

    @AfterEach
    void stop() {
        connector.dispose();
        threads.dispose();
        connectorThreads.shutdownNow();
    }

    @Test
    void aLoopbackConnectionGoesStraightToTheIoThread() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            ConnectFuture future = connector.connect(server.getLocalSocketAddress());
            try (Socket accepted = server.accept()) {
                accepted.setSoTimeout(5000);
                assertTrue(future.await(5, TimeUnit.SECONDS));
                assertTrue(future.isConnected());
                assertInstanceOf(NioSession.class, future.getSession());
                assertEquals("hello\n", new String(accepted.getInputStream().readNBytes(6), StandardCharsets.US_ASCII));
                assertEquals(Boolean.TRUE, opened.poll(5, TimeUnit.SECONDS));
            }
        }
        assertEquals(0, connectorThreadsStarted.get(), "the connector thread was not needed");
    }

    @Test
    void aRefusedConnectionFailsAtOnce() throws Exception {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort();
        }
        ConnectFuture future = connector.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        assertTrue(future.isDone(), "refused within connect()");
        assertFalse(future.isConnected());
        assertInstanceOf(ConnectException.class, future.getException());
        assertEquals(0, connectorThreadsStarted.get());
    }

    @Test
    void aHandshakeStillUnderWayIsFinishedByTheConnectorThread() throws Exception {
        // A listener whose accept queue is full drops further SYNs (Linux): that connect() stays
        // in progress until the client retransmits its SYN after the queue has room again.
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<Socket> queued = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    queued.add(new Socket(server.getInetAddress(), server.getLocalPort()));
                }
                ConnectFuture future = connector.connect(server.getLocalSocketAddress());
                assertFalse(future.isDone(), "a full accept queue leaves the handshake unfinished");
                for (int i = 0; i < queued.size(); i++) {
                    server.accept().close();
                }
                try (Socket accepted = server.accept()) {
                    assertTrue(future.await(10, TimeUnit.SECONDS));
                    assertTrue(future.isConnected());
                    assertEquals(Boolean.TRUE, opened.poll(5, TimeUnit.SECONDS));
                }
            } finally {
                for (Socket socket : queued) {
                    socket.close();
                }
            }
        }
        assertEquals(1, connectorThreadsStarted.get(), "the connector thread finished the handshake");
    }
}
