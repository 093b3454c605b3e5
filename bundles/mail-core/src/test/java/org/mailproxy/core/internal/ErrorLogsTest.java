package org.mailproxy.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mailproxy.core.config.ConfigBuilder;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.ConfigParser;
import org.mailproxy.core.config.DirectiveRegistry;
import org.mailproxy.core.config.MailConfiguration;

/** error_log directives become Pax Logging appenders with nginx's levels and per-server filters. */
class ErrorLogsTest {

    private static MailConfiguration build(String text) throws ConfigException {
        return ConfigBuilder.build(ConfigParser.parse(text, "/etc/mail.conf"), DirectiveRegistry.withCoreModules());
    }

    private final ErrorLogs logs = new ErrorLogs(null, Path.of("/opt/mailproxy"));

    @Test
    void mailLogTakesEverythingButServersWithTheirOwn() throws ConfigException {
        Map<String, String> e = logs.entries(build("""
                mail {
                    error_log data/log/mail.log notice;
                    server { listen 127.0.0.1:1143; protocol imap; error_log /var/log/imap.log debug; }
                    server { listen 127.0.0.1:1110; protocol pop3; }
                }
                """));
        assertEquals("/var/log/imap.log", e.get("log4j2.appender.mailproxy_0.fileName"));
        assertEquals("imap 127.0.0.1:1143", e.get("log4j2.appender.mailproxy_0.filter.server.pair.value"));
        assertEquals("DENY", e.get("log4j2.appender.mailproxy_0.filter.server.onMismatch"));
        assertEquals("DEBUG", e.get("log4j2.logger.mailproxy.appenderRef.mailproxy_0.level"));

        assertEquals("/opt/mailproxy/data/log/mail.log", e.get("log4j2.appender.mailproxy_1.fileName"));
        assertEquals("imap 127.0.0.1:1143", e.get("log4j2.appender.mailproxy_1.filter.servers.pair0.value"));
        assertEquals("DENY", e.get("log4j2.appender.mailproxy_1.filter.servers.onMatch"));
        assertFalse(e.containsKey("log4j2.appender.mailproxy_1.filter.servers.pair1.value"), "pop3 has no log of its own");
        assertEquals("INFO", e.get("log4j2.logger.mailproxy.appenderRef.mailproxy_1.level"));
        assertEquals("DEBUG", e.get("log4j2.logger.mailproxy.level"));
        assertEquals("org.mailproxy", e.get("log4j2.logger.mailproxy.name"));
    }

    @Test
    void noErrorLogNoEntries() throws ConfigException {
        assertTrue(logs.entries(build("mail { server { listen 1143; protocol imap; } }")).isEmpty());
    }

    @Test
    void stderrIsAConsoleAppenderAndTheLoggerNeverGoesBelowInfo() throws ConfigException {
        Map<String, String> e = logs.entries(build("mail { error_log stderr crit; }"));
        assertEquals("Console", e.get("log4j2.appender.mailproxy_0.type"));
        assertEquals("SYSTEM_ERR", e.get("log4j2.appender.mailproxy_0.target"));
        assertEquals("ERROR", e.get("log4j2.logger.mailproxy.appenderRef.mailproxy_0.level"));
        assertEquals("INFO", e.get("log4j2.logger.mailproxy.level"));
    }

    @Test
    void nginxLevelsMapOntoLog4j() {
        assertEquals(List.of("DEBUG", "INFO", "INFO", "WARN", "ERROR", "ERROR", "ERROR", "ERROR"),
                List.of("debug", "info", "notice", "warn", "error", "crit", "alert", "emerg").stream()
                        .map(ErrorLogs::log4jLevel).toList());
    }

    @Test
    void syslogTargetsAreRefusedWithTheirLine() {
        ConfigException e = assertThrows(ConfigException.class, () -> ErrorLogs.check(build("""
                mail {
                    server {
                        listen 143;
                        error_log syslog:server=127.0.0.1 info;
                    }
                }
                """)));
        assertEquals("\"syslog:\" error logs are not supported by this build (use a file or stderr) in /etc/mail.conf:4",
                e.getMessage());
    }
}
