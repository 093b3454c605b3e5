package org.mailproxy.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.config.ConfigBuilder;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.ConfigParser;
import org.mailproxy.core.config.DirectiveRegistry;
import org.mailproxy.core.config.MailConfiguration;
import org.mailproxy.core.errorlog.ErrorLogRouter;
import org.mailproxy.core.errorlog.LogContext;
import org.mailproxy.core.errorlog.LogEntry;
import org.mailproxy.core.errorlog.LogWriter;
import org.mailproxy.core.errorlog.LogWriters;
import org.mailproxy.core.errorlog.Severity;

/**
 * error_log directives become writers routed as nginx merges them, and one Pax Logging appender
 * whose logger level follows the most verbose log. Real files in a temporary directory.
 */
class ErrorLogsTest {

    @TempDir
    Path dir;

    private static MailConfiguration build(String text) throws ConfigException {
        return ConfigBuilder.build(ConfigParser.parse(text, "/etc/mail.conf"), DirectiveRegistry.withCoreModules());
    }

    private ErrorLogRouter.Routes routes(String conf) throws ConfigException {
        return new ErrorLogs(null, new LogWriters(dir, ZoneId.of("UTC"), "host"), new ErrorLogRouter())
                .routes(build(conf));
    }

    private static LogEntry entry(String server, Severity level, String message) {
        LogContext context = server == null ? null : new LogContext(null, "127.0.0.1", 5555, "127.0.0.1:1143", null, null);
        return new LogEntry(0, level, 1, 2, server == null ? 0 : 7, message, 0, null, context,
                server == null ? List.of() : List.of("mail"), server);
    }

    @Test
    void serversWithOwnLogsTakeTheirSessionsTheOthersInheritMailAndMainGetsTheRest() throws Exception {
        ErrorLogRouter router = new ErrorLogRouter();
        router.replace(routes("""
                error_log main.log info;
                mail {
                    error_log mail.log notice;
                    server { listen 127.0.0.1:1143; protocol imap; error_log imap.log debug; }
                    server { listen 127.0.0.1:1110; protocol pop3; }
                }
                """));
        router.route(entry("imap 127.0.0.1:1143", Severity.DEBUG, "imap debug"));
        router.route(entry("pop3 127.0.0.1:1110", Severity.NOTICE, "pop3 notice"));
        router.route(entry("pop3 127.0.0.1:1110", Severity.INFO, "pop3 info"));
        router.route(entry(null, Severity.INFO, "configuration applied"));
        router.routes().all().forEach(LogWriter::close);

        assertEquals(List.of("imap debug"), messages("imap.log"));
        assertEquals(List.of("pop3 notice"), messages("mail.log"), "notice takes notice, not info");
        assertEquals(List.of("configuration applied"), messages("main.log"));
    }

    @Test
    void withoutMainLogsTheMailLogsTakeEverythingAndWithoutMailLogsMainIsInherited() throws Exception {
        ErrorLogRouter.Routes onlyMail = routes("mail { error_log m.log; server { listen 1143; protocol imap; } }");
        assertEquals(onlyMail.outside(), onlyMail.sessions());
        ErrorLogRouter.Routes onlyMain = routes("error_log t.log; mail { server { listen 1143; protocol imap; } }");
        assertEquals(onlyMain.outside(), onlyMain.sessions());
        assertEquals(1, onlyMain.sessions().size());
        assertTrue(Files.exists(dir.resolve("t.log")), "files are opened when configured, as nginx does");
    }

    @Test
    void paxLoggingGetsOnePaxOsgiAppenderAtTheMostVerboseLevel() throws Exception {
        Map<String, String> e = ErrorLogs.entries(routes("""
                mail {
                    error_log a.log crit;
                    server { listen 1143; protocol imap; error_log b.log debug; }
                }
                """).mostVerbose());
        assertEquals("PaxOsgi", e.get("log4j2.appender.mailproxy_errorlog.type"));
        assertEquals("mailproxy.errorlog", e.get("log4j2.appender.mailproxy_errorlog.filter"));
        assertEquals("MailErrorLog", e.get("log4j2.logger.mailproxy.appenderRef.MailErrorLog.ref"));
        assertEquals("org.mailproxy", e.get("log4j2.logger.mailproxy.name"));
        assertEquals("DEBUG", e.get("log4j2.logger.mailproxy.level"));
        assertEquals("INFO", ErrorLogs.entries(Severity.CRIT).get("log4j2.logger.mailproxy.level"),
                "never quieter than Karaf's INFO");
        assertTrue(ErrorLogs.entries(null).isEmpty());
        assertTrue(ErrorLogs.entries(routes("mail { server { listen 1143; protocol imap; } }").mostVerbose()).isEmpty());
    }

    private List<String> messages(String file) throws Exception {
        return Files.readAllLines(dir.resolve(file)).stream()
                .map(l -> l.replaceFirst("^\\S+ \\S+ \\[\\w+\\] \\d+#\\d+: (\\*\\d+ )?", ""))
                .map(l -> l.replaceFirst(", client: .*$", ""))
                .toList();
    }
}
