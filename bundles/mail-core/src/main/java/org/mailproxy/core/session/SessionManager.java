package org.mailproxy.core.session;

import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.mina.core.future.ConnectFuture;
import org.apache.mina.core.service.IoHandler;
import org.apache.mina.core.service.IoProcessor;
import org.apache.mina.core.session.AttributeKey;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.transport.socket.nio.NioSession;
import org.apache.mina.transport.socket.SocketConnector;
import org.mailproxy.core.config.ListenSpec;
import org.mailproxy.core.relay.RelayCounters;
import org.mailproxy.core.spi.MailProtocol;

/**
 * The session machinery of the core: the I/O threads, the handler for accepted connections, the
 * backend connector, the timers and the session counters. The wiring creates one, hands its
 * {@link #ioProcessor()} and {@link #clientHandler()} to the {@code ListenerSet}, and closes it
 * last:
 *
 * <pre>
 * SessionManager sessions = new SessionManager(ioThreads);
 * ListenerSet listeners = new ListenerSet(sessions.ioProcessor(), sessions.clientHandler());
 * listeners.apply(List.of(new ListenBinding(listen, new MailServer(name, protocol, serverConfig, limits))));
 * ...
 * listeners.close();
 * sessions.close();
 * </pre>
 */
public final class SessionManager implements AutoCloseable {

    private static final AttributeKey SESSION = new AttributeKey(SessionManager.class, "session");

    private final IoThreadPool ioThreads;
    private final ExecutorService connectThreads;
    private final SocketConnector connector;
    private final ScheduledThreadPoolExecutor scheduler;
    private final ClientIoHandler clientHandler = new ClientIoHandler(this);
    private final RelayCounters relayCounters = new RelayCounters();
    private final Map<Long, MailSession> sessions = new ConcurrentHashMap<>();
    private final AtomicLong totalSessions = new AtomicLong();
    private final Map<String, SessionCounters> protocolCounters = new ConcurrentHashMap<>();
    private volatile java.util.function.Consumer<MailSession> closeListener = session -> { };
    private volatile ConnectionInitializer initializer = (connection, listen, server) -> { };

    /** With one I/O thread per available processor. */
    public SessionManager() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** @param ioThreads how many MINA I/O processors (threads) serve all connections */
    public SessionManager(int ioThreads) {
        this.ioThreads = new IoThreadPool(ioThreads);
        this.scheduler = new ScheduledThreadPoolExecutor(1, daemon("mail-timer"));
        this.scheduler.setRemoveOnCancelPolicy(true);
        this.connectThreads = Executors.newCachedThreadPool(daemon("mail-connect"));
        this.connector = new PromptConnector(connectThreads, this.ioThreads);
        connector.setHandler(new BackendIoHandler());
        connector.getSessionConfig().setTcpNoDelay(true);
        // Sessions time their own connects with the server's timeout; MINA's check is only a backstop.
        connector.setConnectTimeoutMillis(TimeUnit.DAYS.toMillis(1));
        connector.getStatistics().getConfig().setStatisticsCalcEnabled(false);
    }

    /** The I/O processors to give to the ListenerSet, shared with the backend connector. */
    public IoProcessor<NioSession> ioProcessor() {
        return ioThreads;
    }

    /** The I/O threads for modules that open connections of their own (an OSGi service of the core). */
    public org.mailproxy.core.spi.IoThreads ioThreads() {
        return new SharedIoThreads(ioThreads);
    }

    /** The handler to give to the ListenerSet; it expects {@link MailServer}s as server keys. */
    public IoHandler clientHandler() {
        return clientHandler;
    }

    /** Sets what prepares accepted connections (TLS, PROXY protocol); by default nothing. */
    public void setConnectionInitializer(ConnectionInitializer initializer) {
        this.initializer = Objects.requireNonNull(initializer, "initializer");
    }

    /** The session of a client connection, or null. */
    public static MailSession sessionOf(IoSession connection) {
        return (MailSession) connection.getAttribute(SESSION);
    }

    /** Sessions open now. */
    public Collection<MailSession> sessions() {
        return List.copyOf(sessions.values());
    }

    public long currentSessions() {
        return sessions.size();
    }

    public long totalSessions() {
        return totalSessions.get();
    }

    /** The session with this id, or null. */
    public MailSession session(long id) {
        return sessions.get(id);
    }

    /** Counters of all sessions of one protocol since this manager started, by protocol name. */
    public Map<String, SessionCounters> protocolCounters() {
        return Map.copyOf(protocolCounters);
    }

    /** Sets what is told of every session that ends (the session log); by default nothing. */
    public void setCloseListener(java.util.function.Consumer<MailSession> listener) {
        this.closeListener = Objects.requireNonNull(listener, "listener");
    }

    /** Relays running now. */
    public long relayingSessions() {
        return relayCounters.active();
    }

    /** Bytes relayed from clients to backends, ended and running relays together. */
    public long bytesFromClients() {
        long bytes = relayCounters.finishedBytesFromClients();
        for (MailSession session : sessions.values()) {
            bytes += session.bytesFromClient();
        }
        return bytes;
    }

    /** Bytes relayed from backends to clients, ended and running relays together. */
    public long bytesFromBackends() {
        long bytes = relayCounters.finishedBytesFromBackends();
        for (MailSession session : sessions.values()) {
            bytes += session.bytesFromBackend();
        }
        return bytes;
    }

    /**
     * Closes the sessions that still depend on {@code protocol}, those not relaying yet; for when
     * the protocol's service goes away. Those reading commands get the protocol's
     * {@link MailProtocol#stoppedReply()} first. Relaying sessions belong to the core and go on.
     *
     * @return how many sessions were closed
     */
    public int closeSessions(MailProtocol protocol) {
        byte[] reply = protocol.stoppedReply();
        int count = 0;
        for (MailSession session : sessions.values()) {
            if (session.server().protocol() == protocol && session.closeForStoppedProtocol(reply)) {
                count++;
            }
        }
        return count;
    }

    /** Closes every connection and stops the threads. Close the ListenerSet first. */
    @Override
    public void close() {
        connector.dispose();
        ioThreads.dispose();
        scheduler.shutdownNow();
        connectThreads.shutdown();
    }

    // ---------------------------------------------------------------- for the session package

    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    RelayCounters relayCounters() {
        return relayCounters;
    }

    void sessionCreated(IoSession connection, ListenSpec listen, MailServer server) {
        MailSession session = new MailSession(connection, server, listen, this,
                protocolCounters.computeIfAbsent(server.protocol().name(), name -> new SessionCounters()));
        connection.setAttribute(SESSION, session);
        sessions.put(session.id(), session);
        totalSessions.incrementAndGet();
        server.sessionOpened();
        initializer.initialize(connection, listen, server);
        session.created();
    }

    void sessionClosed(MailSession session) {
        if (sessions.remove(session.id()) != null) {
            session.server().sessionClosed();
            session.countClosed();
            try {
                closeListener.accept(session);
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(SessionManager.class).warn("*{} session close listener failed: {}",
                        session.id(), e.toString());
            }
        }
    }

    /** Connects a backend connection for {@code session}, on the session's I/O thread. */
    ConnectFuture connect(InetSocketAddress address, MailSession session) {
        return connector.connect(address, (connection, future) -> {
            connection.setAttribute(BackendIoHandler.SESSION, session);
            connection.setAttribute(IoThreadPool.SAME_THREAD_AS, session.ioSession());
        });
    }

    private static java.util.concurrent.ThreadFactory daemon(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
