package org.mailproxy.core.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.mailproxy.core.admin.CheckResult;
import org.mailproxy.core.admin.ConfigValue;
import org.mailproxy.core.admin.MailAdmin;
import org.mailproxy.core.admin.ServerInfo;
import org.mailproxy.core.admin.SessionFilter;
import org.mailproxy.core.admin.SessionInfo;
import org.mailproxy.core.admin.TrafficStats;
import org.mailproxy.core.config.ConfigCheck;
import org.mailproxy.core.config.DirectiveRegistry;
import org.mailproxy.core.config.ErrorLog;
import org.mailproxy.core.config.ListenSpec;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.config.ValueOrigin;
import org.mailproxy.core.net.BindingState;
import org.mailproxy.core.net.ListenerSet;
import org.mailproxy.core.session.MailServer;
import org.mailproxy.core.session.MailSession;
import org.mailproxy.core.session.SessionCounters;
import org.mailproxy.core.session.SessionManager;

/** The {@link MailAdmin} service over the state {@link MailRuntime} keeps. */
final class MailAdminImpl implements MailAdmin {

    private final Supplier<Collection<MailRuntime.ServerState>> servers;
    private final ListenerSet listeners;
    private final SessionManager sessions;
    private final DirectiveRegistry registry;
    private final Supplier<ConfFileSource.Result> reload;
    private final Path file;

    MailAdminImpl(Supplier<Collection<MailRuntime.ServerState>> servers, ListenerSet listeners, SessionManager sessions,
                  DirectiveRegistry registry, Supplier<ConfFileSource.Result> reload, Path file) {
        this.servers = servers;
        this.listeners = listeners;
        this.sessions = sessions;
        this.registry = registry;
        this.reload = reload;
        this.file = file;
    }

    /** {@code 127.0.0.1_1143} for PID {@code org.mailproxy.server~127.0.0.1_1143}. */
    static String shortName(String pid) {
        int tilde = pid.lastIndexOf('~');
        return tilde >= 0 ? pid.substring(tilde + 1) : pid;
    }

    @Override
    public List<ServerInfo> servers() {
        List<BindingState> states = listeners.states();
        List<ServerInfo> out = new ArrayList<>();
        for (MailRuntime.ServerState state : servers.get()) {
            ServerConfig config = state.config();
            MailServer server = state.mailServer();
            List<String> bindErrors = new ArrayList<>();
            int bound = 0;
            if (server != null) {
                for (BindingState b : states) {
                    if (b.binding().serverKey() == server) {
                        if (b.bound()) {
                            bound++;
                        } else {
                            bindErrors.add(b.binding().spec().addressText() + ": " + b.error());
                        }
                    }
                }
            }
            String reason = state.inactiveReason();
            if (reason == null && bound == 0) {
                reason = config.listens().isEmpty() ? "no listen" : "bind failed";
            }
            out.add(new ServerInfo(shortName(state.pid()), state.pid(), MailRuntime.describe(config), config.protocol(),
                    config.listens().stream().map(ListenSpec::addressText).toList(), reason == null, reason, bindErrors,
                    server == null ? 0 : server.currentSessions(), server == null ? 0 : server.totalSessions(),
                    config.file() + ":" + config.line()));
        }
        return out;
    }

    @Override
    public List<SessionInfo> sessions(SessionFilter filter) {
        SessionFilter f = filter == null ? SessionFilter.ALL : filter;
        Map<MailServer, ServerInfo> byServer = serverInfos();
        long now = System.currentTimeMillis();
        List<SessionInfo> out = new ArrayList<>();
        for (MailSession s : sessions.sessions()) {
            ServerInfo info = byServer.get(s.server());
            String serverName = info != null ? info.name() : s.server().name();
            if (f.server() != null && !(info != null ? info.matches(f.server()) : f.server().equals(serverName))) {
                continue;
            }
            String protocol = s.server().protocol().name();
            if (f.protocol() != null && !f.protocol().equalsIgnoreCase(protocol)) {
                continue;
            }
            if (f.user() != null && !f.user().equals(s.user())) {
                continue;
            }
            out.add(new SessionInfo(s.id(), serverName, protocol, SessionLog.address(s.clientAddress()), s.user(),
                    s.state().name().toLowerCase(Locale.ROOT).replace('_', ' '), SessionLog.address(s.backendAddress()),
                    s.bytesFromClient(), s.bytesFromBackend(), now - s.startMillis(), s.tlsServerName()));
        }
        out.sort(Comparator.comparingLong(SessionInfo::id));
        return out;
    }

    private Map<MailServer, ServerInfo> serverInfos() {
        Map<MailServer, ServerInfo> map = new IdentityHashMap<>();
        List<ServerInfo> infos = servers();
        int i = 0;
        for (MailRuntime.ServerState state : servers.get()) {
            if (i < infos.size() && state.mailServer() != null) {
                map.put(state.mailServer(), infos.get(i));
            }
            i++;
        }
        return map;
    }

    @Override
    public boolean kill(long sessionId) {
        MailSession session = sessions.session(sessionId);
        if (session == null) {
            return false;
        }
        session.kill();
        return true;
    }

