package org.mailproxy.core.errorlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A logged event taken apart as nginx keeps it: number, message, error, action, session context. */
class EntryFactoryTest {

    private final SessionFacts session7 = new SessionFacts("imap 127.0.0.1:1143", List.of("mail", "srv1"),
            new LogContext(null, "127.0.0.1", 54321, "127.0.0.1:1143", "alice", null));
    private final EntryFactory factory = new EntryFactory(id -> id == 7 ? session7 : null);

    @Test
    void mailLogPartsComeBackOut() {
        LogEntry e = factory.entry(5, "INFO", "*7 client timed out (110: Connection timed out) while in auth state",
                Map.of("mail.level", "info", "mail.action", "in auth state", "mail.errno", "110",
                        "mail.errtext", "Connection timed out"), null, 33);
        assertEquals(7, e.connection());
        assertEquals("client timed out", e.message());
        assertEquals(110, e.errorCode());
        assertEquals("Connection timed out", e.errorText());
        assertEquals("in auth state", e.context().action());
        assertEquals("alice", e.context().login());
        assertEquals(List.of("mail", "srv1"), e.tags());
        assertEquals("imap 127.0.0.1:1143", e.server());
        assertEquals(Severity.INFO, e.level());
        assertEquals(ProcessHandle.current().pid(), e.pid());
        assertEquals(33, e.tid());
    }

    @Test
    void nginxLevelsSlf4jHasNotComeFromTheContext() {
        assertEquals(Severity.NOTICE, factory.entry(0, "INFO", "x", Map.of("mail.level", "notice"), null, 1).level());
        assertEquals(Severity.CRIT, factory.entry(0, "ERROR", "x", Map.of("mail.level", "crit"), null, 1).level());
        assertEquals(Severity.WARN, factory.entry(0, "WARN", "x", Map.of(), null, 1).level());
        assertEquals(Severity.DEBUG, factory.entry(0, "TRACE", "x", null, null, 1).level());
    }

    @Test
    void plainMessagesOfGoneSessionsAndOutsideOfSessions() {
        LogEntry gone = factory.entry(0, "INFO", "*8 client sent too many commands", Map.of("mail.server", "pop3 x"),
                null, 1);
        assertEquals(8, gone.connection());
        assertEquals("client sent too many commands", gone.message());
        assertNull(gone.context());
        assertEquals("pop3 x", gone.server(), "routed by the logging context when the session is gone");
        LogEntry outside = factory.entry(0, "INFO", "*not a number", Map.of(), new String[] {"java.io.IOException: x"}, 1);
        assertEquals(0, outside.connection());
        assertEquals("*not a number (java.io.IOException: x)", outside.message());
        assertNull(outside.server());
        assertEquals(List.of(), outside.tags());
    }

    @Test
    void anActionOrErrorNotAtTheEndStaysInTheText() {
        LogEntry e = factory.entry(0, "INFO", "*7 upstream sent invalid response: \"x while proxying y\"",
                Map.of("mail.action", "proxying"), null, 1);
        assertEquals("upstream sent invalid response: \"x while proxying y\"", e.message());
        assertEquals("proxying", e.context().action());
    }
}
