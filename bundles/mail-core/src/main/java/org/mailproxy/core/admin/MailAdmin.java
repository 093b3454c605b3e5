package org.mailproxy.core.admin;

import java.util.List;
import java.util.Optional;

/**
 * Managing the running mail proxy (an OSGi service registered by the core). Every method returns
 * a snapshot and is safe to call from any thread.
 */
public interface MailAdmin {

    /** Every configured server, in configuration order, active or not. */
    List<ServerInfo> servers();

    /** The server named {@code name}: its {@link ServerInfo#name() name}, first listen address or description. */
    default Optional<ServerInfo> server(String name) {
        return servers().stream().filter(s -> s.matches(name)).findFirst();
    }

    /** Sessions open now that pass the filter, oldest first. */
    List<SessionInfo> sessions(SessionFilter filter);

    /**
     * Closes a session now (client and backend connection); the session log says {@code killed}.
     *
     * @return false when no session has that id
     */
    boolean kill(long sessionId);

    /** Counters per configured server (since the server's configuration last changed). */
    List<TrafficStats> serverStats();

    /** Counters per protocol, since the core started. */
    List<TrafficStats> protocolStats();

    /** Proxy-wide totals: sessions open and since start, relays running, bytes each way. */
    TrafficStats totals();

    /**
     * The effective configuration of a server: every directive with its value and where it
     * comes from ({@code server FILE:LINE}, {@code mail FILE:LINE} or {@code default}).
     */
    Optional<List<ConfigValue>> config(String server);

    /**
     * Validates a configuration file without applying it, as {@code nginx -t}, with the directive
     * tables of the modules running now.
     *
     * @param file a path, or null for the file the proxy reads ({@link #configurationFile()})
     */
    CheckResult check(String file);

    /** Re-reads the configuration file now and applies it when valid. */
    CheckResult reload();

    /** The configuration file the proxy reads ({@code etc/mail.conf}). */
    String configurationFile();
}
