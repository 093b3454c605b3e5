package org.mailproxy.core.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.mailproxy.core.config.ErrorLog;
import org.mailproxy.core.config.MailConfiguration;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.config.ValueOrigin;
import org.mailproxy.core.errorlog.ErrorLogRouter;
import org.mailproxy.core.errorlog.LogWriter;
import org.mailproxy.core.errorlog.LogWriters;
import org.mailproxy.core.errorlog.PaxErrorLogAppender;
import org.mailproxy.core.errorlog.Severity;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Angie's {@code error_log} in main, {@code mail} and {@code server} context, on the platform's
 * logging. Two halves:
 * <ul>
 * <li>Pax Logging's configuration (PID {@value #PAX_LOGGING_PID}) gets one Log4j2 appender of
 *     type {@code PaxOsgi} that hands the events of the logger {@code org.mailproxy} to the
 *     {@link PaxErrorLogAppender} service, and that logger's level (the most verbose level of any
 *     error log, never quieter than Karaf's INFO). It changes only when that level changes.</li>
 * <li>The {@link ErrorLogRouter} gets a {@link LogWriter} per directive: level, format, filters
 *     and a file, stderr or syslog sink; each configuration change replaces them at once.</li>
 * </ul>
 * Relative file names are taken from the distribution directory ({@code karaf.base}), as nginx
 * takes them from its prefix. Only the entries this class writes ({@code
 * log4j2.appender.mailproxy_*}, {@code log4j2.logger.mailproxy.*}) are ever changed; Karaf writes
 * them back to {@code etc/org.ops4j.pax.logging.cfg} like any console change.
 */
final class ErrorLogs {

    static final String PAX_LOGGING_PID = "org.ops4j.pax.logging";
    private static final String APPENDER = "log4j2.appender.mailproxy_";
    private static final String LOGGER = "log4j2.logger.mailproxy.";
    private static final String APPENDER_NAME = "MailErrorLog";
    private static final Logger LOG = LoggerFactory.getLogger(ErrorLogs.class);

    private final ConfigurationAdmin configAdmin;
    private final LogWriters writers;
    private final ErrorLogRouter router;

    ErrorLogs(ConfigurationAdmin configAdmin, Path base, ErrorLogRouter router) {
        this(configAdmin, new LogWriters(base, ZoneId.systemDefault(), LogWriters.hostname()), router);
    }

    ErrorLogs(ConfigurationAdmin configAdmin, LogWriters writers, ErrorLogRouter router) {
        this.configAdmin = configAdmin;
        this.writers = writers;
        this.router = router;
    }

    /** Makes the router carry exactly the logs of {@code config}, at once. */
    void apply(MailConfiguration config) {
        ErrorLogRouter.Routes next = routes(config);
        ErrorLogRouter.Routes previous = router.replace(next);
        previous.all().forEach(LogWriter::close);
    }

    /**
     * Makes Pax Logging's configuration deliver what the current logs need. Called last when a
     * configuration is applied: while Pax Logging reconfigures Log4j2, messages can be lost.
     */
    void applyLoggerLevel() {
        Map<String, String> wanted = entries(router.routes().mostVerbose());
        try {
            Configuration pax = configAdmin.getConfiguration(PAX_LOGGING_PID, null);
            Dictionary<String, Object> current = pax.getProperties();
            Hashtable<String, Object> rest = new Hashtable<>();
            Map<String, Object> ours = new LinkedHashMap<>();
            if (current != null) {
                for (Enumeration<String> keys = current.keys(); keys.hasMoreElements(); ) {
                    String key = keys.nextElement();
                    (key.startsWith(APPENDER) || key.startsWith(LOGGER) ? ours : rest).put(key, current.get(key));
                }
            }
            if (ours.equals(wanted) || current == null && wanted.isEmpty()) {
                return;
            }
            rest.putAll(wanted);
            pax.update(rest);
            LOG.info("error logs of the mail configuration: logger org.mailproxy at {}",
                    wanted.getOrDefault(LOGGER + "level", "Karaf's level"));
        } catch (IOException | RuntimeException e) {
            LOG.error("configuring the error logs through Pax Logging failed: {}", e.toString());
        }
    }

    /**
     * The writers of {@code config}, routed as nginx merges {@code error_log}: a server without
     * logs of its own uses those of {@code mail}, and {@code mail} those of the main context;
     * messages outside of sessions go to the main context's logs, else to those of {@code mail}.
     */
    ErrorLogRouter.Routes routes(MailConfiguration config) {
        List<LogWriter> main = writers.create(config.mainErrorLogs());
        List<LogWriter> mail = writers.create(mailLogs(config));
        Map<String, List<LogWriter>> servers = new LinkedHashMap<>();
        for (ServerConfig server : config.servers()) {
            List<ErrorLog> own = ownLogs(server);
            if (!own.isEmpty()) {
                servers.put(MailRuntime.describe(server), writers.create(own));
            }
        }
        return new ErrorLogRouter.Routes(main.isEmpty() ? mail : main, mail.isEmpty() ? main : mail, servers);
    }

    /** Pax Logging properties that send the {@code org.mailproxy} events at {@code level} to the router. */
    static Map<String, String> entries(Severity level) {
        Map<String, String> out = new LinkedHashMap<>();
        if (level == null) {
            return out;
        }
        String p = APPENDER + "errorlog.";
        out.put(p + "type", "PaxOsgi");
        out.put(p + "name", APPENDER_NAME);
        out.put(p + "filter", PaxErrorLogAppender.NAME);
        out.put(LOGGER + "name", "org.mailproxy");
        // never quieter than Karaf's own INFO: the error logs add destinations, they do not mute karaf.log
        out.put(LOGGER + "level", level == Severity.DEBUG ? "DEBUG" : "INFO");
        out.put(LOGGER + "appenderRef." + APPENDER_NAME + ".ref", APPENDER_NAME);
        return out;
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
        return new ArrayList<>(Objects.requireNonNullElse(logs, List.of()));
    }
}
