package org.mailproxy.resolver.internal;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.mailproxy.core.config.DirectiveSpec;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.spi.HostResolver;
import org.mailproxy.core.spi.MailModule;
import org.mailproxy.resolver.ResolverSettings;
import org.mailproxy.resolver.ResolverStatistics;
import org.mailproxy.resolver.ZoneStats;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The resolver module: owns the {@code resolver} and {@code resolver_timeout} directives (see
 * {@link ResolverDirectives}) and finds clients' host names for auth_http's {@code Client-Host}
 * and SMTP's {@code XCLIENT NAME=} (see {@link DnsEngine}).
 *
 * <p>{@link #resolve} never blocks and never completes exceptionally: it hands the lookup to the
 * component's one daemon thread, {@code mail-resolver}, where cache look-ups, timers and dnsjava's
 * non-blocking I/O callbacks run, so a caller on a MINA I/O thread only enqueues a task. The stage
 * completes on that thread: dependent stages the caller adds there must not block either. With
 * {@code resolver off} (the default) the answer is {@code [UNAVAILABLE]} at once, as nginx sends
 * when no resolver is configured; a client without an IP address (a unix-domain socket) is
 * {@code [TEMPUNAVAIL]} when a resolver is configured, as in nginx.
 *
 * <p>Immediate, so its caches and {@code status_zone} counters live as long as the bundle runs.
 */
@Component(immediate = true, service = {HostResolver.class, MailModule.class, ResolverStatistics.class})
public final class ResolverComponent implements HostResolver, ResolverStatistics {

    /** The module name, as {@link org.mailproxy.core.config.OptionalModules} knows it. */
    public static final String NAME = "resolver";

    private static final Logger LOG = LoggerFactory.getLogger(ResolverComponent.class);

    /** An engine not used for this long, with nothing in flight, is dropped (its cache with it). */
    static final long ENGINE_IDLE_NANOS = TimeUnit.MINUTES.toNanos(10);

    private static final long SWEEP_SECONDS = 30;

    private final Map<ResolverSettings, DnsEngine> engines = new ConcurrentHashMap<>();
    private final Map<String, ZoneCounters> zones = new ConcurrentHashMap<>();
    private final Set<CompletableFuture<HostName>> pending = ConcurrentHashMap.newKeySet();
    private volatile ScheduledExecutorService scheduler;

    public ResolverComponent() {
    }

    @Activate
    public void activate() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, task -> {
            Thread t = new Thread(task, "mail-resolver");
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.scheduleWithFixedDelay(this::sweep, SWEEP_SECONDS, SWEEP_SECONDS, TimeUnit.SECONDS);
        scheduler = executor;
    }

    @Deactivate
    public void deactivate() {
        ScheduledExecutorService executor = scheduler;
        scheduler = null;
        if (executor != null) {
            executor.shutdownNow();
        }
        for (CompletableFuture<HostName> f : pending) {
            f.complete(new HostName(HostName.Status.TEMPUNAVAIL, null));
        }
        pending.clear();
        engines.clear();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<DirectiveSpec> directives() {
        return ResolverDirectives.SPECS;
    }

    @Override
    public CompletionStage<HostName> resolve(InetAddress client, ServerConfig server) {
        try {
            ResolverSettings settings = settings(server);
            if (settings == null) {
                return status(HostName.Status.TEMPUNAVAIL);
            }
            if (settings.isOff()) {
                return status(HostName.Status.UNAVAILABLE);
            }
            ScheduledExecutorService executor = scheduler;
            if (client == null || executor == null) {
                return status(HostName.Status.TEMPUNAVAIL);
            }
            DnsEngine engine = engines.computeIfAbsent(settings, s -> new DnsEngine(s, executor, zone(s)));
            Duration timeout = timeout(server);
            CompletableFuture<HostName> result = new CompletableFuture<>();
            pending.add(result);
            result.whenComplete((name, error) -> pending.remove(result));
            // the caller may be a MINA I/O thread: it only hands the work over
            engine.executor().execute(() -> {
                try {
                    engine.hostName(client, timeout).whenComplete((name, error) ->
                            result.complete(error == null ? name : new HostName(HostName.Status.TEMPUNAVAIL, null)));
                } catch (RuntimeException e) {
                    LOG.error("resolving {} failed", client, e);
                    result.complete(new HostName(HostName.Status.TEMPUNAVAIL, null));
                }
            });
            if (scheduler == null) {
                result.complete(new HostName(HostName.Status.TEMPUNAVAIL, null));
            }
            return result.minimalCompletionStage();
        } catch (RuntimeException e) {
            LOG.error("resolving {} failed", client, e);
            return status(HostName.Status.TEMPUNAVAIL);
        }
    }

    @Override
    public Map<String, ZoneStats> zones() {
        Map<String, ZoneStats> out = new TreeMap<>();
        zones.forEach((name, counters) -> out.put(name, counters.snapshot()));
        return out;
    }

    /**
     * The server's resolver: {@link ResolverSettings#OFF} when the configuration was built while
     * this module was not registered (the directive was then unknown, the server has no resolver);
     * null when the value is not one this bundle understands (a configuration built by an earlier
     * instance of the bundle, until the core rebuilds it).
     */
    private static ResolverSettings settings(ServerConfig server) {
        Object value;
        try {
            value = server.get(ResolverDirectives.RESOLVER);
        } catch (IllegalArgumentException e) {
            return ResolverSettings.OFF;
        }
        if (value == null) {
            return ResolverSettings.OFF;
        }
        if (value instanceof ResolverSettings s) {
            return s;
        }
        LOG.warn("the resolver of {} is not readable by this resolver bundle; using [TEMPUNAVAIL]", server);
        return null;
    }

    private static Duration timeout(ServerConfig server) {
        try {
            Object value = server.get(ResolverDirectives.RESOLVER_TIMEOUT);
            if (value instanceof Duration d) {
                return d;
            }
        } catch (IllegalArgumentException e) {
            // built without this module: the default
        }
        return ResolverDirectives.DEFAULT_TIMEOUT;
    }

    private ZoneCounters zone(ResolverSettings settings) {
        String name = settings.statusZone();
        return name == null ? null : zones.computeIfAbsent(name, ZoneCounters::new);
    }

    private void sweep() {
        long now = System.nanoTime();
        engines.forEach((settings, engine) -> {
            engine.purge();
            if (engine.idle() && now - engine.lastUsed() > ENGINE_IDLE_NANOS) {
                engines.remove(settings, engine);
            }
        });
    }

    private static CompletionStage<HostName> status(HostName.Status status) {
        return CompletableFuture.completedStage(new HostName(status, null));
    }
}
