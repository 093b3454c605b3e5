package org.mailproxy.core.internal;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.net.InetSocketAddress;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.mailproxy.core.config.ConfigBuilder;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.Directive;
import org.mailproxy.core.config.DirectiveRegistry;
import org.mailproxy.core.config.ListenSpec;
import org.mailproxy.core.config.MailConfiguration;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.net.BindingState;
import org.mailproxy.core.net.ListenBinding;
import org.mailproxy.core.net.ListenerSet;
import org.mailproxy.core.net.ServableListens;
import org.mailproxy.core.config.RealIpModule;
import org.mailproxy.core.proxyprotocol.ProxyHeaderWriter;
import org.mailproxy.core.proxyprotocol.ProxyProtocolConnections;
import org.mailproxy.core.session.ConnectionInitializer;
import org.mailproxy.core.session.MailServer;
import org.mailproxy.core.tls.BackendTls;
import org.mailproxy.core.tls.ServerTls;
import org.mailproxy.core.tls.TlsConnections;
import org.mailproxy.core.tls.TlsContextBuilder;
import org.mailproxy.core.session.SessionLimits;
import org.mailproxy.core.session.SessionManager;
import org.mailproxy.core.spi.IoThreads;
import org.mailproxy.core.spi.MailModule;
import org.mailproxy.core.spi.MailProtocol;
import org.mailproxy.core.admin.MailAdmin;
import org.mailproxy.core.errorlog.EntryFactory;
import org.mailproxy.core.errorlog.ErrorLogRouter;
import org.mailproxy.core.errorlog.LogContext;
import org.mailproxy.core.errorlog.PaxErrorLogAppender;
import org.mailproxy.core.errorlog.SessionFacts;
import org.mailproxy.core.session.MailSession;
import org.ops4j.pax.logging.spi.PaxAppender;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running mail proxy: turns the mail configurations in Config Admin into listening sockets
 * and servers (nginx: the cycle built from {@code ngx_mail_block}).
 *
 * <ul>
 * <li>{@link ConfFileSource} keeps Config Admin in line with {@code etc/mail.conf} (system
 *     property {@value #CONF_PROPERTY}, default {@code ${karaf.etc}/mail.conf});</li>
 * <li>{@link ConfigAdminBlocks} receives the {@code mail} and {@code server} configurations;</li>
 * <li>every change (a configuration, a module or protocol service coming or going) schedules one
 *     rebuild, {@value #SETTLE_MILLIS} ms later so that a burst of changes is applied at once: the
 *     blocks are merged and validated with the directive tables of the modules present; an invalid
 *     result is logged with its file:line and the running servers stay as they are; a valid one
 *     is applied to the {@link ListenerSet}, which keeps unchanged sockets bound.</li>
 * </ul>
 * A server whose protocol module is not running is inactive: it binds nothing, and the log says
 * why. Sessions keep the server configuration they started with; relaying sessions outlive their
 * protocol bundle.
 */
@Component(immediate = true, service = {})
public final class MailRuntime {

    static final String CONF_PROPERTY = "mailproxy.conf";
    static final long SETTLE_MILLIS = 200;
    private static final long POLL_MILLIS = 1000;
    private static final Logger LOG = LoggerFactory.getLogger(MailRuntime.class);

    private final DirectiveRegistry registry = DirectiveRegistry.withCoreModules();
    private final Map<String, MailProtocol> protocols = new ConcurrentHashMap<>();
    private final ScheduledExecutorService configThread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "mail-config");
        t.setDaemon(true);
        return t;
    });

    @Reference
    private ConfigurationAdmin configAdmin;

    private SessionManager sessions;
    private ListenerSet listeners;
    private ConfigAdminBlocks blocks;
    private ConfFileSource fileSource;
    private ErrorLogs errorLogs;
    private ScheduledFuture<?> pendingRebuild;
    private volatile boolean active;
    /** Server state by configuration PID, as of the last successful rebuild (config thread only). */
    private volatile Map<String, ServerState> servers = Map.of();
    private ServiceRegistration<MailAdmin> adminRegistration;
    private ServiceRegistration<PaxAppender> appenderRegistration;
    private ServiceRegistration<IoThreads> ioThreadsRegistration;

    @Activate
    void activate(BundleContext context) {
        sessions = new SessionManager();
        // the PROXY protocol reader last: it goes first in the chain, before TLS
        sessions.setConnectionInitializer(ConnectionInitializer.inOrder(new TlsConnections(),
                new ProxyProtocolConnections()));
        listeners = new ListenerSet(sessions.ioProcessor(), sessions.clientHandler());
        ioThreadsRegistration = context.registerService(IoThreads.class, sessions.ioThreads(), null);
        active = true;
        ErrorLogRouter router = new ErrorLogRouter();
        errorLogs = new ErrorLogs(configAdmin, Paths.get(Objects.requireNonNullElse(context.getProperty("karaf.base"), ".")),
                router);
        Hashtable<String, Object> appenderProps = new Hashtable<>();
        appenderProps.put(PaxErrorLogAppender.NAME_PROPERTY, PaxErrorLogAppender.NAME);
        appenderRegistration = context.registerService(PaxAppender.class,
                new PaxErrorLogAppender(new EntryFactory(this::sessionFacts), router), appenderProps);
        blocks = new ConfigAdminBlocks(this::scheduleRebuild);
        blocks.register(context);
        fileSource = new ConfFileSource(confFile(context), configAdmin, () -> registry, ServableListens::check);
        fileSource.start(POLL_MILLIS);
        // management: the session log and the MailAdmin service (console, JMX)
        String logDir = Objects.requireNonNullElse(context.getProperty("karaf.log"),
                Paths.get(Objects.requireNonNullElse(context.getProperty("karaf.base"), "."), "data", "log").toString());
        configThread.execute(() -> SessionLogAppender.ensure(configAdmin, Paths.get(logDir).toAbsolutePath()));
        sessions.setCloseListener(new SessionLog());
        adminRegistration = context.registerService(MailAdmin.class, new MailAdminImpl(() -> servers.values(),
                listeners, sessions, registry, this::reload, fileSource.file()), null);
        LOG.info("mail proxy started, configuration file {}", fileSource.file());
    }

    @Deactivate
    void deactivate() {
        active = false;
        if (appenderRegistration != null) {
            try {
                appenderRegistration.unregister();
            } catch (IllegalStateException e) {
                // unregistered already by the stopping framework
            }
        }
        if (adminRegistration != null) {
            try {
                adminRegistration.unregister();
            } catch (IllegalStateException e) {
                // the bundle is stopping and the framework has unregistered it already
            }
        }
        if (ioThreadsRegistration != null) {
            try {
                ioThreadsRegistration.unregister(); // modules let go of the threads before they stop
            } catch (IllegalStateException e) {
                // unregistered already by the stopping framework
            }
        }
        fileSource.close();
        blocks.close();
        configThread.shutdownNow();
        try {
            configThread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        listeners.close();
        sessions.close();
        LOG.info("mail proxy stopped");
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addModule(MailModule module) {
        if (!(module instanceof MailProtocol)) {
            register(module);
        }
    }

    void removeModule(MailModule module) {
        if (!(module instanceof MailProtocol)) {
            registry.remove(module);
            scheduleRebuild();
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addProtocol(MailProtocol protocol) {
        protocols.put(protocol.name(), protocol);
        register(protocol);
    }

    void removeProtocol(MailProtocol protocol) {
        protocols.remove(protocol.name(), protocol);
        registry.remove(protocol);
        scheduleRebuild();
        if (sessions != null) {
            int closed = sessions.closeSessions(protocol);
            if (closed > 0) {
                LOG.info("protocol module \"{}\" stopped: {} session(s) before login closed", protocol.name(), closed);
            }
        }
    }

    private void register(MailModule module) {
        try {
            if (registry.modules().contains(module)) {
                return;
            }
            registry.add(module);
            LOG.info("mail module \"{}\" is active", module.name());
        } catch (IllegalArgumentException e) {
            LOG.error("mail module \"{}\" not registered: {}", module.name(), e.getMessage());
            return;
        }
        scheduleRebuild();
    }

    private synchronized void scheduleRebuild() {
        if (!active) {
            return;
        }
        if (pendingRebuild != null) {
            pendingRebuild.cancel(false);
        }
        pendingRebuild = configThread.schedule(this::rebuild, SETTLE_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Re-reads the configuration file now (for the console's reload). */
    ConfFileSource.Result reload() {
        return fileSource.reload();
    }

    private void rebuild() {
        ConfigAdminBlocks.Snapshot snapshot = blocks.snapshot();
        List<String> pids = new ArrayList<>(snapshot.servers().keySet());
        MailConfiguration config;
        try {
            List<Directive> top = new ArrayList<>(snapshot.mail() == null ? List.of()
                    : BlockProperties.mainDirectives(snapshot.mail(), ConfFileSource.MAIL_PID));
            top.add(mailBlock(snapshot, pids));
            config = ConfigBuilder.build(top, registry);
            ServableListens.check(config);
        } catch (ConfigException | IllegalArgumentException e) {
            LOG.error("{}; the mail configuration in Config Admin is rejected, the running configuration is kept",
                    e.getMessage());
            return;
        } catch (RuntimeException e) {
            LOG.error("applying the mail configuration failed, the running configuration is kept", e);
            return;
        }
        apply(config, pids);
    }

    /** {@code mail { <mail block> server {...} ... }} rebuilt from the configurations. */
    private static Directive mailBlock(ConfigAdminBlocks.Snapshot snapshot, List<String> pids) throws ConfigException {
        List<Directive> body = new ArrayList<>();
        String mailFile = ConfFileSource.MAIL_PID;
        int mailLine = 0;
        if (snapshot.mail() != null) {
            body.addAll(BlockProperties.toDirectives(snapshot.mail(), ConfFileSource.MAIL_PID));
            String[] at = BlockProperties.blockLocation(snapshot.mail(), ConfFileSource.MAIL_PID);
            mailFile = at[0];
            mailLine = parseInt(at[1]);
        }
        for (String pid : pids) {
            Dictionary<String, ?> props = snapshot.servers().get(pid);
            String[] at = BlockProperties.blockLocation(props, pid);
            body.add(new Directive("server", List.of(), BlockProperties.toDirectives(props, pid), at[0], parseInt(at[1])));
        }
        return new Directive("mail", List.of(), body, mailFile, mailLine);
    }

    private void apply(MailConfiguration config, List<String> pids) {
        Map<String, ServerState> next = new LinkedHashMap<>();
        List<ListenBinding> bindings = new ArrayList<>();
        for (int i = 0; i < pids.size(); i++) {
            String pid = pids.get(i);
            ServerConfig server = config.servers().get(i);
            ServerState previous = servers.get(pid);
            MailProtocol protocol = protocols.get(server.protocol());
            String inactive = inactiveReason(server, protocol);
            ServerTls tls = null;
            BackendTls upstreamTls = null;
            if (inactive == null) {
                try {
                    tls = TlsContextBuilder.build(server); // anew on every change: certificates may be renewed
                    upstreamTls = BackendTls.build(server);
                } catch (ConfigException e) {
                    inactive = e.getMessage();
                }
            }
            MailServer mailServer = null;
            if (inactive == null) {
                mailServer = previous != null && previous.mailServer() != null
                        && previous.config().equals(server) && previous.mailServer().protocol() == protocol
                        ? previous.mailServer()
                        : new MailServer(describe(server), protocol, server, SessionLimits.of(server));
                mailServer.setTls(tls);
                mailServer.setUpstreamTls(upstreamTls);
                mailServer.setRealIpFrom(server.get(RealIpModule.SET_REAL_IP_FROM));
                mailServer.setBackendProxyProtocol(ProxyHeaderWriter.version(server.get("proxy_protocol")));
                for (ListenSpec listen : server.listens()) {
                    bindings.add(new ListenBinding(listen, mailServer));
                }
            }
            next.put(pid, new ServerState(pid, server, mailServer, inactive));
        }
        errorLogs.apply(config);
        List<BindingState> states = listeners.apply(bindings);
        for (BindingState state : states) {
            if (!state.bound()) {
                LOG.error("{} ({} in {}:{})", state.error(), describe(server(state)), state.binding().spec().file(),
                        state.binding().spec().line());
            }
        }
        for (ServerState state : next.values()) {
            ServerState previous = servers.get(state.pid());
            if (state.inactiveReason() != null && (previous == null
                    || !Objects.equals(previous.inactiveReason(), state.inactiveReason()))) {
                LOG.warn("server {} in {}:{} is inactive: {}", describe(state.config()), state.config().file(),
                        state.config().line(), state.inactiveReason());
            }
        }
        servers = next;
        config.notes().forEach(n -> LOG.debug("{}", n));
        long activeCount = next.values().stream().filter(s -> s.inactiveReason() == null).count();
        LOG.info("mail configuration applied: {} server(s), {} active", next.size(), activeCount);
        errorLogs.applyLoggerLevel();
    }

    private static ServerConfig server(BindingState state) {
        return ((MailServer) state.binding().serverKey()).settings(ServerConfig.class);
    }

    private static String inactiveReason(ServerConfig server, MailProtocol protocol) {
        if (protocol == null) {
            return "protocol module \"" + server.protocol() + "\" is not active";
        }
        return null;
    }

    /** What the error logs add to a message of session {@code id}; null when it is gone. */
    private SessionFacts sessionFacts(long id) {
        SessionManager manager = sessions;
        MailSession session = manager == null ? null : manager.session(id);
        if (session == null) {
            return null;
        }
        List<String> tags = new ArrayList<>();
        tags.add("mail");
        ServerConfig config = session.server().settings() instanceof ServerConfig c ? c : null;
        List<String> userTags = config == null ? null : config.get("error_log_user_tag");
        if (userTags != null) {
            userTags.stream().filter(t -> !tags.contains(t)).forEach(tags::add);
        }
        InetSocketAddress client = session.clientAddress();
        InetSocketAddress local = session.localAddress();
        InetSocketAddress backend = session.backendAddress();
        return new SessionFacts(session.server().name(), tags, new LogContext(null,
                client == null ? null : client.getAddress() == null ? client.getHostString()
                        : client.getAddress().getHostAddress(),
                client == null ? 0 : client.getPort(),
                local == null ? null : SessionLog.address(local), session.user(),
                backend == null ? null : SessionLog.address(backend)));
    }

    /** {@code imap 127.0.0.1:1143}: the protocol and the first listen address. */
    static String describe(ServerConfig server) {
        return server.protocol() + " " + (server.listens().isEmpty() ? "-" : server.listens().get(0).addressText());
    }

    private static Path confFile(BundleContext context) {
        String conf = context.getProperty(CONF_PROPERTY);
        if (conf == null || conf.isBlank()) {
            String etc = context.getProperty("karaf.etc");
            return Paths.get(etc == null ? "etc" : etc, "mail.conf").toAbsolutePath();
        }
        return Paths.get(conf).toAbsolutePath();
    }

    private static int parseInt(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** One configured server and whether it serves. */
    record ServerState(String pid, ServerConfig config, MailServer mailServer, String inactiveReason) {
    }
}
