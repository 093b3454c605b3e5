package org.mailproxy.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.service.IoHandlerAdapter;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.transport.socket.nio.NioSocketAcceptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.core.net.PooledReads;

/**
 * The I/O loop against real sockets: suspended reads are not read, and do not make the loop spin;
 * reads of relayed connections go into pooled direct buffers.
 */
class LoopProcessorTest {

    private IoThreadPool threads;
    private NioSocketAcceptor acceptor;
    private final CompletableFuture<IoSession> opened = new CompletableFuture<>();
    private final BlockingQueue<String> received = new ArrayBlockingQueue<>(16);
    /** The NIO buffer each read was made into, for the tests of pooled reads. */
    private final BlockingQueue<ByteBuffer> readInto = new ArrayBlockingQueue<>(16);
    private volatile long loopThreadId;

    @BeforeEach
    void start() throws Exception {
        threads = new IoThreadPool(1);
        acceptor = new NioSocketAcceptor(threads);
        acceptor.setHandler(new IoHandlerAdapter() {
            @Override
            public void sessionOpened(IoSession session) {
                loopThreadId = Thread.currentThread().getId();
                session.suspendRead(); // as a session does while its login is checked
                opened.complete(session);
            }

            @Override
            public void messageReceived(IoSession session, Object message) {
                IoBuffer data = (IoBuffer) message;
                readInto.add(data.buf());
                if (PooledReads.allowed(session)) {
                    session.write(data); // as the relay does
                    return;
                }
                byte[] bytes = new byte[data.remaining()];
                data.get(bytes);
                received.add(new String(bytes, StandardCharsets.US_ASCII));
            }

            @Override
            public void messageSent(IoSession session, Object message) {
                PooledReads.written(message); // as the sessions' handlers do
            }
        });
        acceptor.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void stop() {
        acceptor.dispose(true);
        threads.dispose();
    }

    @Test
    void bytesSentWhileReadingIsSuspendedWaitWithoutASpinningLoop() throws Exception {
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), acceptor.getLocalAddress().getPort())) {
            IoSession session = opened.get(5, TimeUnit.SECONDS);
            OutputStream out = client.getOutputStream();
            out.write("pipelined\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertNull(received.poll(300, TimeUnit.MILLISECONDS), "a suspended connection is not read");

            // The bytes stay readable in the socket. A loop that kept the connection in its
            // (level-triggered) poll set would return from every select at once: a second of
            // CPU per second. Idle, it sleeps in epoll_wait.
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            long cpu0 = mx.getThreadCpuTime(loopThreadId);
            Thread.sleep(500);
            long cpuNanos = mx.getThreadCpuTime(loopThreadId) - cpu0;
            assertTrue(cpuNanos < TimeUnit.MILLISECONDS.toNanos(150),
                    "the I/O thread spun on a suspended readable connection: " + cpuNanos / 1_000_000 + " ms CPU in 500 ms");

            session.resumeRead();
            assertEquals("pipelined\r\n", received.poll(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void aSuspendedConnectionThatSendsNothingIsReadAfterResuming() throws Exception {
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), acceptor.getLocalAddress().getPort())) {
            IoSession session = opened.get(5, TimeUnit.SECONDS);
            Thread.sleep(100);
            session.resumeRead();
            OutputStream out = client.getOutputStream();
            out.write("after\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals("after\r\n", received.poll(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void readsOfARelayedConnectionGoIntoOnePooledDirectBuffer() throws Exception {
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), acceptor.getLocalAddress().getPort())) {
            IoSession session = opened.get(5, TimeUnit.SECONDS);
            PooledReads.allow(session, session); // a connection echoing its reads stands for a relay
            session.getConfig().setMinReadBufferSize(2048); // one size for every read (MINA adapts it)
            session.getConfig().setMaxReadBufferSize(2048);
            session.getConfig().setReadBufferSize(2048);
            session.resumeRead();
            byte[] reply = new byte[5];
            ByteBuffer first = null;
            for (String line : new String[] {"one\r\n", "two\r\n", "six\r\n"}) {
                client.getOutputStream().write(line.getBytes(StandardCharsets.US_ASCII));
                new java.io.DataInputStream(client.getInputStream()).readFully(reply);
                assertEquals(line, new String(reply, StandardCharsets.US_ASCII), "the bytes come back as they were read");
                ByteBuffer into = readInto.poll(5, TimeUnit.SECONDS);
                assertTrue(into.isDirect(), "a pooled read buffer is direct: the kernel reads into it");
                if (first == null) {
                    first = into;
                } else {
                    assertSame(first, into, "once written the buffer went back to the pool, and the next read took it");
                }
            }
        }
    }

    @Test
    void readsOfOtherConnectionsGoIntoHeapBuffersOfTheirOwn() throws Exception {
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), acceptor.getLocalAddress().getPort())) {
            IoSession session = opened.get(5, TimeUnit.SECONDS);
            session.resumeRead();
            OutputStream out = client.getOutputStream();
            out.write("one\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals("one\r\n", received.poll(5, TimeUnit.SECONDS));
            out.write("two\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals("two\r\n", received.poll(5, TimeUnit.SECONDS));
            ByteBuffer first = readInto.poll(5, TimeUnit.SECONDS);
            ByteBuffer second = readInto.poll(5, TimeUnit.SECONDS);
            assertFalse(first.isDirect(), "a protocol may keep what it reads: no pooled buffer");
            assertNotSame(first, second);
        }
    }
}
