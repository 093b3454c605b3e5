package org.mailproxy.core.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.Map;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds the session log's appender to Pax Logging's configuration (PID {@code org.ops4j.pax.logging})
 * when it is not there yet: a rolling file {@code mail-sessions.log} in Karaf's log directory, fed
 * only by the logger {@value SessionLog#LOGGER} (additivity off, so the lines stay out of
 * karaf.log). Entries that exist are left alone: an operator may change the file, the pattern or
 * set {@code log4j2.logger.mailsessionlog.level = OFF}, and Karaf keeps that in
 * {@code etc/org.ops4j.pax.logging.cfg}.
 */
final class SessionLogAppender {

    static final String APPENDER = "log4j2.appender.mailsessionlog.";
    static final String LOGGER = "log4j2.logger.mailsessionlog.";
    private static final Logger LOG = LoggerFactory.getLogger(SessionLogAppender.class);

    private SessionLogAppender() {
    }

    /** The entries for a log file in {@code logDir}. */
    static Map<String, String> entries(Path logDir) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put(APPENDER + "type", "RollingRandomAccessFile");
        out.put(APPENDER + "name", "MailSessionLog");
        out.put(APPENDER + "fileName", logDir.resolve("mail-sessions.log").toString());
        out.put(APPENDER + "filePattern", logDir.resolve("mail-sessions.log.%i").toString());
        out.put(APPENDER + "append", "true");
        out.put(APPENDER + "layout.type", "PatternLayout");
        out.put(APPENDER + "layout.pattern", "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %m%n");
        out.put(APPENDER + "policies.type", "Policies");
        out.put(APPENDER + "policies.size.type", "SizeBasedTriggeringPolicy");
        out.put(APPENDER + "policies.size.size", "16MB");
        out.put(APPENDER + "strategy.type", "DefaultRolloverStrategy");
        out.put(APPENDER + "strategy.max", "10");
        out.put(LOGGER + "name", SessionLog.LOGGER);
        out.put(LOGGER + "level", "INFO");
        out.put(LOGGER + "additivity", "false");
        out.put(LOGGER + "appenderRef.MailSessionLog.ref", "MailSessionLog");
        return out;
    }

    /** Adds the entries unless the logger is configured already. */
    static void ensure(ConfigurationAdmin configAdmin, Path logDir) {
        try {
            Configuration pax = configAdmin.getConfiguration(ErrorLogs.PAX_LOGGING_PID, null);
            Dictionary<String, Object> current = pax.getProperties();
            if (current == null || current.get(LOGGER + "name") != null) {
                return; // not Karaf's logging (nothing to add to), or configured already
            }
            Hashtable<String, Object> next = new Hashtable<>();
            {
                for (var keys = current.keys(); keys.hasMoreElements(); ) {
                    String key = keys.nextElement();
                    next.put(key, current.get(key));
                }
            }
            next.putAll(entries(logDir));
            pax.update(next);
            LOG.info("session log: {}", logDir.resolve("mail-sessions.log"));
        } catch (IOException | RuntimeException e) {
            LOG.error("adding the session log to Pax Logging's configuration failed: {}", e.toString());
        }
    }
}
