package org.mailproxy.core.errorlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mailproxy.core.config.ConfigBuilder;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.ConfigParser;
import org.mailproxy.core.config.DirectiveRegistry;
import org.mailproxy.core.config.ErrorLog;

/** One error_log: nginx's level semantics and Angie's filters (all rules must match). */
class LogWriterTest {

    /** A sink that keeps the lines. */
    static final class Lines implements Sink {
        final List<String> lines = new ArrayList<>();

        @Override
        public void write(String line, Severity level) {
            lines.add(line);
        }

        @Override
        public void close() {
        }
    }

    private final Lines sink = new Lines();

    private LogWriter writer(String args) throws ConfigException {
        List<ErrorLog> logs = ConfigBuilder.build(ConfigParser.parse("mail { error_log " + args + "; }", "t.conf"),
                DirectiveRegistry.withCoreModules()).mail().get("error_log");
        return new LogWriter(logs.get(0), sink, ZoneId.of("UTC"));
    }

    private static LogEntry entry(Severity level, String message, String client, String... tags) {
        return new LogEntry(0, level, 1, 2, 3, message, 0, null,
                new LogContext("in auth state", client, 4000, "127.0.0.1:143", "alice", null), List.of(tags), "s");
    }

    @Test
    void aLogTakesItsLevelAndEveryMoreSevereOne() throws ConfigException {
        for (Severity configured : Severity.values()) {
            sink.lines.clear();
            LogWriter w = writer("x.log " + configured.word());
            for (Severity s : Severity.values()) {
                w.write(entry(s, s.word(), "127.0.0.1"));
            }
            List<String> expected = new ArrayList<>();
            for (Severity s : Severity.values()) {
                if (s.ordinal() <= configured.ordinal()) {
                    expected.add("[" + s.word() + "]");
                }
            }
            assertEquals(expected, sink.lines.stream().map(l -> l.split(" ")[2]).toList(), configured.word());
        }
    }

    @Test
    void tagFiltersMatchAnyTag() throws ConfigException {
        LogWriter w = writer("x.log info filter=tag:srv1");
        w.write(entry(Severity.INFO, "one", "127.0.0.1", "mail", "srv1"));
        w.write(entry(Severity.INFO, "two", "127.0.0.1", "mail", "srv2"));
        w.write(entry(Severity.INFO, "three", "127.0.0.1"));
        assertEquals(1, sink.lines.size());
        assertTrue(sink.lines.get(0).contains("one"));
    }

    @Test
    void allRulesMustMatch() throws ConfigException {
        LogWriter both = writer("x.log info filter=logline:127.0.0.3 filter=logline:alice filter=logline:~auth\\sstate");
        both.write(entry(Severity.INFO, "m", "127.0.0.3"));
        both.write(entry(Severity.INFO, "m", "127.0.0.4"));
        assertEquals(1, sink.lines.size());
        LogWriter miss = writer("x.log info filter=logline:alice filter=logline:no_such_thing");
        miss.write(entry(Severity.INFO, "m", "127.0.0.3"));
        assertEquals(1, sink.lines.size());
    }

    @Test
    void messageRulesSeeTheMessageOnlyAndLoglineRulesTheContextToo() throws ConfigException {
        LogWriter message = writer("x.log info 'filter=message:=client timed out'");
        message.write(entry(Severity.INFO, "client timed out", "127.0.0.1"));
        message.write(entry(Severity.INFO, "client timed out again", "127.0.0.1"));
        assertEquals(1, sink.lines.size());
        LogWriter notInMessage = writer("x.log info filter=message:alice");
        notInMessage.write(entry(Severity.INFO, "client timed out", "127.0.0.1"));
        assertEquals(1, sink.lines.size());
        LogWriter logline = writer("x.log info 'filter=logline:login: \\\"alice\\\"'");
        logline.write(entry(Severity.INFO, "client timed out", "127.0.0.1"));
        assertEquals(2, sink.lines.size());
    }

    @Test
    void jsonLogsMatchMessagesEscapedAndHaveNoTextLine() throws ConfigException {
        LogWriter escaped = writer("x.log info format=json 'filter=message:\\\\\"quoted\\\\\"'");
        escaped.write(entry(Severity.INFO, "a \"quoted\" word", "127.0.0.1"));
        assertEquals(1, sink.lines.size(), "Angie: JSON message filters see the escaped text");
        LogWriter logline = writer("x.log info format=json filter=logline:timed");
        logline.write(entry(Severity.INFO, "client timed out", "127.0.0.1"));
        assertEquals(1, sink.lines.size(), "Angie: a JSON log has no text line for logline rules");
    }

    @Test
    void fieldRulesSeeTheRawPropertyAndNeverADebugMessage() throws ConfigException {
        LogWriter w = writer("x.log debug filter=client:192.168.33.33");
        w.write(entry(Severity.INFO, "first", "192.168.33.33"));
        w.write(entry(Severity.INFO, "second", "192.168.44.44"));
        w.write(entry(Severity.DEBUG, "third", "192.168.33.33"));
        assertEquals(1, sink.lines.size());
        assertTrue(sink.lines.get(0).contains("first"));
        LogWriter login = writer("x.log info filter=login:=alice");
        login.write(entry(Severity.INFO, "fourth", "192.168.44.44"));
        assertEquals(2, sink.lines.size());
        assertFalse(sink.lines.get(1).contains("first"));
    }
}
