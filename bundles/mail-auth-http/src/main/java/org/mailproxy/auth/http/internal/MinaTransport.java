package org.mailproxy.auth.http.internal;

import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.future.ConnectFuture;
import org.apache.mina.core.future.WriteFuture;
import org.apache.mina.core.service.IoHandlerAdapter;
import org.apache.mina.core.session.AttributeKey;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.core.session.IoSessionInitializer;
import org.apache.mina.transport.socket.SocketConnector;
import org.apache.mina.transport.socket.nio.NioSocketConnector;
import org.mailproxy.core.spi.IoThreads;

/**
 * TCP to the auth server through a MINA {@link SocketConnector}. Nothing here blocks; the
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
 * <p>A kept connection that closes or fails before any byte of the response came is retried once
 * on a new connection; its state (busy, draining, idle, closed) is the {@link KeptConnection}'s.
 */
final class MinaTransport implements Transport {

    private static final AttributeKey CONNECTION = new AttributeKey(MinaTransport.class, "connection");

    private final IoThreads ioThreads;
    private final SocketConnector connector;
    private final ScheduledExecutorService scheduler;
    private final Counters counters;
    private final KeepAlive.Limits limits;
    /** By address, a pool per I/O thread (index {@code thread + 1}; 0 for any other thread). */
    private final ConcurrentMap<InetSocketAddress, ConnectionPool<KeptConnection>[]> pools = new ConcurrentHashMap<>();
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
        ConnectionPool<KeptConnection> pool = pools.computeIfAbsent(attempt.url().address(), a -> newPools())
                [ioThreads == null ? 0 : ioThreads.current() + 1];
        if (!KeptConnection.reuseIdle(pool, attempt)) {
            connect(attempt, pool);
        }
    }

    @SuppressWarnings("unchecked")
    private ConnectionPool<KeptConnection>[] newPools() {
        ConnectionPool<KeptConnection>[] perThread = new ConnectionPool[ioThreads == null ? 1 : ioThreads.count() + 1];
        for (int i = 0; i < perThread.length; i++) {
            perThread[i] = new ConnectionPool<>(limits.maxIdle(), counters.idleConnections);
        }
        return perThread;
    }

    /**
     * A new connection for the attempt; kept afterwards in the pool when there is one. It runs on
     * the calling I/O thread, whose pool that is.
     */
    private void connect(Attempt attempt, ConnectionPool<KeptConnection> pool) {
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
        for (ConnectionPool<KeptConnection>[] perThread : pools.values()) {
            for (ConnectionPool<KeptConnection> pool : perThread) {
                for (KeptConnection c : pool.close()) {
                    c.close();
                }
            }
        }
        connector.dispose(true);
    }

    /** One TCP connection to an auth server, as a MINA session; used from any thread. */
    private final class Connection extends KeptConnection {
        private final IoSession session;

        Connection(IoSession session, ConnectionPool<KeptConnection> pool, Attempt attempt) {
            super(pool, attempt, scheduler, counters, limits);
            this.session = session;
        }

        /** sessionCreated: a new connection for its attempt. */
        void created() {
            counters.newConnections.increment();
            Attempt a = attempt();
            if (a == null || !a.attach(this)) {
                close();
            }
        }

        @Override
        void send(Attempt a) {
            session.write(IoBuffer.wrap(a.request())).addListener(f -> {
                if (!((WriteFuture) f).isWritten()) {
                    // reported by sessionClosed: retried there when the connection was a kept one
                    session.closeNow();
                }
            });
        }

        @Override
        boolean isOpen() {
            return session.isConnected() && !session.isClosing();
        }

        @Override
        void closeSocket() {
            session.closeNow();
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
                c.received(((IoBuffer) message).buf());
            }
        }

        @Override
        public void sessionClosed(IoSession session) {
            Connection c = connection(session);
            if (c != null) {
                c.lost("recv()", null);
            }
        }

        @Override
        public void exceptionCaught(IoSession session, Throwable cause) {
            Connection c = connection(session);
            if (c != null) {
                c.lost("recv()", cause);
            }
            session.closeNow();
        }
    }
}
