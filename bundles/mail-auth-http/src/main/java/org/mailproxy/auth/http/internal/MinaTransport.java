package org.mailproxy.auth.http.internal;

import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.future.ConnectFuture;
import org.apache.mina.core.future.WriteFuture;
import org.apache.mina.core.service.IoHandlerAdapter;
import org.apache.mina.core.session.AttributeKey;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.core.session.IoSessionInitializer;
import org.apache.mina.transport.socket.nio.NioSocketConnector;
import org.mailproxy.core.spi.IoThreads;

/**
 * TCP to the auth server through a MINA {@link NioSocketConnector}. Nothing here blocks; the
 * connector's I/O threads feed the {@link Attempt}s, the module's timer expires idle connections.
 * No filters: the request is written as bytes and the response read as bytes.
 *
 * <p>In the proxy the connector runs on the core's I/O threads ({@link IoThreads}): a login's
 * request goes out on a connection of the thread that handles the client, so the response is read,
 * and the login goes on, on that thread, with no hand-off between threads (as an nginx worker
 * handles the auth_http connection of its session). So kept connections are pooled per I/O thread
 * and address. Without the core (unit tests) the module has a connector with threads of its own.
 *
 * <p>With {@code auth_http_keepalive off} every request has a new connection, closed after the
 * response headers, as nginx does. With {@code on} (the default) a response that allows it
 * ({@link KeepAlive#check}) leaves its connection in the {@link ConnectionPool} of its auth_http
 * address, after its body was read and discarded; the next request to that address takes it
 * instead of connecting. A connection is used by one request at a time.
 *
 * <p>A kept connection can have been closed by the server while idle without this side having
 * seen it yet (its keep-alive timeout, a restart). When a reused connection closes or fails before
 * any byte of the response came, the request is sent once more on a new connection (a GET that
 * the server did not answer: what HTTP clients do for idempotent requests); never after a part of
 * a response, never for a request on a new connection. The retry counts against the same
 * {@code auth_http_timeout}.
 */
final class MinaTransport implements Transport {

    private static final AttributeKey CONNECTION = new AttributeKey(MinaTransport.class, "connection");

    private final IoThreads ioThreads;
    private final NioSocketConnector connector;
    private final ScheduledExecutorService scheduler;
    private final Counters counters;
    private final KeepAlive.Limits limits;
    /** By address, a pool per I/O thread (index {@code thread + 1}; 0 for any other thread). */
    private final ConcurrentMap<InetSocketAddress, ConnectionPool<Connection>[]> pools = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * @param ioThreads the core's I/O threads, or null for a connector with two threads of its own
     */
    MinaTransport(IoThreads ioThreads, ScheduledExecutorService scheduler, Counters counters, KeepAlive.Limits limits) {
        this.ioThreads = ioThreads;
        this.scheduler = scheduler;
        this.counters = counters;
        this.limits = limits;
        connector = ioThreads == null ? new NioSocketConnector(2) : ioThreads.newConnector();
        // auth_http_timeout is enforced by each Attempt for the whole exchange, connect included
        connector.setConnectTimeoutMillis(Integer.MAX_VALUE);
        connector.getSessionConfig().setTcpNoDelay(true);
        connector.setHandler(new Handler());
    }

    @Override
    public void open(Attempt attempt) {
        if (attempt.keepAlive() == null) {
            connect(attempt, null);
            return;
        }
        ConnectionPool<Connection> pool = pools.computeIfAbsent(attempt.url().address(), a -> newPools())
                [ioThreads == null ? 0 : ioThreads.current() + 1];
        for (Connection c = pool.poll(); c != null; c = pool.poll()) {
            if (c.reuse(attempt)) {
                return;
            }
        }
        connect(attempt, pool);
    }

    @SuppressWarnings("unchecked")
    private ConnectionPool<Connection>[] newPools() {
        ConnectionPool<Connection>[] perThread = new ConnectionPool[ioThreads == null ? 1 : ioThreads.count() + 1];
        for (int i = 0; i < perThread.length; i++) {
            perThread[i] = new ConnectionPool<>(limits.maxIdle(), counters.idleConnections);
        }
        return perThread;
    }

