package org.mailproxy.core.session;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.future.ConnectFuture;
import org.apache.mina.core.session.IoSession;
import org.mailproxy.core.config.ListenSpec;
import org.mailproxy.core.relay.DeadlineTimer;
import org.mailproxy.core.relay.Relay;
import org.mailproxy.core.spi.AuthResult;
import org.mailproxy.core.spi.ProtocolHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One client connection of the mail proxy, from accept to close (nginx: {@code ngx_mail_session_t}).
 * Log lines start with {@code *id} as nginx's do; what nginx logs at {@code info} for every
 * connection (connected, logged in) is DEBUG here, limits and timeouts are INFO, failed backend
 * connections ERROR.
 * The core creates it; the protocol's {@link ProtocolHandler} drives it through three phases:
 *
 * <ol>
 * <li><b>protocol</b>: greeting, commands, authentication. The core enforces {@code timeout}
 *     (idle time while reading), {@code max_errors} ({@link #protocolError()}) and
 *     {@code max_commands} ({@link #commandReceived()});</li>
 * <li><b>backend</b> ({@link #connectBackend}): the core connects; the protocol's
 *     {@link BackendLogin} logs in. The client is not read meanwhile (as in nginx); what it
 *     pipelined is kept. Connecting and logging in must finish within {@code timeout};</li>
 * <li><b>relay</b> ({@link #startRelay}): bytes flow both ways through the core's relay; the
 *     protocol is out of the picture.</li>
 * </ol>
 *
 * <p><b>Threads.</b> The core calls the handler, the login and {@link #execute} tasks one at a time
 * under this session's lock. Answers from other threads (authentication, DNS, timers) must come
 * back through {@link #execute} or {@link #schedule}. All public methods are thread-safe.
 *
 * <p><b>Closing.</b> {@link #closeAfterWrite()}, and the limits, take effect when the current
 * callback returns, so a reply written in the same callback, before or after the call, is sent
 * first (nginx's {@code s->quit}).
 */
public final class MailSession {

    private static final Logger LOG = LoggerFactory.getLogger(MailSession.class);
    /** Logging-context key: the name of the server whose session is being handled. */
    public static final String MDC_SERVER = "mail.server";

    private enum Phase { PROTOCOL, BACKEND, RELAY, CLOSED }

    private final IoSession connection;
    private final MailServer server;
    private final ListenSpec listen;
    private final SessionManager manager;
    private final ReentrantLock lock = new ReentrantLock();
    private final DeadlineTimer timer;
    private final long timeoutMillis;
    /** See {@link #holdTimeout}; 0 when not held. Guarded by lock. */
    private long timeoutHeldUntil;

    private volatile InetSocketAddress clientAddress;
    private volatile org.mailproxy.core.spi.AuthRequest.ProxyProtocolInfo proxyProtocol;
    private volatile Relay relay;
    private volatile boolean closed;
    private final SessionCounters protocolCounters;
    private final long startMillis = System.currentTimeMillis();
    private volatile String user;
    private volatile boolean authPending;
    private volatile boolean authenticated;
    private volatile InetSocketAddress backendAddress;
    private volatile String endReason;
    private volatile long endMillis;

    // Everything below is guarded by lock.
    private Phase phase = Phase.PROTOCOL;
    private int depth;
    private ProtocolHandler handler;
    private IoBuffer clientInput;
    /** The buffer the handler is reading now (inside onData), for {@link #startTls}. */
    private IoBuffer delivering;
    private boolean readingSuspended;
    private boolean redeliver;
    private long readingSince;
    private boolean quitting;
    private boolean closeAfterCallback;
    private int errors;
    private int commands;
    private BackendLogin login;
    private ConnectFuture connecting;
    private Throwable connectFailure;
    private IoSession backend;
    /** TLS toward the backend of this session: proxy_ssl, or Auth-SSL-Backend. */
    private org.mailproxy.core.spi.BackendTlsMode backendTls = org.mailproxy.core.spi.BackendTlsMode.OFF;
    /** Whether TLS was put into the backend connection. */
    private boolean backendSecured;
    private IoBuffer backendInput;
    private long backendSince;

    MailSession(IoSession connection, MailServer server, ListenSpec listen, SessionManager manager,
                SessionCounters protocolCounters) {
        this.protocolCounters = protocolCounters;
        server.counters().opened();
        protocolCounters.opened();
        this.connection = connection;
        this.server = server;
        this.listen = listen;
        this.manager = manager;
        this.clientAddress = (InetSocketAddress) connection.getRemoteAddress();
        this.timeoutMillis = server.limits().timeout().toMillis();
        this.timer = new DeadlineTimer(manager.scheduler(), this::deadline, timeoutMillis, this::timedOut);
    }

    // ---------------------------------------------------------------- identity

    /** A number unique in this JVM, written as {@code *id} in log lines as nginx does. */
    public long id() {
        return connection.getId();
    }

    /** The client's address: the peer of the connection, or what {@link #setClientAddress} set. */
    public InetSocketAddress clientAddress() {
        return clientAddress;
    }

    /** Replaces the client address, for the PROXY protocol and {@code set_real_ip_from}. */
    public void setClientAddress(InetSocketAddress address) {
        this.clientAddress = Objects.requireNonNull(address, "address");
    }

    /**
     * What the PROXY protocol header of this connection announced ({@code listen ... proxy_protocol}),
     * for the auth server's Proxy-Protocol-* headers; null without a header, and for headers that
     * name no addresses (v1 UNKNOWN, v2 LOCAL or another family). The addresses are as received,
     * whether or not {@code set_real_ip_from} made the source the {@link #clientAddress()}.
     */
    public org.mailproxy.core.spi.AuthRequest.ProxyProtocolInfo proxyProtocol() {
        return proxyProtocol;
    }

    /** Sets what {@link #proxyProtocol()} returns; for the PROXY protocol reader. */
    public void setProxyProtocol(org.mailproxy.core.spi.AuthRequest.ProxyProtocolInfo info) {
        this.proxyProtocol = info;
    }

    /**
     * Closes the session now because a core extension refused the connection before the protocol
     * started (a broken PROXY protocol header); {@code reason} is what the session log and
     * {@link #endReason()} say.
     */
    public void abort(String reason) {
        closeBecause(Objects.requireNonNull(reason, "reason"));
    }

    /** The local address the client connected to (with a wildcard listen, the concrete address). */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) connection.getLocalAddress();
    }

    /** The listen the connection came in on (its {@code ssl} and {@code proxy_protocol} flags among others). */
    public ListenSpec listen() {
        return listen;
    }

    /** The server of this session, as configured when the session started. */
    public MailServer server() {
        return server;
    }

    /** The server's configuration object (the wiring passes its {@code ServerConfig}). */
    public <T> T settings(Class<T> type) {
        return server.settings(type);
    }

    /**
     * The MINA connection to the client, for core extensions that work on the filter chain (TLS,
     * STARTTLS, PROXY protocol). Protocols write through this class, not through the connection.
     */
    public IoSession ioSession() {
        return connection;
    }

    /** The MINA connection to the backend, or null before it is open and after it closed (for tests). */
    IoSession backendConnection() {
        lock.lock();
        try {
            return backend;
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- what the console shows

    /**
     * Hook for the protocols: call it just before asking the authenticator about a login, with the
     * login name the client gave (never a password). The session is in state {@link
     * SessionState#AUTH} until the protocol connects the backend (the login counts as accepted) or
     * reads the client again (refused). The name is shown by the console and the session log.
     */
    public void authenticating(String user) {
        this.user = user;
        this.authPending = true;
    }

    /**
     * Hook for the protocols: call it when the authenticator answered a login with a temporary
     * error, before replying to the client. A timeout ({@link AuthResult.TemporaryError#timedOut()})
     * is counted for the server and the protocol; the login itself counts as failed as usual.
     */
    public void authTemporaryError(AuthResult.TemporaryError error) {
        if (error.timedOut()) {
            server.counters().countAuthTimeout();
            protocolCounters.countAuthTimeout();
        }
    }

    /** The last login name given to {@link #authenticating}, or null. */
    public String user() {
        return user;
    }

    /** Whether the authenticator accepted a login of this session. */
    public boolean isAuthenticated() {
        return authenticated;
    }

    /** The backend address the authentication chose, or null before. */
    public InetSocketAddress backendAddress() {
        return backendAddress;
    }

    /** When the session was accepted, in milliseconds since the epoch. */
    public long startMillis() {
        return startMillis;
    }

    /** When the session ended, in milliseconds since the epoch; 0 while open. */
    public long endMillis() {
        return endMillis;
    }

    /** Where the session is now. */
    public SessionState state() {
        if (closed) {
            return SessionState.CLOSED;
        }
        if (relay != null) {
            return SessionState.RELAY;
        }
        lock.lock();
        try {
            return switch (phase) {
                case PROTOCOL -> authPending ? SessionState.AUTH : SessionState.GREETING;
                case BACKEND -> SessionState.BACKEND_LOGIN;
                case RELAY -> SessionState.RELAY;
                case CLOSED -> SessionState.CLOSED;
            };
        } finally {
            lock.unlock();
        }
    }

    /**
     * How the session ended, in a few words: {@code client closed}, {@code backend closed},
     * {@code timeout}, {@code proxy_timeout}, {@code max_errors}, {@code max_commands},
     * {@code quit} (the protocol closed it: logout, refused login...), {@code backend connect_failed},
     * {@code backend timed_out}, {@code backend closed during login}, {@code killed},
     * {@code protocol module stopped}, {@code broken PROXY protocol header}; null while it runs
     * without a reason known yet.
     */
    public String endReason() {
        return endReason;
    }

    /** Closes the session now on an operator's request ({@code mail:kill}); the session log says {@code killed}. */
    public void kill() {
        closeBecause("killed");
    }

    /**
     * Closes this session because its protocol's service went away (bundle stopped, feature
     * uninstalled), unless it relays: a relaying session needs no protocol code and goes on. A
     * session the protocol has greeted and that is reading commands gets {@code reply} (in its
     * protocol's words) before the close; one still in a TLS handshake, a PROXY protocol header or
     * the backend login is closed at once.
     *
     * @return whether the session was closed
     */
    boolean closeForStoppedProtocol(byte[] reply) {
        enter();
        try {
            if (relay != null || closed || phase == Phase.RELAY || phase == Phase.CLOSED) {
                return false;
            }
            ended("protocol module stopped");
            if (reply != null && phase == Phase.PROTOCOL && handler != null && !quitting) {
                write(reply);
                quit(); // nothing more reaches the handler; closed once the reply is sent
            } else {
                connection.closeNow();
            }
            return true;
        } finally {
            exit();
        }
    }

    void closeBecause(String reason) {
        ended(reason);
        connection.closeNow();
    }

    private void ended(String reason) {
        if (endReason == null) {
            endReason = reason;
        }
    }

    private void authAnswered(boolean ok) {
        if (authPending) {
            authPending = false;
            if (ok) {
                authenticated = true;
                server.counters().countAuthOk();
                protocolCounters.countAuthOk();
            } else {
                server.counters().countAuthFailed();
                protocolCounters.countAuthFailed();
            }
        }
    }

    private void countError() {
        server.counters().countError();
        protocolCounters.countError();
    }

    /** Called once by the manager when the session has ended. */
    void countClosed() {
        endMillis = System.currentTimeMillis();
        Relay current = relay;
        if (current != null && current.endedByTimeout()) {
            endReason = "proxy_timeout";
        }
        ended("closed");
        long fromClient = bytesFromClient();
        long fromBackend = bytesFromBackend();
        server.counters().closed(fromClient, fromBackend);
        protocolCounters.closed(fromClient, fromBackend);
    }

    // ---------------------------------------------------------------- writing and closing

    /** Sends bytes to the client. The array is sent later as it is, so it must not change afterwards; canned replies can be constants. */
    public void write(byte[] bytes) {
        Bytes.write(connection, bytes);
    }

    /** Sends text to the client, UTF-8 encoded (ASCII for protocol replies), without building strings. */
    public void write(CharSequence text) {
        Bytes.write(connection, text);
    }

    /** Sends the remaining bytes of a buffer to the client; the buffer then belongs to the connection. */
    public void write(IoBuffer data) {
        Bytes.write(connection, data);
    }

    /** Closes now; unsent replies are dropped. */
    public void close() {
        connection.closeNow();
    }

    /** Closes once the replies written so far, and in the current callback, are sent. */
    public void closeAfterWrite() {
        enter();
        try {
            ended("quit");
            quit();
        } finally {
            exit();
        }
    }

    /**
     * Whether the session is on its way out: after {@link #closeAfterWrite()}, a limit or a
     * timeout. A protocol stops parsing then, as nginx returns once {@code s->quit} is set.
     */
    public boolean isClosing() {
        enter();
        try {
            return quitting || closed || phase == Phase.CLOSED;
        } finally {
            exit();
        }
    }

    /** Whether the session has ended. */
    public boolean isClosed() {
        return closed;
    }

    /** Whether the relay runs. */
    public boolean isRelaying() {
        return relay != null;
    }

    // ---------------------------------------------------------------- TLS

    /** Whether this server can switch to TLS: it has a TLS context ({@code starttls on|only} or an {@code ssl} listen). */
    public boolean canStartTls() {
        return server.tls() != null;
    }

    /** Whether the client connection is TLS: an {@code ssl} listen, or after {@link #startTls}. */
    public boolean isSecure() {
        TlsSupport tls = server.tls();
        return tls != null && tls.isSecure(connection);
    }

    /**
     * The client connection's TLS for the auth server (Auth-SSL-*), once the handshake is done;
     * null when the connection is not TLS.
     */
    public org.mailproxy.core.spi.AuthRequest.TlsInfo tlsInfo() {
        TlsSupport tls = server.tls();
        return tls == null ? null : tls.info(connection);
    }

    /** The host name the client asked for with SNI once its TLS handshake is done, else null. */
    public String tlsServerName() {
        TlsSupport tls = server.tls();
        return tls == null ? null : tls.serverName(connection);
    }

    /**
     * STARTTLS / STLS (nginx: {@code ngx_mail_starttls_handler}): sends {@code reply} in clear,
     * discards everything the client sent after the command and that has not been handled yet
     * (the rest of the current read and any pending input: CVE-2014-3556), then puts TLS into the
     * connection; the next bytes from the client must be its TLS hello. Call it from
     * {@link ProtocolHandler#onData}: the handler's loop ends because the buffer it reads from is
     * emptied. Once the handshake is done the client certificate is checked as with implicit TLS.
     *
     * @throws IllegalStateException when the server has no TLS, the connection is TLS already or
     *                               the session is past the protocol phase
     */
    public void startTls(byte[] reply) {
        enter();
        try {
            TlsSupport tls = server.tls();
            if (tls == null || tls.isSecure(connection) || phase != Phase.PROTOCOL) {
                throw new IllegalStateException("startTls() " + (tls == null ? "without TLS"
                        : phase != Phase.PROTOCOL ? "while " + phase : "on a TLS connection"));
            }
            write(reply); // queued in clear: it passed the chain before TLS is added
            if (delivering != null) {
                delivering.position(delivering.limit());
            }
            clientInput = null;
            redeliver = false;
            tls.secure(connection, false);
            LOG.debug("*{} STARTTLS: TLS handshake starts", id());
        } finally {
            exit();
        }
    }

    // ---------------------------------------------------------------- limits

    /**
     * Counts an invalid command (nginx's {@code s->errors++}). Reply as usual; when this error
     * reaches {@code max_errors} the session closes after that reply.
     *
     * @return true while the session goes on, false when this was the last error allowed
     */
    public boolean protocolError() {
        enter();
        try {
            errors++;
            countError();
            if (errors >= server.limits().maxErrors()) {
                ended("max_errors");
                LOG.info("*{} client sent too many invalid commands", id());
                quit();
                return false;
            }
            return true;
        } finally {
            exit();
        }
    }

    /**
     * Counts a command before executing it (Angie's {@code max_commands}).
     *
     * @return true to go on; false when the command is one too many: do not execute it, reply with
     *         the protocol's error, and the session closes after that reply
     */
    public boolean commandReceived() {
        enter();
        try {
            commands++;
            if (commands > server.limits().maxCommands()) {
                ended("max_commands");
                LOG.info("*{} client sent too many commands", id());
                quit();
                return false;
            }
            return true;
        } finally {
            exit();
        }
    }

    /** Invalid commands so far. */
    public int errors() {
        enter();
        try {
            return errors;
        } finally {
            exit();
        }
    }

    /** Commands so far. */
    public int commands() {
        enter();
        try {
            return commands;
        } finally {
            exit();
        }
    }

    // ---------------------------------------------------------------- reading

    /**
     * Stops reading from the client, typically while an authentication answer is pending
     * (nginx deletes the read timer then too: {@code timeout} does not run while reading is
     * suspended). Bytes already read and not consumed stay pending.
     */
    public void suspendReading() {
        enter();
        try {
            if (phase == Phase.PROTOCOL && !readingSuspended) {
                readingSuspended = true;
                connection.suspendRead();
            }
        } finally {
            exit();
        }
    }

    /**
     * Reads from the client again. Pending bytes (pipelined commands) are handed to
     * {@link ProtocolHandler#onData} when the current callback returns, before anything newly read.
     */
    public void resumeReading() {
        enter();
        try {
            authAnswered(false);
            if (phase == Phase.PROTOCOL && readingSuspended) {
                readingSuspended = false;
                readingSince = System.currentTimeMillis();
                redeliver = clientInput != null;
                if (!quitting) {
                    connection.resumeRead();
                }
                timer.arm();
            }
        } finally {
            exit();
        }
    }

    // ---------------------------------------------------------------- other threads and timers

    /**
     * Runs {@code task} serialized with the session's callbacks, on the calling thread; for
     * answers that arrive on other threads. Nothing runs once the session is closed or relaying.
     */
    public void execute(Runnable task) {
        enter();
        try {
            if (phase == Phase.PROTOCOL || phase == Phase.BACKEND) {
                task.run();
            }
        } finally {
            exit();
        }
    }

    /**
     * Runs {@code task} after {@code delay} as with {@link #execute} (nginx: {@code Auth-Wait},
     * {@code smtp_greeting_delay}).
     *
     * @return the scheduled task, to cancel it
     */
    public ScheduledFuture<?> schedule(Duration delay, Runnable task) {
        Objects.requireNonNull(task, "task");
        return manager.scheduler().schedule(() -> execute(task), delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    // ---------------------------------------------------------------- backend and relay

    /**
     * Connects to the backend the authentication chose and lets {@code login} log in. Client reads
     * are suspended until the relay starts; bytes the client pipelined are kept for the backend.
     * The connection and login must complete within the server's {@code timeout}.
     *
     * @throws IllegalStateException when called twice or after close
     */
    public void connectBackend(InetSocketAddress address, BackendLogin login) {
        connectBackend(address, null, login);
    }

    /**
     * {@link #connectBackend(InetSocketAddress, BackendLogin)} with TLS toward the backend as the
     * auth server chose it for this login ({@code Auth-SSL-Backend}); null keeps the server's
     * {@code proxy_ssl}. With {@code on} the handshake starts right after connect and the login
     * sees the backend's greeting once it is done; with {@code starttls} the login switches
     * ({@link Backend#mustStartTls()}). A failed handshake or certificate check ends the login with
     * {@link BackendLogin.Failure#TLS_FAILED}, logged once at error.
     *
     * @throws IllegalStateException when called twice or after close
     */
    public void connectBackend(InetSocketAddress address, org.mailproxy.core.spi.BackendTlsMode tls,
                               BackendLogin login) {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(login, "login");
        enter();
        try {
            if (phase != Phase.PROTOCOL || quitting) {
                throw new IllegalStateException("connectBackend() while " + phase);
            }
            phase = Phase.BACKEND;
            authAnswered(true);
            backendAddress = address;
            this.login = login;
            backendSince = System.currentTimeMillis();
            connection.suspendRead();
            UpstreamTls upstream = server.upstreamTls();
            backendTls = tls != null ? tls : upstream != null ? upstream.mode()
                    : org.mailproxy.core.spi.BackendTlsMode.OFF;
            if (backendTls != org.mailproxy.core.spi.BackendTlsMode.OFF && upstream == null) {
                LOG.error("*{} TLS to upstream {} wanted, but the server has no TLS toward backends", id(), address);
                failLogin(BackendLogin.Failure.TLS_FAILED);
                return;
            }
            timer.arm();
            LOG.debug("*{} connecting to upstream {}", id(), address);
            ConnectFuture future = manager.connect(address, this);
            connecting = future;
            future.addListener(done -> {
                ConnectFuture result = (ConnectFuture) done;
                if (!result.isConnected() && !result.isCanceled()) {
                    connectFailed(address, result.getException());
                }
            });
        } finally {
            exit();
        }
    }

    /**
     * Ends the login and starts relaying: {@code toClient} (the backend's last login reply and
     * anything after it, or null) goes to the client, then the client's pipelined bytes to the
     * backend, then everything both ways. The protocol handler and the login are released.
     *
     * @throws IllegalStateException when the backend is not connected
     */
    public void startRelay(IoBuffer toClient) {
        enter();
        try {
            if (phase != Phase.BACKEND || backend == null) {
                throw new IllegalStateException("startRelay() while " + phase + (backend == null ? " unconnected" : ""));
            }
            phase = Phase.RELAY;
            timer.cancel();
            SessionLimits limits = server.limits();
            Relay started = new Relay(id(), connection, backend, limits.proxyBuffer(), limits.proxyTimeout(),
                    manager.scheduler(), manager.relayCounters());
            IoBuffer pipelined = clientInput;
            clientInput = null;
            backendInput = null;
            handler = null;
            login = null;
            started.start(toClient, pipelined);
            relay = started; // from here MINA events go straight to the relay
            if (backendSecured && LOG.isDebugEnabled()) {
                LOG.debug("*{} client logged in, upstream TLS {}", id(), server.upstreamTls().describe(backend));
            } else {
                LOG.debug("*{} client logged in", id());
            }
        } finally {
            exit();
        }
    }

    /** TLS toward the backend of this session: what {@code connectBackend} settled on. */
    org.mailproxy.core.spi.BackendTlsMode backendTlsMode() {
        enter();
        try {
            return backendTls;
        } finally {
            exit();
        }
    }

    /** Whether TLS was put into this backend connection. */
    boolean isBackendSecure(IoSession side) {
        enter();
        try {
            return backendSecured && side == backend;
        } finally {
            exit();
        }
    }

    /** {@link Backend#startTls()}: STARTTLS/STLS was accepted by the backend. */
    void startBackendTls(IoSession side) {
        enter();
        try {
            if (phase != Phase.BACKEND || login == null || side != backend || backendSecured) {
                throw new IllegalStateException("startTls() on the backend while " + phase
                        + (backendSecured ? " on a TLS connection" : ""));
            }
            LOG.debug("*{} STARTTLS to upstream: TLS handshake starts", id());
            secureBackend(side);
        } finally {
            exit();
        }
    }

    private void secureBackend(IoSession side) {
        UpstreamTls upstream = server.upstreamTls();
        backendSecured = true;
        try {
            upstream.secure(side);
        } catch (RuntimeException e) { // the engine refused to start (MINA wraps the SSLException)
            tlsFailed(side, "SSL handshake with upstream", sslCause(e) != null ? sslCause(e).getMessage() : e.toString());
        }
    }

    /**
     * An exception on the backend connection before the relay: when it is a TLS error (the
     * handshake or the certificate check failed, or TLS broke during the login), it is logged
     * once at error, without a stack trace (nginx: "SSL_do_handshake() failed ... while SSL
     * handshaking to upstream"), and the login fails as when the backend cannot be reached.
     *
     * @return whether it was such an error (handled); false leaves it to the caller
     */
    boolean backendTlsFailed(IoSession side, Throwable cause) {
        javax.net.ssl.SSLException ssl = sslCause(cause);
        if (ssl == null || relay != null) {
            return false;
        }
        enter();
        try {
            if (relay != null || !backendSecured) {
                return false;
            }
            if (phase != Phase.BACKEND || login == null || side != backend) {
                side.closeNow();
                return true; // the login is over already: nothing more to say
            }
            boolean handshaking = side.getAttribute(org.apache.mina.filter.ssl.SslFilter.SSL_SECURED) == null;
            tlsFailed(side, handshaking ? "SSL handshake with upstream" : "SSL error with upstream", ssl.getMessage());
            return true;
        } finally {
            exit();
        }
    }

    private void tlsFailed(IoSession side, String what, String reason) {
        if (phase != Phase.BACKEND || login == null) {
            side.closeNow();
            return;
        }
        LOG.error("*{} {} {} failed ({}) while {}", id(), what, text(backendAddress), reason,
                what.startsWith("SSL handshake") ? "SSL handshaking to upstream" : "reading response from upstream");
        ended("backend tls_failed");
        if (side == backend) {
            backend = null;
        }
        side.closeNow();
        failLogin(BackendLogin.Failure.TLS_FAILED);
    }

    private static javax.net.ssl.SSLException sslCause(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException e) {
                return e;
            }
        }
        return null;
    }

    /** Bytes relayed from the client to the backend; 0 before the relay. */
    public long bytesFromClient() {
        Relay current = relay;
        return current == null ? 0 : current.bytesFromClient();
    }

    /** Bytes relayed from the backend to the client; 0 before the relay. */
    public long bytesFromBackend() {
        Relay current = relay;
        return current == null ? 0 : current.bytesFromBackend();
    }

    @Override
    public String toString() {
        return "*" + id() + " " + text(clientAddress) + " " + server;
    }

    /** {@code 192.0.2.1:54321} as nginx writes a client, without Java's leading slash. */
    private static String text(InetSocketAddress address) {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }

    // ================================================================ events from the client connection

    /**
     * The connection is accepted: {@code timeout} runs from now, also while a TLS handshake or a
     * PROXY protocol header holds back {@link #opened()}.
     */
    void created() {
        enter();
        try {
            readingSince = System.currentTimeMillis();
            timer.arm();
        } finally {
            exit();
        }
    }

    void opened() {
        enter();
        try {
            if (phase != Phase.PROTOCOL || quitting) {
                return;
            }
            LOG.debug("*{} client {} connected to {}", id(), text(clientAddress), listen.addressText());
            readingSince = System.currentTimeMillis();
            handler = server.protocol().newHandler(this);
            handler.onStart();
        } finally {
            exit();
        }
    }

    void clientReceived(IoBuffer data) {
        Relay current = relay;
        if (current != null) {
            current.fromClient(data);
            return;
        }
        enter();
        try {
            current = relay;
            if (current != null) {
                current.fromClient(data); // the relay started while we waited for the lock
            } else if (phase == Phase.PROTOCOL && !readingSuspended && !quitting && handler != null) {
                deliver(Bytes.concat(clientInput, data));
            } else if (!quitting && (phase == Phase.PROTOCOL || phase == Phase.BACKEND)) {
                clientInput = Bytes.concat(clientInput, data); // read just before a suspension took hold
            }
        } finally {
            exit();
        }
    }

    void clientSent() {
        Relay current = relay;
        if (current != null) {
            current.sentToClient();
            return;
        }
        enter();
        try {
            current = relay;
            if (current != null) {
                current.sentToClient();
            }
        } finally {
            exit();
        }
    }

    void clientInputClosed() {
        ended("client closed");
        Relay current = relay;
        if (current != null) {
            current.inputClosed(connection);
        } else {
            connection.closeOnFlush(); // what the protocol answered to the last command still goes out
        }
    }

    void clientClosed() {
        ended("client closed");
        closed = true;
        Relay current = relay;
        if (current != null) {
            current.closed(connection);
        } else {
            enter();
            try {
                current = relay;
                if (current != null) {
                    current.closed(connection);
                } else {
                    closeBeforeRelay();
                }
            } finally {
                exit();
            }
        }
        manager.sessionClosed(this);
    }

    private void closeBeforeRelay() {
        if (phase == Phase.CLOSED) {
            return;
        }
        phase = Phase.CLOSED;
        authAnswered(false);
        timer.cancel();
        abandonBackend();
        ProtocolHandler closing = handler;
        handler = null;
        login = null;
        clientInput = null;
        if (closing != null) {
            closing.onClose();
        }
    }

    // ================================================================ events from the backend connection

    void backendOpened(IoSession opened) {
        enter();
        try {
            if (phase != Phase.BACKEND || login == null) {
                opened.closeNow(); // the session ended or timed out while connecting
                return;
            }
            backend = opened;
            connecting = null;
            int proxyProtocolVersion = server.backendProxyProtocol();
            if (proxyProtocolVersion != 0) {
                // proxy_protocol on|v2: the header goes first, before anything of the login
                // (nginx: ngx_mail_proxy_send_proxy_protocol from the upstream write handler)
                LOG.debug("*{} sending PROXY protocol v{} header to upstream", id(), proxyProtocolVersion);
                Bytes.write(opened, org.mailproxy.core.proxyprotocol.ProxyHeaderWriter.header(proxyProtocolVersion,
                        clientAddress, localAddress()));
            }
            if (backendTls == org.mailproxy.core.spi.BackendTlsMode.ON) {
                secureBackend(opened); // implicit TLS: the login sees the greeting after the handshake
                if (login == null) {
                    return;
                }
            }
            login.onConnected(new Backend(opened, this));
        } finally {
            exit();
        }
    }

    void backendReceived(IoBuffer data) {
        Relay current = relay;
        if (current != null) {
            current.fromBackend(data);
            return;
        }
        enter();
        try {
            current = relay;
            if (current != null) {
                current.fromBackend(data);
            } else if (phase == Phase.BACKEND && login != null) {
                IoBuffer input = Bytes.concat(backendInput, data);
                backendInput = null;
                login.onData(input);
                if (phase == Phase.BACKEND && input.hasRemaining()) {
                    backendInput = input;
                }
            }
        } finally {
            exit();
        }
    }

    void backendSent() {
        Relay current = relay;
        if (current != null) {
            current.sentToBackend();
            return;
        }
        enter();
        try {
            current = relay;
            if (current != null) {
                current.sentToBackend();
            }
        } finally {
            exit();
        }
    }

    void backendInputClosed(IoSession side) {
        ended("backend closed");
        Relay current = relay;
        if (current != null) {
            current.inputClosed(side);
        } else {
            side.closeNow();
        }
    }

    void backendClosed(IoSession side) {
        Relay current = relay;
        if (current != null) {
            ended("backend closed");
            current.closed(side);
            return;
        }
        enter();
        try {
            current = relay;
            if (current != null) {
                current.closed(side);
            } else if (phase == Phase.BACKEND && login != null && side == backend) {
                LOG.info("*{} upstream closed the connection while logging in", id());
                ended("backend closed during login");
                backend = null;
                failLogin(BackendLogin.Failure.CLOSED);
            }
        } finally {
            exit();
        }
    }

    private void connectFailed(InetSocketAddress address, Throwable cause) {
        enter();
        try {
            if (phase != Phase.BACKEND || login == null || backend != null) {
                return;
            }
            MailLog.log(LOG, "error", id(), MailLog.CONNECTING_UPSTREAM, org.mailproxy.core.spi.Errno.number(cause),
                    org.mailproxy.core.spi.Errno.reason(cause), "connect() to " + text(address) + " failed");
            if (depth > 1) {
                connectFailure = cause; // reported when the current callback returns, not inside it
            } else {
                connecting = null;
                failLogin(BackendLogin.Failure.CONNECT_FAILED);
            }
        } finally {
            exit();
        }
    }

    private void failLogin(BackendLogin.Failure failure) {
        ended("backend " + failure.name().toLowerCase(java.util.Locale.ROOT));
        countError();
        BackendLogin failed = login;
        login = null;
        failed.onClose(failure);
        quit();
    }

    private void abandonBackend() {
        if (connecting != null) {
            connecting.cancel();
            connecting = null;
        }
        if (backend != null) {
            backend.closeNow();
            backend = null;
        }
    }

    // ================================================================ timeout

    /**
     * Counts the {@code timeout} from {@code delay} from now at the earliest, for a protocol that
     * runs a timer of its own first (nginx: {@code smtp_greeting_delay} arms only the delay timer,
     * and {@code timeout} starts with the greeting).
     */
    public void holdTimeout(Duration delay) {
        lock.lock();
        try {
            timeoutHeldUntil = System.currentTimeMillis() + Math.max(0, delay.toMillis());
        } finally {
            lock.unlock();
        }
        timer.arm();
    }

    /** The current {@code timeout} deadline: idle reading before the backend, connect and login after. */
    private long deadline() {
        lock.lock();
        try {
            switch (phase) {
                case PROTOCOL:
                    if (readingSuspended) {
                        return DeadlineTimer.NONE;
                    }
                    // nginx arms the read timer once (at the accept, again with the greeting, after
                    // an auth_http answer) and never for what the client sends: a client trickling
                    // bytes, or chatting without logging in, cannot stretch it
                    if (timeoutHeldUntil > readingSince) {
                        return timeoutHeldUntil + timeoutMillis;
                    }
                    return readingSince + timeoutMillis;
                case BACKEND:
                    return backendSince + timeoutMillis;
                default:
                    return DeadlineTimer.NONE;
            }
        } finally {
            lock.unlock();
        }
    }

    private void timedOut() {
        enter();
        try {
            if (phase == Phase.PROTOCOL) {
                MailLog.timedOut(LOG, id(), "client", authPending ? MailLog.HTTP_AUTH_STATE : MailLog.AUTH_STATE);
                ended("timeout");
                quit();
                if (handler != null) {
                    handler.onTimeout();
                }
            } else if (phase == Phase.BACKEND && login != null) {
                MailLog.timedOut(LOG, id(), "upstream", backend == null ? MailLog.CONNECTING_UPSTREAM
                        : MailLog.READING_UPSTREAM);
                abandonBackend();
                failLogin(BackendLogin.Failure.TIMED_OUT);
            }
        } finally {
            exit();
        }
    }

    // ================================================================ callbacks and the lock

    private void deliver(IoBuffer input) {
        clientInput = null;
        delivering = input;
        try {
            handler.onData(input);
        } finally {
            delivering = null;
        }
        if (phase == Phase.PROTOCOL || phase == Phase.BACKEND) {
            if (input.hasRemaining()) {
                clientInput = input; // reads before the relay are never pooled (PooledReads): keeping one is safe
            }
        }
    }

    /** Stops reading and closes the session when the outermost callback returns. */
    private void quit() {
        quitting = true;
        closeAfterCallback = true;
        connection.suspendRead();
    }

    private void enter() {
        lock.lock();
        if (depth++ == 0) {
            // whatever is logged while this session is handled names its server: per-server
            // error_log files filter on it (see the core's ErrorLogs)
            MDC.put(MDC_SERVER, server.name());
        }
    }

    /**
     * Leaves a callback; the outermost one then does what was asked during it: report a connect
     * failure, hand pending input to the protocol after a resume, close after a quit.
     */
    private void exit() {
        try {
            if (depth == 1) {
                finishCallback();
            }
        } finally {
            if (--depth == 0) {
                MDC.remove(MDC_SERVER);
            }
            lock.unlock();
        }
    }

    private void finishCallback() {
        if (connectFailure != null) {
            connectFailure = null;
            if (phase == Phase.BACKEND && login != null && backend == null) {
                connecting = null;
                failLogin(BackendLogin.Failure.CONNECT_FAILED);
            }
        }
        while (redeliver && phase == Phase.PROTOCOL && !readingSuspended && !quitting && handler != null) {
            redeliver = false;
            if (clientInput != null) {
                deliver(clientInput);
            }
        }
        redeliver = false;
        if (closeAfterCallback) {
            closeAfterCallback = false;
            connection.closeOnFlush();
        }
    }
}
