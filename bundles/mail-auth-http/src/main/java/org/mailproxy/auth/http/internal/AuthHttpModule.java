package org.mailproxy.auth.http.internal;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.mailproxy.auth.http.AuthHttpMetrics;
import org.mailproxy.auth.http.AuthHttpStats;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.Context;
import org.mailproxy.core.config.DirectiveSpec;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.spi.AuthRequest;
import org.mailproxy.core.spi.AuthResult;
import org.mailproxy.core.spi.Authenticator;
import org.mailproxy.core.spi.IoThreads;
import org.mailproxy.core.spi.MailModule;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * nginx's {@code ngx_mail_auth_http_module} as a DS component: the {@code auth_http*} directives
 * (registered in the core's directive registry while this bundle runs) and an
 * {@link Authenticator} that asks the configured HTTP server about each login.
 *
 * <p>Directives, all in {@code mail} and {@code server}, inherited by servers:
 * <ul>
 * <li>{@code auth_http URL} ({@link AuthHttpUrl}); required: a server without one is refused with
 *     {@code no "auth_http" is defined for server in FILE:LINE}. As in nginx a repeated
 *     {@code auth_http} is no error, the last one counts;</li>
 * <li>{@code auth_http_header name value}, repeatable; a server that has any does not inherit the
 *     mail block's;</li>
 * <li>{@code auth_http_pass_client_cert on|off} (off);</li>
 * <li>{@code auth_http_timeout time} (60s): for each HTTP request, connect to last header byte;</li>
 * <li>{@code auth_http_keepalive on|off} (on), beyond nginx: ask the auth server to keep the TCP
 *     or unix-socket connection and reuse it when it agrees ({@link KeepAlive}); {@code off} opens a new
 *     connection for every request and sends nginx's request byte for byte.</li>
 * </ul>
 *
 * <p>The component owns its transports (a MINA {@link org.apache.mina.transport.socket.SocketConnector}
 * on the core's I/O threads with a pool of kept-alive connections per auth_http address and
 * thread, and a selector thread for unix sockets, with their own pools) and a timer thread,
 * created on activation and released on deactivation; authentications
 * still under way then end with a temporary error, kept connections are closed.
 */
@Component(service = {Authenticator.class, MailModule.class, AuthHttpMetrics.class})
public final class AuthHttpModule implements Authenticator, AuthHttpMetrics {

    /** The module name, as {@link org.mailproxy.core.config.OptionalModules} knows it. */
    public static final String NAME = "auth_http";

    static final String AUTH_HTTP = "auth_http";
    static final String AUTH_HTTP_HEADER = "auth_http_header";
    static final String AUTH_HTTP_PASS_CLIENT_CERT = "auth_http_pass_client_cert";
    static final String AUTH_HTTP_TIMEOUT = "auth_http_timeout";
    static final String AUTH_HTTP_KEEPALIVE = "auth_http_keepalive";

    private static final List<DirectiveSpec> DIRECTIVES = List.of(
            DirectiveSpec.builder(AUTH_HTTP).context(Context.MAIL, Context.SERVER).takes(1).repeatable()
                    .parser(AuthHttpUrl::parse).build(),
            DirectiveSpec.builder(AUTH_HTTP_HEADER).context(Context.MAIL, Context.SERVER).takes(2).repeatable()
                    .parser(AuthHttpHeader::parse).build(),
            DirectiveSpec.builder(AUTH_HTTP_PASS_CLIENT_CERT).context(Context.MAIL, Context.SERVER).flag()
                    .defaultValue(Boolean.FALSE).build(),
            DirectiveSpec.builder(AUTH_HTTP_TIMEOUT).context(Context.MAIL, Context.SERVER).time()
                    .defaultValue(Duration.ofSeconds(60)).build(),
            DirectiveSpec.builder(AUTH_HTTP_KEEPALIVE).context(Context.MAIL, Context.SERVER).flag()
                    .defaultValue(Boolean.TRUE).build());

    /** The core's I/O threads, where the auth_http connections run (null in unit tests: threads of its own). */
    @Reference
    private IoThreads ioThreads;

    private final AuthLog log;
    private final KeepAlive.Limits keepAlive;
    private final Counters counters = new Counters();
    private volatile Running running;

    public AuthHttpModule() {
        this(new AuthLog());
    }

    AuthHttpModule(AuthLog log) {
        this(log, KeepAlive.Limits.DEFAULT);
    }

    /** With other pool limits (the tests'). */
    AuthHttpModule(AuthLog log, KeepAlive.Limits keepAlive) {
        this.log = log;
        this.keepAlive = keepAlive;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<DirectiveSpec> directives() {
        return DIRECTIVES;
    }

    /** nginx's {@code ngx_mail_auth_http_merge_conf}: every server needs an auth_http. */
    @Override
    public void validate(ServerConfig server) throws ConfigException {
        List<?> urls = server.get(AUTH_HTTP);
        if (urls == null || urls.isEmpty()) {
            throw new ConfigException("no \"auth_http\" is defined for server", server.file(), server.line());
        }
    }

    /** Creates the transports and the timer. */
    @Activate
    public synchronized void start() {
        if (running == null) {
            running = new Running(ioThreads, counters, keepAlive);
        }
    }

    /** Ends the authentications under way (temporary error) and releases threads and sockets. */
    @Deactivate
    public synchronized void stop() {
        Running r = running;
        running = null;
        if (r != null) {
            r.close();
        }
    }

    @Override
    public AuthHttpStats stats() {
        return counters.snapshot();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Cancelling the returned future ({@code toCompletableFuture().cancel(false)}, e.g. when the
     * client goes away) closes the connection to the auth server and stops WAIT re-sends.
     */
    @Override
    public CompletionStage<AuthResult> authenticate(AuthRequest request, ServerConfig server) {
        Running r = running;
        if (r == null) {
            return later(null, new AuthResult.TemporaryError("auth_http module is stopped"));
        }
        AuthHttpSettings settings;
        try {
            settings = AuthHttpSettings.of(server);
        } catch (RuntimeException e) {
            // a server built while this module was absent, or by an earlier instance of it
            String message = "auth_http settings are not available for the server in " + server.file() + ":"
                    + server.line() + " (" + e.getClass().getSimpleName() + "), the configuration was built without"
                    + " the auth_http module";
            log.error(request, message);
            counters.temporaryErrors.increment();
            return later(r, new AuthResult.TemporaryError(message));
        }
        if (settings.url() == null) {
            String message = "no \"auth_http\" is defined for server in " + server.file() + ":" + server.line();
            log.error(request, message);
            counters.temporaryErrors.increment();
            return later(r, new AuthResult.TemporaryError(message));
        }
        byte[] bytes;
        try {
            bytes = AuthHttpRequest.build(request, settings);
        } catch (IllegalArgumentException e) {
            log.error(request, e.getMessage());
            counters.temporaryErrors.increment();
            return later(r, new AuthResult.TemporaryError(e.getMessage()));
        }
        AuthExchange exchange = new AuthExchange(r, request, settings, bytes, log);
        if (!r.track(exchange)) {
            return later(null, new AuthResult.TemporaryError("auth_http module is stopped"));
        }
        exchange.start();
        return exchange.result();
    }

    /** A result completed on another thread, as the Authenticator contract promises. */
    private static CompletableFuture<AuthResult> later(Running r, AuthResult result) {
        CompletableFuture<AuthResult> f = new CompletableFuture<>();
        try {
            if (r != null) {
                r.scheduler().execute(() -> f.complete(result));
                return f;
            }
        } catch (RuntimeException e) {
            // stopping: fall back to the common pool
        }
        return f.completeAsync(() -> result);
    }

    /** What exists while the component is active. */
    static final class Running {
        private final Counters counters;
        private final KeepAlive.Limits keepAlive;
        private final ScheduledThreadPoolExecutor scheduler;
        private final MinaTransport tcp;
        private final UnixTransport unix;
        private final Set<AuthExchange> exchanges = ConcurrentHashMap.newKeySet();
        private volatile boolean closed;

        Running(IoThreads ioThreads, Counters counters, KeepAlive.Limits keepAlive) {
            this.counters = counters;
            this.keepAlive = keepAlive;
            scheduler = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "auth-http-timer");
                t.setDaemon(true);
                return t;
            });
            scheduler.setRemoveOnCancelPolicy(true);
            tcp = new MinaTransport(ioThreads, scheduler, counters, keepAlive);
            unix = new UnixTransport(scheduler, counters, keepAlive);
        }

        Counters counters() {
            return counters;
        }

        KeepAlive.Limits keepAliveLimits() {
            return keepAlive;
        }

        ScheduledExecutorService scheduler() {
            return scheduler;
        }

        Transport transport(AuthHttpUrl url) {
            return url.isUnix() ? unix : tcp;
        }

        boolean track(AuthExchange exchange) {
            exchanges.add(exchange);
            if (closed) {
                exchanges.remove(exchange);
                return false;
            }
            return true;
        }

        void forget(AuthExchange exchange) {
            exchanges.remove(exchange);
        }

        void close() {
            closed = true;
            for (AuthExchange exchange : exchanges) {
                exchange.abort("auth_http module is stopped");
            }
            unix.close();
            tcp.close();
            scheduler.shutdownNow();
        }
    }
}
