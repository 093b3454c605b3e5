package org.mailproxy.shell.jmx;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.management.DynamicMBean;
import javax.management.NotCompliantMBeanException;
import org.mailproxy.core.admin.CheckResult;
import org.mailproxy.core.admin.MailAdmin;
import org.mailproxy.core.admin.ServerInfo;
import org.mailproxy.core.admin.SessionFilter;
import org.mailproxy.core.admin.TrafficStats;
import org.mailproxy.shell.internal.Format;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * The MBeans over the core's {@link MailAdmin}: {@code org.mailproxy:type=Proxy}, one
 * {@code type=Server,name=NAME} per configured server and one {@code type=Protocol,name=P} per
 * protocol that has had sessions; servers and protocols are looked at again every
 * {@value #REFRESH_SECONDS} s.
 */
@Component(immediate = true, service = {})
public final class MailMBeans {

    static final long REFRESH_SECONDS = 2;

    @Reference
    private MailAdmin admin;

    private ServiceRegistration<DynamicMBean> proxy;
    private Registrations servers;
    private Registrations protocols;
    private ScheduledExecutorService timer;

    @Activate
    void activate(BundleContext context) throws NotCompliantMBeanException {
        proxy = Registrations.register(context, ObjectNames.PROXY,
                new DescribedMBean<>(new Proxy(), ProxyMBean.class, "The mail proxy: sessions, totals, reload, check, kill",
                        Descriptions.PROXY));
        servers = new Registrations(context, ObjectNames::server, name -> mbean(new Server(name), ServerMBean.class,
                "A mail server (server block)", Descriptions.TRAFFIC));
        protocols = new Registrations(context, ObjectNames::protocol, name -> mbean(
                new Traffic(name, () -> admin.protocolStats().stream().filter(s -> s.name().equals(name)).findFirst()),
                TrafficMBean.class, "A mail protocol, all its servers together", Descriptions.TRAFFIC));
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mail-jmx-refresh");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::refresh, 0, REFRESH_SECONDS, TimeUnit.SECONDS);
    }

    @Deactivate
    void deactivate() {
        timer.shutdownNow();
        servers.close();
        protocols.close();
        Registrations.unregister(proxy);
    }

    private void refresh() {
        try {
            Set<String> names = new LinkedHashSet<>();
            admin.servers().forEach(s -> names.add(s.name()));
            servers.sync(names);
            Set<String> protos = new LinkedHashSet<>();
            admin.protocolStats().forEach(s -> protos.add(s.name()));
            protocols.sync(protos);
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(MailMBeans.class).warn("refreshing the mail MBeans failed: {}", e.toString());
        }
    }

    private static <T> DynamicMBean mbean(T impl, Class<T> type, String description, java.util.Map<String, String> texts) {
        try {
            return new DescribedMBean<>(impl, type, description, texts);
        } catch (NotCompliantMBeanException e) {
            throw new IllegalStateException(e);
        }
    }

    private final class Proxy implements ProxyMBean {
        private TrafficStats totals() {
            return admin.totals();
        }

        @Override public long getCurrentSessions() { return totals().currentConnections(); }
        @Override public long getTotalSessions() { return totals().totalConnections(); }
        @Override public long getAuthOk() { return totals().authOk(); }
        @Override public long getAuthFailed() { return totals().authFailed(); }
        @Override public long getAuthTimeouts() { return totals().authTimeouts(); }
        @Override public long getErrors() { return totals().errors(); }
        @Override public long getBytesFromClients() { return totals().bytesFromClients(); }
        @Override public long getBytesFromBackends() { return totals().bytesFromBackends(); }
        @Override public String getConfigurationFile() { return admin.configurationFile(); }

        @Override
        public String[] getSessions() {
            return admin.sessions(SessionFilter.ALL).stream()
                    .map(s -> s.id() + " " + s.server() + " " + s.protocol() + " " + s.client() + " "
                            + Format.dash(s.user()) + " " + s.state().replace(' ', '_') + " " + Format.dash(s.backend())
                            + " " + s.bytesFromClient() + " " + s.bytesFromBackend() + " " + Format.age(s.ageMillis()))
                    .toArray(String[]::new);
        }

        @Override public boolean killSession(long id) { return admin.kill(id); }

        @Override
        public String reload() {
            return text(admin.reload());
        }

        @Override
        public String check(String file) {
            return text(admin.check(file == null || file.isBlank() ? null : file));
        }

        private String text(CheckResult result) {
            return String.join("\n", result.lines());
        }
    }

    private static class Traffic implements TrafficMBean {
        final String name;
        private final Supplier<Optional<TrafficStats>> stats;

        Traffic(String name, Supplier<Optional<TrafficStats>> stats) {
            this.name = name;
            this.stats = stats;
        }

        private TrafficStats s() {
            return stats.get().orElse(new TrafficStats(name, 0, 0, 0, 0, 0, 0, 0, 0));
        }

        @Override public String getName() { return name; }
        @Override public long getCurrentConnections() { return s().currentConnections(); }
        @Override public long getTotalConnections() { return s().totalConnections(); }
        @Override public long getAuthOk() { return s().authOk(); }
        @Override public long getAuthFailed() { return s().authFailed(); }
        @Override public long getAuthTimeouts() { return s().authTimeouts(); }
        @Override public long getErrors() { return s().errors(); }
        @Override public long getBytesFromClients() { return s().bytesFromClients(); }
        @Override public long getBytesFromBackends() { return s().bytesFromBackends(); }
    }

    private final class Server extends Traffic implements ServerMBean {
        Server(String name) {
            super(name, () -> admin.serverStats().stream().filter(s -> s.name().equals(name)).findFirst());
        }

        private Optional<ServerInfo> info() {
            return admin.servers().stream().filter(s -> s.name().equals(name)).findFirst();
        }

        @Override public String getProtocol() { return info().map(ServerInfo::protocol).orElse(""); }
        @Override public String[] getListen() { return info().map(ServerInfo::listen).orElse(List.of()).toArray(String[]::new); }
        @Override public boolean isActive() { return info().map(ServerInfo::active).orElse(false); }
        @Override public String getInactiveReason() { return info().map(i -> i.inactiveReason() == null ? "" : i.inactiveReason()).orElse("removed"); }
        @Override public String[] getBindErrors() { return info().map(ServerInfo::bindErrors).orElse(Collections.emptyList()).toArray(String[]::new); }
        @Override public String getLocation() { return info().map(ServerInfo::location).orElse(""); }
    }
}
