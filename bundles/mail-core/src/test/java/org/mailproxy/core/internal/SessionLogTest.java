package org.mailproxy.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SessionLogTest {

    @Test
    void lineHasEveryFieldInOrder() {
        assertEquals("id=42 server=\"imap 127.0.0.1:1143\" protocol=imap client=127.0.0.1:54321 user=alice"
                        + " backend=127.0.0.1:10143 from_client=120 from_backend=2048 duration=3.021 ended=\"client closed\"",
                SessionLog.line(42, "imap 127.0.0.1:1143", "imap", "127.0.0.1:54321", "alice", "127.0.0.1:10143",
                        120, 2048, 3021, "client closed"));
    }

    @Test
    void missingValuesAreDashesAndADashIsQuoted() {
        assertEquals("id=1 server=s protocol=pop3 client=c user=- backend=- from_client=0 from_backend=0"
                        + " duration=0.005 ended=quit",
                SessionLog.line(1, "s", "pop3", "c", null, null, 0, 0, 5, "quit"));
        StringBuilder out = new StringBuilder();
        SessionLog.quote(out, "-");
        assertEquals("\"-\"", out.toString());
    }

    @Test
    void durationInSecondsWithMilliseconds() {
        assertEquals(" duration=0.050 ", durationOf(50));
        assertEquals(" duration=0.000 ", durationOf(0));
        assertEquals(" duration=12.345 ", durationOf(12_345));
        assertEquals(" duration=65.000 ", durationOf(65_000));
        assertEquals(" duration=0.000 ", durationOf(-3)); // the wall clock was set back
    }

    private static String durationOf(long millis) {
        String line = SessionLog.line(1, "s", "imap", "c", "u", "b", 0, 0, millis, "quit");
        return line.substring(line.indexOf(" duration="), line.indexOf("ended="));
    }

    @Test
    void aLoginNameCannotForgeFieldsOrLines() {
        StringBuilder out = new StringBuilder();
        SessionLog.quote(out, "eve ended=killed\r\nid=9 \"x\\");
        assertEquals("\"eve ended=killed\\x0D\\x0Aid=9 \\\"x\\\\\"", out.toString());
        out.setLength(0);
        SessionLog.quote(out, "");
        assertEquals("\"\"", out.toString());
    }

    @Test
    void addressesAsNginxWritesThem() throws Exception {
        assertEquals("192.0.2.1:143", SessionLog.address(new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 143)));
        assertEquals("[2001:db8::1]:143",
                SessionLog.address(new InetSocketAddress(InetAddress.getByName("2001:db8:0:0:0:0:0:1"), 143)));
        assertEquals("[::1]:1143", SessionLog.address(new InetSocketAddress(InetAddress.getByName("::1"), 1143)));
        assertEquals(null, SessionLog.address(null));
    }

    @Test
    void configValuesInNginxNotation() {
        assertEquals("30s", MailAdminImpl.text(Duration.ofSeconds(30)));
        assertEquals("10m", MailAdminImpl.text(Duration.ofMinutes(10)));
        assertEquals("1h", MailAdminImpl.text(Duration.ofHours(1)));
        assertEquals("1500ms", MailAdminImpl.text(Duration.ofMillis(1500)));
        assertEquals("on", MailAdminImpl.text(true));
        assertEquals("IMAP4rev1 IDLE", MailAdminImpl.text(List.of("IMAP4rev1", "IDLE")));
        assertEquals("-", MailAdminImpl.text(null));
        assertEquals("127.0.0.1_1143", MailAdminImpl.shortName("org.mailproxy.server~127.0.0.1_1143"));
    }
}
