package org.mailproxy.core.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.ErrorLog;
import org.mailproxy.core.config.MailConfiguration;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.config.ValueOrigin;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Angie's {@code error_log file [level]} in {@code mail} and {@code server} context, built on the
 * platform's logging: each log becomes a Log4j2 appender in Pax Logging's configuration (PID
 * {@value #PAX_LOGGING_PID}), referenced from the logger {@code org.mailproxy} at that log's level.
 *
 * <ul>
 * <li>The {@code mail} block's logs (or, when it has none, the top-level {@code error_log}, as nginx
 *     inherits it) receive every message of the mail proxy except those of servers that have logs
 *     of their own.</li>
 * <li>A server's own logs receive the messages logged while one of its sessions is being handled:
 *     the session core puts the server's name into the logging context ({@value #MDC_SERVER}) and
 *     the appender filters on it.</li>
 * </ul>
 * Messages keep going to Karaf's log as well. Targets: a file (relative paths are taken from the
 * distribution directory, {@code karaf.base}, as nginx takes them from its prefix) and
 * {@code stderr}; other targets ({@code syslog:}, {@code memory:}) are refused as configuration
 * errors until they are implemented. Only the entries this class wrote ({@code
 * log4j2.appender.mailproxy_*}, {@code log4j2.logger.mailproxy.*}) are ever changed; Karaf writes
 * them back to {@code etc/org.ops4j.pax.logging.cfg} like any console change.
 */
final class ErrorLogs {

    static final String PAX_LOGGING_PID = "org.ops4j.pax.logging";
    /** Logging-context key holding the name of the server whose session is being handled. */
    static final String MDC_SERVER = "mail.server";
    private static final String APPENDER = "log4j2.appender.mailproxy_";
    private static final String LOGGER = "log4j2.logger.mailproxy.";
    /** nginx's error log line: {@code 2026/11/25 22:43:20 [error] message}. */
    private static final String PATTERN = "%d{yyyy/MM/dd HH:mm:ss} [%level{lowerCase=true}] %m%n";
    private static final Logger LOG = LoggerFactory.getLogger(ErrorLogs.class);

    private final ConfigurationAdmin configAdmin;
    private final Path base;

    ErrorLogs(ConfigurationAdmin configAdmin, Path base) {
        this.configAdmin = configAdmin;
        this.base = base;
    }

    /** Refuses targets this build cannot write to. */
    static void check(MailConfiguration config) throws ConfigException {
        for (ErrorLog log : mailLogs(config)) {
            var at = config.mail().directive("error_log");
            checkTarget(log, at.map(d -> d.file()).orElse(config.mail().file()),
                    at.map(d -> d.line()).orElse(config.mail().line()));
        }
        for (ServerConfig server : config.servers()) {
            for (ErrorLog log : ownLogs(server)) {
                ValueOrigin at = server.origin("error_log");
                checkTarget(log, at.file(), at.line());
            }
        }
    }

    private static void checkTarget(ErrorLog log, String file, int line) throws ConfigException {
        String target = log.target();
        if (target.startsWith("syslog:") || target.startsWith("memory:")) {
            throw new ConfigException("\"" + target.substring(0, target.indexOf(':') + 1)
                    + "\" error logs are not supported by this build (use a file or stderr)", file, line);
        }
    }

    /** Makes Pax Logging's configuration carry exactly the logs of {@code config}. */
    void apply(MailConfiguration config) {
        Map<String, String> wanted = entries(config);
        try {
            Configuration pax = configAdmin.getConfiguration(PAX_LOGGING_PID, null);
            Dictionary<String, Object> current = pax.getProperties();
            Hashtable<String, Object> next = new Hashtable<>();
            Map<String, Object> ours = new LinkedHashMap<>();
            if (current != null) {
                for (Enumeration<String> keys = current.keys(); keys.hasMoreElements(); ) {
                    String key = keys.nextElement();
                    if (key.startsWith(APPENDER) || key.startsWith(LOGGER)) {
                        ours.put(key, current.get(key));
                    } else {
                        next.put(key, current.get(key));
                    }
                }
            }
            if (ours.equals(wanted)) {
                return;
            }
            if (current == null && wanted.isEmpty()) {
                return;
            }
            next.putAll(wanted);
            pax.update(next);
            LOG.info("error logs of the mail configuration applied: {}", wanted.isEmpty() ? "none"
                    : wanted.entrySet().stream().filter(e -> e.getKey().endsWith(".fileName"))
                            .map(Map.Entry::getValue).toList());
        } catch (IOException | RuntimeException e) {
            LOG.error("configuring the error logs through Pax Logging failed: {}", e.toString());
        }
    }

