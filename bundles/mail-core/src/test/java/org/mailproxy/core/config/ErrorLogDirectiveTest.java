package org.mailproxy.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** error_log and error_log_user_tag as Angie reads them, with Angie's error words and the file:line. */
class ErrorLogDirectiveTest {

    private static MailConfiguration build(String text) throws ConfigException {
        return ConfigBuilder.build(ConfigParser.parse(text, "/etc/mail.conf"), DirectiveRegistry.withCoreModules());
    }

    private static ErrorLog mailLog(String args) throws ConfigException {
        List<ErrorLog> logs = build("mail {\n    error_log " + args + ";\n}\n").mail().get("error_log");
        assertEquals(1, logs.size());
        return logs.get(0);
    }

    private static String error(String args) {
        return assertThrows(ConfigException.class, () -> mailLog(args)).getMessage();
    }

    @Test
    void targetsLevelsAndFormat() throws ConfigException {
        assertEquals(new ErrorLog("/var/log/mail.log", "error"), mailLog("/var/log/mail.log"));
        ErrorLog json = mailLog("stderr notice format=json");
        assertEquals("stderr", json.target());
        assertEquals("notice", json.level());
        assertTrue(json.json());
        assertFalse(mailLog("x.log format=default").json());
        assertEquals("debug", mailLog("x.log debug_mail").level());
    }

    @Test
    void severalLogsPerContextKeepTheirOrder() throws ConfigException {
        MailConfiguration config = build("""
                error_log main.log warn;
                error_log main2.log;
                mail {
                    error_log a.log info;
                    error_log b.log debug format=json;
                    server { listen 1143; protocol imap; error_log c.log crit; error_log d.log alert; }
                }
                """);
        assertEquals(List.of("main.log", "main2.log"), config.mainErrorLogs().stream().map(ErrorLog::target).toList());
        List<ErrorLog> mail = config.mail().get("error_log");
        assertEquals(List.of("a.log", "b.log"), mail.stream().map(ErrorLog::target).toList());
        List<ErrorLog> server = config.servers().get(0).get("error_log");
        assertEquals(List.of("crit", "alert"), server.stream().map(ErrorLog::level).toList());
    }

    @Test
    void filtersInAngiesForms() throws ConfigException {
        ErrorLog log = mailLog("x.log filter=tag:srv1 filter=message:=exact filter=logline:~^client\\s filter=client:127.0.0.1");
        List<LogFilter> f = log.filters();
        assertEquals(LogFilter.Part.TAG, f.get(0).part());
        assertEquals(LogFilter.Match.SUBSTRING, f.get(0).match());
        assertEquals("srv1", f.get(0).pattern());
        assertEquals(LogFilter.Match.EXACT, f.get(1).match());
        assertEquals("exact", f.get(1).pattern());
        assertEquals(LogFilter.Part.LOGLINE, f.get(2).part());
        assertEquals(LogFilter.Match.REGEX, f.get(2).match());
        assertTrue(f.get(2).matches("client timed out"));
        assertFalse(f.get(2).matches("a client timed out"));
        assertEquals(LogFilter.Part.FIELD, f.get(3).part());
        assertEquals("client", f.get(3).field());
        assertTrue(f.get(1).matches("exact"));
        assertFalse(f.get(1).matches("exactly"));
        assertTrue(f.get(0).matches("xsrv1x"), "a plain pattern is a substring");
    }

