package org.mailproxy.shell.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.mailproxy.auth.http.AuthHttpMetrics;
import org.mailproxy.auth.http.AuthHttpStats;
import org.mailproxy.resolver.ResolverStatistics;
import org.mailproxy.resolver.ZoneStats;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * The counters of the optional modules (auth_http, resolver), looked up when asked and returned
 * as plain maps: this bundle imports their packages optionally, so nothing here may fail when a
 * module is not installed or not running (their types are used only in the nested classes, which
 * load only when called).
 */
public final class ModuleStats {

    private ModuleStats() {
    }

    /** auth_http counters by name, in display order; empty without a running auth_http module. */
    public static Map<String, Long> authHttp(BundleContext context) {
        try {
            return AuthHttp.stats(context);
        } catch (NoClassDefFoundError | ClassCastException e) {
            return Map.of();
        }
    }

    /** Counters of every resolver status_zone, by zone name; empty without a running resolver. */
    public static Map<String, Map<String, Long>> resolverZones(BundleContext context) {
        try {
            return Resolver.zones(context);
        } catch (NoClassDefFoundError | ClassCastException e) {
            return Map.of();
        }
    }

    /** Loaded only when the auth_http package is wired. */
    private static final class AuthHttp {
        static Map<String, Long> stats(BundleContext context) {
            ServiceReference<AuthHttpMetrics> ref = context.getServiceReference(AuthHttpMetrics.class);
            if (ref == null) {
                return Map.of();
            }
            AuthHttpMetrics metrics = context.getService(ref);
            try {
                return metrics == null ? Map.of() : toMap(metrics.stats());
            } finally {
                context.ungetService(ref);
            }
        }
    }

    /** auth_http counters in display order. */
    public static Map<String, Long> toMap(AuthHttpStats s) {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("requests", s.requests());
        m.put("ok", s.ok());
        m.put("failed", s.failed());
        m.put("waits", s.waits());
        m.put("temporary errors", s.temporaryErrors());
        m.put("timeouts", s.timeouts());
        m.put("in flight", s.inFlight());
        m.put("latency mean us", s.latencyMeanMicros());
        m.put("latency max us", s.latencyMaxMicros());
        m.put("connections new", s.newConnections());
        m.put("connections reused", s.reusedConnections());
        m.put("stale retries", s.staleRetries());
        m.put("connections idle", s.idleConnections());
        return m;
    }

    /** Loaded only when the resolver package is wired. */
    private static final class Resolver {
        static Map<String, Map<String, Long>> zones(BundleContext context) {
            ServiceReference<ResolverStatistics> ref = context.getServiceReference(ResolverStatistics.class);
            if (ref == null) {
                return Map.of();
            }
            ResolverStatistics stats = context.getService(ref);
            try {
                Map<String, Map<String, Long>> out = new TreeMap<>();
                if (stats != null) {
                    stats.zones().forEach((name, z) -> out.put(name, toMap(z)));
                }
                return out;
            } finally {
                context.ungetService(ref);
            }
        }
    }

    /** One zone's counters in display order. */
    public static Map<String, Long> toMap(ZoneStats z) {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("queries", z.queries());
        m.put("name", z.nameQueries());
        m.put("addr", z.addrQueries());
        m.put("success", z.success());
        m.put("formerr", z.formatError());
        m.put("servfail", z.serverFailure());
        m.put("nxdomain", z.notFound());
        m.put("notimp", z.unimplemented());
        m.put("refused", z.refused());
        m.put("timedout", z.timedOut());
        m.put("unknown", z.other());
        return m;
    }
}