    /** Pax Logging properties for every log of {@code config}. */
    Map<String, String> entries(MailConfiguration config) {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> serversWithOwnLogs = new ArrayList<>();
        int n = 0;
        String lowest = null;
        for (ServerConfig server : config.servers()) {
            for (ErrorLog log : ownLogs(server)) {
                serversWithOwnLogs.add(MailRuntime.describe(server));
                int i = n++;
                appender(out, i, log);
                String f = APPENDER + i + ".filter.server.";
                out.put(f + "type", "ThreadContextMapFilter");
                out.put(f + "onMatch", "NEUTRAL");
                out.put(f + "onMismatch", "DENY");
                out.put(f + "pair.type", "KeyValuePair");
                out.put(f + "pair.key", MDC_SERVER);
                out.put(f + "pair.value", MailRuntime.describe(server));
                lowest = ref(out, i, log, lowest);
            }
        }
        for (ErrorLog log : mailLogs(config)) {
            int i = n++;
            appender(out, i, log);
            if (!serversWithOwnLogs.isEmpty()) {
                String f = APPENDER + i + ".filter.servers.";
                out.put(f + "type", "ThreadContextMapFilter");
                out.put(f + "operator", "or");
                out.put(f + "onMatch", "DENY");
                out.put(f + "onMismatch", "NEUTRAL");
                for (int k = 0; k < serversWithOwnLogs.size(); k++) {
                    out.put(f + "pair" + k + ".type", "KeyValuePair");
                    out.put(f + "pair" + k + ".key", MDC_SERVER);
                    out.put(f + "pair" + k + ".value", serversWithOwnLogs.get(k));
                }
            }
            lowest = ref(out, i, log, lowest);
        }
        if (!out.isEmpty()) {
            out.put(LOGGER + "name", "org.mailproxy");
            // Never quieter than Karaf's own INFO: the logs add destinations, they do not mute karaf.log.
            out.put(LOGGER + "level", moreVerbose(lowest, "INFO"));
        }
        return out;
    }

    private void appender(Map<String, String> out, int i, ErrorLog log) {
        String p = APPENDER + i + ".";
        out.put(p + "name", "mailproxy_" + i);
        if (log.target().equals("stderr")) {
            out.put(p + "type", "Console");
            out.put(p + "target", "SYSTEM_ERR");
        } else {
            out.put(p + "type", "File");
            out.put(p + "fileName", base.resolve(log.target()).normalize().toString());
            out.put(p + "append", "true");
        }
        out.put(p + "layout.type", "PatternLayout");
        out.put(p + "layout.pattern", PATTERN);
    }

    private static String ref(Map<String, String> out, int i, ErrorLog log, String lowest) {
        String name = "mailproxy_" + i;
        String level = log4jLevel(log.level());
        out.put(LOGGER + "appenderRef." + name + ".ref", name);
        out.put(LOGGER + "appenderRef." + name + ".level", level);
        return lowest == null ? level : moreVerbose(lowest, level);
    }

    /** nginx's eight levels on Log4j2's: notice is INFO, crit/alert/emerg are ERROR. */
    static String log4jLevel(String nginxLevel) {
        return switch (nginxLevel) {
            case "debug" -> "DEBUG";
            case "info", "notice" -> "INFO";
            case "warn" -> "WARN";
            default -> "ERROR";
        };
    }

    private static String moreVerbose(String a, String b) {
        List<String> order = List.of("DEBUG", "INFO", "WARN", "ERROR");
        return order.indexOf(a) <= order.indexOf(b) ? a : b;
    }

    private static List<ErrorLog> mailLogs(MailConfiguration config) {
        if (!config.mail().isSet("error_log")) {
            return List.of();
        }
        List<ErrorLog> logs = config.mail().get("error_log");
        return logs == null ? List.of() : logs;
    }

    private static List<ErrorLog> ownLogs(ServerConfig server) {
        ValueOrigin origin = server.origin("error_log");
        if (origin == null || origin.source() != ValueOrigin.Source.SERVER) {
            return List.of();
        }
        List<ErrorLog> logs = server.get("error_log");
        return Objects.requireNonNullElse(logs, List.of());
    }
}