    @Test
    void filterErrorsNameTheDirectivesLine() {
        assertEquals("missing filter type in \"srv1\" in /etc/mail.conf:2", error("x.log filter=srv1"));
        assertEquals("empty filter pattern \"tag:\" in /etc/mail.conf:2", error("x.log filter=tag:"));
        assertEquals("empty filter pattern \"tag:=\" in /etc/mail.conf:2", error("x.log filter=tag:="));
        assertEquals("empty filter pattern \"message:~\" in /etc/mail.conf:2", error("x.log filter=message:~"));
        assertEquals("source file filtering requires debug build in /etc/mail.conf:2",
                error("x.log filter=sourcefile:ngx_mail.c"));
        assertTrue(error("x.log filter=request:/f1").startsWith(
                "error_log filter with unknown property \"request\""), error("x.log filter=request:/f1"));
        assertTrue(error("x.log filter=message:~(").startsWith("invalid filter regex \"(\""));
        assertEquals("duplicate format= parameter (\"default\") in /etc/mail.conf:2",
                error("x.log format=json format=default"));
        assertEquals("unknown log format \"xml\" in /etc/mail.conf:2", error("x.log format=xml"));
        assertEquals("\"rate=\" of \"error_log\" is not supported by this build in /etc/mail.conf:2",
                error("x.log rate=100m/s"));
        assertEquals("duplicate log level \"warn\" in /etc/mail.conf:2", error("x.log info warn"));
        assertEquals("invalid log level \"loud\" in /etc/mail.conf:2", error("x.log loud"));
        assertEquals("invalid parameter \"loud\" in /etc/mail.conf:2", error("x.log info loud"));
        assertTrue(error("memory:32m debug").startsWith("memory error logs are not supported"));
    }

    @Test
    void syslogParameters() throws ConfigException {
        SyslogTarget s = mailLog("syslog:server=127.0.0.1:5140,facility=mail,tag=mail_proxy,nohostname info").syslog();
        assertEquals(new SyslogTarget("127.0.0.1", 5140, 2, 6, "mail_proxy", true), s);
        SyslogTarget d = mailLog("syslog:server=loghost").syslog();
        assertEquals(new SyslogTarget("loghost", 514, 23, 6, SyslogTarget.DEFAULT_TAG, false), d);
        assertEquals("::1", mailLog("syslog:server=[::1]:5514").syslog().host());
        assertEquals(5514, mailLog("syslog:server=[::1]:5514").syslog().port());
        assertEquals(3, mailLog("syslog:server=h,severity=error").syslog().severity());
    }

    @Test
    void syslogErrorsAreNginxs() {
        assertEquals("no syslog server specified in /etc/mail.conf:2", error("syslog:tag=x"));
        assertEquals("unknown syslog facility \"local9\" in /etc/mail.conf:2", error("syslog:server=h,facility=local9"));
        assertEquals("unknown syslog severity \"err\" in /etc/mail.conf:2", error("syslog:server=h,severity=err"));
        assertEquals("syslog \"tag\" only allows alphanumeric characters and underscore in /etc/mail.conf:2",
                error("syslog:server=h,tag=a-b"));
        assertEquals("syslog tag length exceeds 32 in /etc/mail.conf:2", error("syslog:server=h,tag=" + "a".repeat(33)));
        assertEquals("unknown syslog parameter \"bogus\" in /etc/mail.conf:2", error("syslog:server=h,bogus"));
        assertEquals("duplicate syslog \"server\" in /etc/mail.conf:2", error("syslog:server=h,server=i"));
        assertEquals("invalid port in syslog server \"h:99999\" in /etc/mail.conf:2", error("syslog:server=h:99999"));
    }

    @Test
    void userTagsAreInheritedFromMailAndRefuseVariables() throws ConfigException {
        MailConfiguration config = build("""
                mail {
                    error_log_user_tag "all";
                    server { listen 1143; protocol imap; error_log_user_tag "srv1"; error_log_user_tag "imap"; }
                    server { listen 1110; protocol pop3; }
                }
                """);
        assertEquals(List.of("srv1", "imap"), config.servers().get(0).get("error_log_user_tag"));
        assertEquals(List.of("all"), config.servers().get(1).get("error_log_user_tag"));
        ConfigException e = assertThrows(ConfigException.class, () -> build(
                "mail {\n server { listen 1143; protocol imap;\n error_log_user_tag \"$server_port\"; } }"));
        assertEquals("variables are not supported in \"error_log_user_tag\" (\"$server_port\") in /etc/mail.conf:3",
                e.getMessage());
        ConfigException outside = assertThrows(ConfigException.class, () -> build("error_log_user_tag x;\n"));
        assertEquals("\"error_log_user_tag\" directive is not allowed here in /etc/mail.conf:1", outside.getMessage());
        assertEquals(List.of(), build("mail { server { listen 1143; protocol imap; } }").servers().get(0)
                .get("error_log_user_tag"));
    }
}
