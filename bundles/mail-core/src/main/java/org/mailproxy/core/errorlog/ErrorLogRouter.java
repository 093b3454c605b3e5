package org.mailproxy.core.errorlog;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Sends each message to the error logs that nginx would write it to:
 * <ul>
 * <li>a session's message to its server's own {@code error_log}s; a server without any inherits
 *     those of {@code mail}, and {@code mail} those of the main context (nginx's merge);</li>
 * <li>a message outside of sessions (configuration, listeners, runtime) to the main context's
 *     {@code error_log}s, or, when there are none, to those of {@code mail}.</li>
 * </ul>
 * The routes are replaced as a whole when the configuration changes.
 */
public final class ErrorLogRouter {

    /**
     * The logs of one configuration.
     *
     * @param outside  logs for messages outside of sessions
     * @param sessions logs for sessions of servers without logs of their own
     * @param servers  the own logs of servers that have some, by server name
     */
    public record Routes(List<LogWriter> outside, List<LogWriter> sessions, Map<String, List<LogWriter>> servers) {

        public static final Routes NONE = new Routes(List.of(), List.of(), Map.of());

        public Routes {
            outside = List.copyOf(outside);
            sessions = List.copyOf(sessions);
            servers = Map.copyOf(servers);
        }

        /** Every writer once. */
        public List<LogWriter> all() {
            List<LogWriter> out = new ArrayList<>(outside);
            sessions.stream().filter(w -> !out.contains(w)).forEach(out::add);
            servers.values().forEach(list -> list.stream().filter(w -> !out.contains(w)).forEach(out::add));
            return out;
        }

        /** The most verbose level any log takes, null without logs. */
        public Severity mostVerbose() {
            Severity most = null;
            for (LogWriter w : all()) {
                if (most == null || w.level().ordinal() > most.ordinal()) {
                    most = w.level();
                }
            }
            return most;
        }
    }

    private volatile Routes routes = Routes.NONE;

    /** Installs {@code next} and returns the routes it replaces (for the caller to close). */
    public Routes replace(Routes next) {
        Routes previous = routes;
        routes = next;
        return previous;
    }

    public Routes routes() {
        return routes;
    }

    /** Writes {@code e} to every log it belongs to. */
    public void route(LogEntry e) {
        Routes r = routes;
        List<LogWriter> targets;
        if (e.server() == null) {
            targets = r.outside();
        } else {
            targets = r.servers().getOrDefault(e.server(), r.sessions());
        }
        for (LogWriter w : targets) {
            w.write(e);
        }
    }
}