    /**
     * A new connection for the attempt; kept afterwards in the pool when there is one. It runs on
     * the calling I/O thread, whose pool that is.
     */
    private void connect(Attempt attempt, ConnectionPool<Connection> pool) {
        ConnectFuture future;
        try {
            IoSessionInitializer<ConnectFuture> init =
                    (session, f) -> session.setAttribute(CONNECTION, new Connection(session, pool, attempt));
            future = ioThreads == null ? connector.connect(attempt.url().address(), init)
                    : ioThreads.connect(connector, attempt.url().address(), init);
        } catch (RuntimeException e) {
            attempt.connectFailed(e);
            return;
        }
        if (!attempt.attachIfNone(future::cancel)) {
            future.cancel();
            return;
        }
        future.addListener(f -> {
            ConnectFuture cf = (ConnectFuture) f;
            if (!cf.isConnected() && !cf.isCanceled()) {
                attempt.connectFailed(cf.getException());
            }
        });
    }

    @Override
    public void close() {
        closed = true;
        for (ConnectionPool<Connection>[] perThread : pools.values()) {
            for (ConnectionPool<Connection> pool : perThread) {
                for (Connection c : pool.close()) {
                    c.close();
                }
            }
        }
        connector.dispose(true);
    }

    private enum State {
        /** Used by one attempt: the request is sent, the response awaited. */
        BUSY,
        /** The response headers are in; the rest of its body is read and discarded. */
        DRAINING,
        /** In the pool, waiting for the next request. */
        IDLE,
        CLOSED
    }

    /** One TCP connection to an auth server and the attempt using it, if any. */
    private final class Connection implements Attempt.Hold {
        private final IoSession session;
        /** Where it goes when idle; null for a connection never kept. */
        private final ConnectionPool<Connection> pool;

        // guarded by this
        private State state = State.BUSY;
        private Attempt attempt;
        /** Whether the attempt got it from the pool (only such a connection can be stale). */
        private boolean reused;
        /** Response bytes received for the current attempt. */
        private long received;
        private long drainLeft;
        private long idleMillis;
        private long timerGeneration;
        private ScheduledFuture<?> timer;

        Connection(IoSession session, ConnectionPool<Connection> pool, Attempt attempt) {
            this.session = session;
            this.pool = pool;
            this.attempt = attempt;
        }

        /** Takes this idle connection for the attempt and sends its request; false if no longer usable. */
        boolean reuse(Attempt a) {
            synchronized (this) {
                if (state != State.IDLE || !session.isConnected() || session.isClosing()) {
                    return false;
                }
                cancelTimer();
                state = State.BUSY;
                attempt = a;
                reused = true;
                received = 0;
                // attached under this lock: a close reported meanwhile finds the attempt holding
                // this connection, and retries it (lock order: connection, then attempt)
                if (!a.attach(this)) {
                    // the attempt is over already (timed out, cancelled): nothing was sent
                    markClosed();
                    a = null;
                }
            }
            if (a == null) {
                session.closeNow();
                return true;
            }
            counters.reusedConnections.increment();
            send(a);
            return true;
        }

        /** sessionCreated: a new connection for its attempt. */
        void created() {
            counters.newConnections.increment();
            Attempt a;
            synchronized (this) {
                a = attempt;
            }
            if (a == null || !a.attach(this)) {
                close();
            }
        }

        /** sessionOpened: send the request of its attempt. */
        void opened() {
            Attempt a;
            synchronized (this) {
                a = state == State.BUSY ? attempt : null;
            }
            if (a == null || a.isFinished()) {
                close();
                return;
            }
            send(a);
        }

        private void send(Attempt a) {
            session.write(IoBuffer.wrap(a.request())).addListener(f -> {
                if (!((WriteFuture) f).isWritten()) {
                    // reported by sessionClosed: retried there when the connection was a kept one
                    session.closeNow();
                }
            });
        }

