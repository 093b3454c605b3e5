package org.mailproxy.auth.http.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code auth_http unix:/path:/uri}: MINA 2.2 has no unix-socket connector (its NIO connector
 * opens {@code SocketChannel.open()}, always TCP, and the APR transport needs native libraries),
 * so this transport is written on the JDK's own unix-domain channels
 * ({@code SocketChannel.open(StandardProtocolFamily.UNIX)}, Java 16+), non-blocking, all of them
 * on one {@link Selector} served by one thread of this module ({@code auth-http-unix}). Nothing
 * blocks: any number of requests are in flight at once, each bounded only by its
 * {@code auth_http_timeout}, which the {@link Attempt}'s timer enforces.
 *
 * <p>Connections are kept alive and reused as {@link MinaTransport} does it over TCP
 * ({@code auth_http_keepalive on}, the default; see {@link KeepAlive}): a response that allows it
 * leaves its connection, once its body was read and discarded, in the {@link ConnectionPool} of
 * its socket path, for the next request to that path; a kept connection that closes before any
 * byte of the response came is retried once on a new connection. That state machine is the
 * {@link KeptConnection}'s, shared with {@link MinaTransport}.
 *
 * <p>Every connection's state is touched on the selector thread only: calls from other threads
 * (a new request, an attempt that ended by its timer, an idle timer) are queued to it.
 */
final class UnixTransport implements Transport {

    private static final Logger LOG = LoggerFactory.getLogger(UnixTransport.class);

    private final ScheduledExecutorService scheduler;
    private final Counters counters;
    private final KeepAlive.Limits limits;
    private final Selector selector;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Read buffer of the selector thread; what an attempt is given is consumed before the next read. */
    private final ByteBuffer readBuffer = ByteBuffer.allocate(4096);
    // selector thread only
    private final Map<Path, ConnectionPool<KeptConnection>> pools = new HashMap<>();
    private volatile boolean closed;

    UnixTransport(ScheduledExecutorService scheduler, Counters counters, KeepAlive.Limits limits) {
        this.scheduler = scheduler;
        this.counters = counters;
        this.limits = limits;
        try {
            selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a selector for auth_http unix sockets", e);
        }
        thread = new Thread(this::loop, "auth-http-unix");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void open(Attempt attempt) {
        execute(() -> start(attempt));
    }

    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs the task on the selector thread: now when called there, else queued. */
    private void execute(Runnable task) {
        if (Thread.currentThread() == thread) {
            task.run();
            return;
        }
        tasks.add(task);
        selector.wakeup();
    }

    private void loop() {
        try {
            while (!closed) {
                for (Runnable task = tasks.poll(); task != null; task = tasks.poll()) {
                    task.run();
                }
                selector.select();
                for (SelectionKey key : selector.selectedKeys()) {
                    ((Connection) key.attachment()).ready(key);
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException | ClosedSelectorException e) {
            LOG.error("auth_http unix socket selector failed", e);
        } finally {
            shutDown();
        }
    }

    /** The transport is closed: every connection goes, and an attempt still waiting is told so. */
    private void shutDown() {
        closed = true;
        for (ConnectionPool<KeptConnection> pool : pools.values()) {
            pool.close();
        }
        try {
            for (SelectionKey key : new ArrayList<>(selector.keys())) {
                ((Connection) key.attachment()).lost("recv()", new IOException("auth_http module is stopped"));
            }
            selector.close();
        } catch (IOException | ClosedSelectorException e) {
            // closing anyway
        }
        for (Runnable task = tasks.poll(); task != null; task = tasks.poll()) {
            task.run(); // requests queued meanwhile fail at once (closed)
        }
    }

    /** A request: a kept connection to its path when there is one, else a new connection. */
    private void start(Attempt attempt) {
        if (attempt.isFinished()) {
            return;
        }
        if (closed) {
            attempt.connectFailed(new IOException("auth_http module is stopped"));
            return;
        }
        if (attempt.keepAlive() == null) {
            connect(attempt, null);
            return;
        }
        ConnectionPool<KeptConnection> pool = pools.computeIfAbsent(Path.of(attempt.url().unixPath()),
                p -> new ConnectionPool<>(limits.maxIdle(), counters.idleConnections));
        if (!KeptConnection.reuseIdle(pool, attempt)) {
            connect(attempt, pool);
        }
    }

    /** A new connection for the attempt; kept afterwards in the pool when there is one. */
    private void connect(Attempt attempt, ConnectionPool<KeptConnection> pool) {
        SocketChannel channel = null;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.configureBlocking(false);
        } catch (IOException | UnsupportedOperationException e) {
            closeQuietly(channel);
            attempt.connectFailed(e);
            return;
        }
        Connection c = new Connection(channel, pool, attempt);
        if (!attempt.attach(c)) {
            closeQuietly(channel);
            return;
        }
        try {
            c.key = channel.register(selector, 0, c);
            if (channel.connect(UnixDomainSocketAddress.of(attempt.url().unixPath()))) {
                c.connected();
            } else {
                c.key.interestOps(SelectionKey.OP_CONNECT);
            }
        } catch (IOException | RuntimeException e) {
            c.close();
            attempt.connectFailed(e);
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            // best effort
        }
    }

    /** One unix-socket connection to an auth server; used on the selector thread only. */
    private final class Connection extends KeptConnection {
        private final SocketChannel channel;
        private SelectionKey key;
        private ByteBuffer out;

        Connection(SocketChannel channel, ConnectionPool<KeptConnection> pool, Attempt attempt) {
            super(pool, attempt, scheduler, counters, limits);
            this.channel = channel;
        }

        /** Calls from other threads (an attempt ended by its timer, an idle timer) go to the selector thread. */
        @Override
        void execute(Runnable task) {
            UnixTransport.this.execute(task);
        }

        void connected() {
            counters.newConnections.increment();
            opened();
        }

        @Override
        void send(Attempt a) {
            out = ByteBuffer.wrap(a.request());
            write();
        }

        private void write() {
            try {
                channel.write(out);
            } catch (IOException e) {
                lost("send()", e);
                return;
            }
            key.interestOps(out.hasRemaining() ? SelectionKey.OP_WRITE : SelectionKey.OP_READ);
        }

        void ready(SelectionKey k) {
            try {
                if (k.isConnectable()) {
                    finishConnect();
                    return;
                }
                if (k.isWritable()) {
                    write();
                } else if (k.isReadable()) {
                    read();
                }
            } catch (CancelledKeyException e) {
                // closed meanwhile
            }
        }

        private void finishConnect() {
            try {
                channel.finishConnect();
            } catch (IOException e) {
                Attempt a = attempt();
                close();
                if (a != null) {
                    a.connectFailed(e);
                }
                return;
            }
            connected();
        }

        private void read() {
            ByteBuffer buffer = readBuffer;
            buffer.clear();
            int n;
            try {
                n = channel.read(buffer);
            } catch (IOException e) {
                lost("recv()", e);
                return;
            }
            if (n < 0) {
                lost(null, null);
                return;
            }
            buffer.flip();
            received(buffer);
        }

        @Override
        boolean isOpen() {
            return channel.isOpen();
        }

        @Override
        void closeSocket() {
            if (key != null) {
                key.cancel();
            }
            closeQuietly(channel);
        }

        @Override
        void connectAgain(Attempt a, ConnectionPool<KeptConnection> pool) {
            connect(a, pool);
        }

        @Override
        boolean transportClosed() {
            return closed;
        }
    }
}
