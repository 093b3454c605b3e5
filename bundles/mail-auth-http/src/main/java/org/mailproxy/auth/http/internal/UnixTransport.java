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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
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
 * byte of the response came is retried once on a new connection.
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
    private final Map<Path, ConnectionPool<Connection>> pools = new HashMap<>();
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
        for (ConnectionPool<Connection> pool : pools.values()) {
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
        ConnectionPool<Connection> pool = pools.computeIfAbsent(Path.of(attempt.url().unixPath()),
                p -> new ConnectionPool<>(limits.maxIdle(), counters.idleConnections));
        for (Connection c = pool.poll(); c != null; c = pool.poll()) {
            if (c.reuse(attempt)) {
                return;
            }
        }
        connect(attempt, pool);
    }

    /** A new connection for the attempt; kept afterwards in the pool when there is one. */
    private void connect(Attempt attempt, ConnectionPool<Connection> pool) {
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

    private enum State {
        /** Used by one attempt: connecting, sending its request or awaiting the response. */
        BUSY,
        /** The response headers are in; the rest of its body is read and discarded. */
        DRAINING,
        /** In the pool, waiting for the next request. */
        IDLE,
        CLOSED
    }

    /** One unix-socket connection to an auth server and the attempt using it, if any. Selector thread only. */
    private final class Connection implements Attempt.Hold {
        private final SocketChannel channel;
        /** Where it goes when idle; null for a connection never kept. */
        private final ConnectionPool<Connection> pool;
        private SelectionKey key;
        private State state = State.BUSY;
        private Attempt attempt;
        private ByteBuffer out;
        /** Whether the attempt got it from the pool (only such a connection can be stale). */
        private boolean reused;
        /** Response bytes received for the current attempt. */
        private long received;
        private long drainLeft;
        private long idleMillis;
        private long timerGeneration;
        private ScheduledFuture<?> timer;

        Connection(SocketChannel channel, ConnectionPool<Connection> pool, Attempt attempt) {
            this.channel = channel;
            this.pool = pool;
            this.attempt = attempt;
        }

        /** Takes this idle connection for the attempt and sends its request; false if no longer usable. */
        boolean reuse(Attempt a) {
            if (state != State.IDLE || !channel.isOpen()) {
                return false;
            }
            cancelTimer();
            if (!a.attach(this)) {
                close(); // the attempt is over already: nothing was sent
                return true;
            }
            state = State.BUSY;
            attempt = a;
            reused = true;
            received = 0;
            counters.reusedConnections.increment();
            send();
            return true;
        }

        void connected() {
            counters.newConnections.increment();
            if (state != State.BUSY || attempt == null || attempt.isFinished()) {
                close();
                return;
            }
            send();
        }

        private void send() {
            out = ByteBuffer.wrap(attempt.request());
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
                Attempt a = attempt;
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
            switch (state) {
            case BUSY:
                received += n;
                attempt.received(buffer); // its end releases this connection, right here
                break;
            case DRAINING:
                drainLeft -= n;
                if (drainLeft == 0) {
                    if (!idle()) {
                        close();
                    }
                } else if (drainLeft < 0) {
                    close(); // more than Content-Length: the next response could not be told apart
                }
                break;
            default:
                close(); // nothing was asked: a server that talks now is not to be trusted with the next request
            }
        }

        /** The attempt is over: keep the connection when its response allowed it, else close it. */
        @Override
        public void release(Attempt a, KeepAlive.Reuse reuse) {
            execute(() -> released(a, reuse));
        }

        private void released(Attempt a, KeepAlive.Reuse reuse) {
            if (attempt != a || state != State.BUSY) {
                return;
            }
            attempt = null;
            idleMillis = reuse == null ? 0 : limits.idleMillis(reuse);
            if (pool == null || closed || idleMillis <= 0) {
                close();
            } else if (reuse.bodyLeft() > 0) {
                state = State.DRAINING;
                drainLeft = reuse.bodyLeft();
                if (!schedule(idleMillis)) { // the body must come within the idle time, or the connection goes
                    close();
                }
            } else if (!idle()) {
                close();
            }
        }

        /** Into the pool; false when it cannot go there. */
        private boolean idle() {
            state = State.IDLE;
            attempt = null;
            if (!schedule(idleMillis)) {
                return false;
            }
            if (!pool.offer(this)) {
                cancelTimer();
                return false;
            }
            return true;
        }

        /** Arms the expiry timer; false when the module is stopping. */
        private boolean schedule(long millis) {
            cancelTimer();
            long generation = ++timerGeneration;
            try {
                timer = scheduler.schedule(() -> execute(() -> expire(generation)), millis, TimeUnit.MILLISECONDS);
                return true;
            } catch (RejectedExecutionException e) {
                return false;
            }
        }

        private void cancelTimer() {
            timerGeneration++;
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
        }

        /** Idle (or draining) too long. */
        private void expire(long generation) {
            if (generation == timerGeneration && (state == State.IDLE || state == State.DRAINING)) {
                close();
            }
        }

        /** Out of the pool and closed for good, whatever its state (its attempt, if any, is over). */
        void close() {
            if (state == State.IDLE) {
                pool.remove(this);
            }
            state = State.CLOSED;
            attempt = null;
            cancelTimer();
            if (key != null) {
                key.cancel();
            }
            closeQuietly(channel);
        }

        /**
         * The connection closed (cause null) or failed. The attempt using it gets the error, or a
         * new connection when this was a kept one on which nothing of the response came.
         */
        void lost(String operation, Throwable cause) {
            Attempt a = state == State.BUSY ? attempt : null;
            boolean retry = reused && received == 0;
            close();
            if (a == null) {
                return;
            }
            if (retry && !closed && a.detach(this)) {
                counters.staleRetries.increment();
                connect(a, pool);
            } else if (cause == null) {
                a.closed();
            } else {
                a.failed(operation, cause);
            }
        }
    }
}