        void received(IoBuffer message) {
            int n = message.remaining();
            Attempt a = null;
            boolean close = false;
            synchronized (this) {
                switch (state) {
                case BUSY:
                    a = attempt;
                    received += n;
                    break;
                case DRAINING:
                    drainLeft -= n;
                    if (drainLeft == 0) {
                        close = !idle();
                    } else if (drainLeft < 0) {
                        // more than Content-Length: the next response could not be told apart
                        close = true;
                    }
                    break;
                case IDLE:
                    // nothing was asked: a server that talks now is not to be trusted with the next request
                    close = true;
                    break;
                default:
                    break;
                }
                if (close) {
                    markClosed();
                }
            }
            if (close) {
                session.closeNow();
            }
            if (a != null) {
                a.received(message.buf());
            }
        }

        /**
         * The attempt is over: keep the connection when its response allowed it, else close it.
         * Runs on whichever thread ended the attempt.
         */
        @Override
        public void release(Attempt a, KeepAlive.Reuse reuse) {
            boolean close;
            synchronized (this) {
                if (attempt != a || state != State.BUSY) {
                    return;
                }
                attempt = null;
                idleMillis = reuse == null ? 0 : limits.idleMillis(reuse);
                if (pool == null || closed || idleMillis <= 0) {
                    close = true;
                } else if (reuse.bodyLeft() > 0) {
                    state = State.DRAINING;
                    drainLeft = reuse.bodyLeft();
                    // the body must come within the idle time, or the connection goes
                    close = !schedule(idleMillis);
                } else {
                    close = !idle();
                }
                if (close) {
                    markClosed();
                }
            }
            if (close) {
                session.closeNow();
            }
        }

        /** Into the pool; false when it cannot go there. Called under this lock. */
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

        /** Arms the expiry timer; false when the module is stopping. Called under this lock. */
        private boolean schedule(long millis) {
            cancelTimer();
            long generation = ++timerGeneration;
            try {
                timer = scheduler.schedule(() -> expire(generation), millis, TimeUnit.MILLISECONDS);
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
            synchronized (this) {
                if (generation != timerGeneration || state != State.IDLE && state != State.DRAINING) {
                    return;
                }
                markClosed();
            }
            session.closeNow();
        }

        /** Closes it, whatever its state (its attempt, if any, is over). */
        void close() {
            synchronized (this) {
                markClosed();
            }
            session.closeNow();
        }

        /** Out of the pool and closed for good; the caller then closes the session. Called under this lock. */
        private void markClosed() {
            if (state == State.IDLE) {
                pool.remove(this);
            }
            state = State.CLOSED;
            attempt = null;
            cancelTimer();
        }

        /**
         * The connection closed (cause null) or failed. The attempt using it gets the error, or a
         * new connection when this was a kept one on which nothing of the response came.
         */
        void lost(Throwable cause) {
            Attempt a = null;
            boolean retry = false;
            synchronized (this) {
                if (state == State.BUSY) {
                    a = attempt;
                    retry = reused && received == 0;
                }
                markClosed();
            }
            if (a == null) {
                return;
            }
            if (retry && !closed && a.detach(this)) {
                counters.staleRetries.increment();
                connect(a, pool);
            } else if (cause == null) {
                a.closed();
            } else {
                a.failed("recv()", cause);
            }
        }
    }

    private static final class Handler extends IoHandlerAdapter {

        private static Connection connection(IoSession session) {
            return (Connection) session.getAttribute(CONNECTION);
        }

        @Override
        public void sessionCreated(IoSession session) {
            Connection c = connection(session);
            if (c == null) {
                session.closeNow();
                return;
            }
            c.created();
        }

        @Override
        public void sessionOpened(IoSession session) {
            Connection c = connection(session);
            if (c == null) {
                session.closeNow();
                return;
            }
            c.opened();
        }

        @Override
        public void messageReceived(IoSession session, Object message) {
            Connection c = connection(session);
            if (c != null) {
                c.received((IoBuffer) message);
            }
        }

        @Override
        public void sessionClosed(IoSession session) {
            Connection c = connection(session);
            if (c != null) {
                c.lost(null);
            }
        }

        @Override
        public void exceptionCaught(IoSession session, Throwable cause) {
            Connection c = connection(session);
            if (c != null) {
                c.lost(cause);
            }
            session.closeNow();
        }
    }
}