    @Override
    public List<TrafficStats> serverStats() {
        List<TrafficStats> out = new ArrayList<>();
        for (MailRuntime.ServerState state : servers.get()) {
            MailServer server = state.mailServer();
            String name = shortName(state.pid());
            if (server == null) {
                out.add(new TrafficStats(name, 0, 0, 0, 0, 0, 0, 0, 0));
                continue;
            }
            long fromClients = 0;
            long fromBackends = 0;
            for (MailSession s : sessions.sessions()) {
                if (s.server() == server) {
                    fromClients += s.bytesFromClient();
                    fromBackends += s.bytesFromBackend();
                }
            }
            out.add(stats(name, server.counters(), fromClients, fromBackends));
        }
        return out;
    }

    @Override
    public List<TrafficStats> protocolStats() {
        List<TrafficStats> out = new ArrayList<>();
        Map<String, SessionCounters> counters = sessions.protocolCounters();
        for (String protocol : new TreeSet<>(counters.keySet())) {
            long fromClients = 0;
            long fromBackends = 0;
            for (MailSession s : sessions.sessions()) {
                if (s.server().protocol().name().equals(protocol)) {
                    fromClients += s.bytesFromClient();
                    fromBackends += s.bytesFromBackend();
                }
            }
            out.add(stats(protocol, counters.get(protocol), fromClients, fromBackends));
        }
        return out;
    }

    @Override
    public TrafficStats totals() {
        long ok = 0;
        long failed = 0;
        long timeouts = 0;
        long errors = 0;
        for (SessionCounters c : sessions.protocolCounters().values()) {
            ok += c.authOk();
            failed += c.authFailed();
            timeouts += c.authTimeouts();
            errors += c.errors();
        }
        return new TrafficStats("total", sessions.currentSessions(), sessions.totalSessions(), ok, failed, timeouts, errors,
                sessions.bytesFromClients(), sessions.bytesFromBackends());
    }

    private static TrafficStats stats(String name, SessionCounters c, long liveFromClients, long liveFromBackends) {
        return new TrafficStats(name, c.current(), c.total(), c.authOk(), c.authFailed(), c.authTimeouts(), c.errors(),
                c.finishedBytesFromClients() + liveFromClients, c.finishedBytesFromBackends() + liveFromBackends);
    }

    @Override
    public Optional<List<ConfigValue>> config(String server) {
        for (MailRuntime.ServerState state : servers.get()) {
            ServerConfig config = state.config();
            if (server.equals(shortName(state.pid())) || server.equals(state.pid())
                    || server.equals(MailRuntime.describe(config))
                    || config.listens().stream().anyMatch(l -> l.addressText().equals(server))) {
                return Optional.of(values(config));
            }
        }
        return Optional.empty();
    }

    static List<ConfigValue> values(ServerConfig config) {
        List<ConfigValue> out = new ArrayList<>();
        for (ListenSpec listen : config.listens()) {
            out.add(new ConfigValue("listen", listen.addressText(), "server", listen.file() + ":" + listen.line()));
        }
        for (String name : new TreeSet<>(config.directiveNames())) {
            if (name.equals("listen")) {
                continue;
            }
            ValueOrigin origin = config.origin(name);
            String source = origin == null ? "default" : origin.source().name().toLowerCase(Locale.ROOT);
            String location = origin == null || origin.file() == null ? null : origin.file() + ":" + origin.line();
            out.add(new ConfigValue(name, text(config.get(name)), source, location));
        }
        return out;
    }

    /** A value in nginx notation: {@code 30s}, {@code on}, lists space-separated. */
    static String text(Object value) {
        if (value == null) {
            return "-";
        }
        if (value instanceof Duration d) {
            long ms = d.toMillis();
            if (ms == 0) {
                return "0s";
            }
            if (ms % 3_600_000 == 0) {
                return ms / 3_600_000 + "h";
            }
            if (ms % 60_000 == 0) {
                return ms / 60_000 + "m";
            }
            if (ms % 1000 == 0) {
                return ms / 1000 + "s";
            }
            return ms + "ms";
        }
        if (value instanceof Boolean b) {
            return b ? "on" : "off";
        }
        if (value instanceof ErrorLog log) {
            return log.target() + " " + log.level();
        }
        if (value instanceof Collection<?> list) {
            List<String> parts = new ArrayList<>();
            for (Object o : list) {
                parts.add(text(o));
            }
            return parts.isEmpty() ? "-" : String.join(" ", parts);
        }
        return String.valueOf(value);
    }

    @Override
    public CheckResult check(String path) {
        // a relative path is taken from the working directory, Karaf's base directory, as nginx -c does
        Path target = path == null || path.isBlank() ? file : Path.of(path).toAbsolutePath().normalize();
        ConfigCheck.Result result = ConfigCheck.check(target, registry, false);
        return new CheckResult(result.status() == 0, result.lines());
    }

    @Override
    public CheckResult reload() {
        ConfFileSource.Result result = reload.get();
        return new CheckResult(result.ok(), List.of(result.message()));
    }

    @Override
    public String configurationFile() {
        return file.toString();
    }
}
