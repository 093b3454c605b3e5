package org.mailproxy.core.errorlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** nginx's text line and Angie's JSON line, the JSON read back with a real parser (Jackson). */
class LayoutTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** 2026-11-26T00:02:03.045Z */
    private static final long TIME = 1795651323045L;

    static LogEntry loginFailed(String login) {
        return new LogEntry(TIME, Severity.INFO, 4242, 57, 7, "client login failed: \"Invalid login or password\"", 0,
                null, new LogContext("in http auth state", "127.0.0.1", 54321, "127.0.0.1:1143", login, null),
                List.of("mail", "srv1"), "imap 127.0.0.1:1143");
    }

    @Test
    void plainLineIsNginxs() {
        assertEquals("2026/11/26 00:02:03 [info] 4242#57: *7 client login failed: \"Invalid login or password\" while in"
                + " http auth state, client: 127.0.0.1, server: 127.0.0.1:1143, login: \"alice\"",
                PlainLayout.line(loginFailed("alice"), ZoneId.of("UTC")));
        assertEquals("2026/11/26 01:02:03 [info] 4242#57: *7 client login failed: \"Invalid login or password\" while in"
                + " http auth state, client: 127.0.0.1, server: 127.0.0.1:1143",
                PlainLayout.line(loginFailed(null), ZoneId.of("Europe/Berlin")), "local time; no login, no login:");
    }

    @Test
    void plainLineWithErrnoUpstreamAndNoContextForDebug() {
        LogEntry timeout = new LogEntry(TIME, Severity.INFO, 1, 2, 9, "client timed out", 110, "Connection timed out",
                new LogContext("proxying", "::1", 1, "[::1]:143", "bob", "127.0.0.1:10143"), List.of("mail"), "s");
        assertEquals("2026/11/26 00:02:03 [info] 1#2: *9 client timed out (110: Connection timed out) while proxying,"
                + " client: ::1, server: [::1]:143, login: \"bob\", upstream: 127.0.0.1:10143",
                PlainLayout.line(timeout, ZoneId.of("UTC")));
        LogEntry debug = new LogEntry(TIME, Severity.DEBUG, 1, 2, 9, "mail proxy send login", 0, null,
                timeout.context(), List.of("mail"), "s");
        assertEquals("2026/11/26 00:02:03 [debug] 1#2: *9 mail proxy send login", PlainLayout.line(debug, ZoneId.of("UTC")),
                "nginx's handler adds no context to debug messages");
        LogEntry outside = new LogEntry(TIME, Severity.NOTICE, 1, 2, 0, "started", 0, null, null, List.of(), null);
        assertEquals("2026/11/26 00:02:03 [notice] 1#2: started", PlainLayout.line(outside, ZoneId.of("UTC")));
    }

    @Test
    void aLoginCannotForgeAPlainLine() {
        String line = PlainLayout.line(loginFailed("eve\"\r\n2026/11/26 [error] x"), ZoneId.of("UTC"));
        assertFalse(line.contains("\n") || line.contains("\r"), line);
        assertTrue(line.endsWith("login: \"eve\\x22\\x0D\\x0A2026/11/26 [error] x\""), line);
    }

    @Test
    void jsonFieldsAreAngies() throws Exception {
        JsonNode j = JSON.readTree(JsonLayout.line(loginFailed("alice")));
        assertEquals(List.of("time", "level", "pid", "tid", "connection", "message", "mail", "tags"), names(j));
        assertEquals("2026-11-26T00:02:03.045Z", j.get("time").asText());
        assertEquals("info", j.get("level").asText());
        assertEquals(4242, j.get("pid").asLong());
        assertTrue(j.get("pid").isNumber() && j.get("tid").isNumber() && j.get("connection").isNumber());
        assertEquals(57, j.get("tid").asLong());
        assertEquals(7, j.get("connection").asLong());
        assertEquals("client login failed: \"Invalid login or password\"", j.get("message").asText());
        JsonNode mail = j.get("mail");
        assertEquals(List.of("action", "client", "server", "login"), names(mail));
        assertEquals("in http auth state", mail.get("action").asText());
        assertEquals("127.0.0.1:54321", mail.get("client").asText());
        assertEquals("127.0.0.1:1143", mail.get("server").asText());
        assertEquals("alice", mail.get("login").asText());
        assertEquals("[\"mail\",\"srv1\"]", j.get("tags").toString());
        assertFalse(j.has("error") || j.has("truncated"));
    }

    @Test
    void jsonErrorObjectAndNoConnectionOutsideSessions() throws Exception {
        LogEntry e = new LogEntry(1795651323000L, Severity.ERROR, 1, 2, 0, "connect() to 127.0.0.1:1 failed", 111,
                "Connection refused", null, List.of(), null);
        JsonNode j = JSON.readTree(JsonLayout.line(e));
        assertEquals(List.of("time", "level", "pid", "tid", "message", "error"), names(j));
        assertEquals("2026-11-26T00:02:03Z", j.get("time").asText(), "Angie leaves out zero milliseconds");
        assertEquals(111, j.get("error").get("code").asInt());
        assertEquals("Connection refused", j.get("error").get("message").asText());
    }

    @Test
    void jsonEscapesEverythingAndStaysOneLine() throws Exception {
        String nasty = "quote\" backslash\\ nl\n cr\r tab\t nul\u0000 del\u007f bell\u0007 ü € 😀 lone\ud800 end";
        LogEntry e = new LogEntry(TIME, Severity.WARN, 1, 2, 3, nasty, 0, null,
                new LogContext("a\"b", "127.0.0.1", 1, "s", "},broken\"", null), List.of("mail", "},broken\""), "s");
        String line = JsonLayout.line(e);
        assertFalse(line.contains("\n") || line.contains("\r"), line);
        JsonNode j = JSON.readTree(line);
        assertEquals(nasty, j.get("message").asText());
        assertEquals("},broken\"", j.get("mail").get("login").asText());
        assertEquals("},broken\"", j.get("tags").get(1).asText());
    }

    @Test
    void aLongMessageIsCutAndFlaggedAndTheLineStaysValid() throws Exception {
        for (String unit : List.of("x", "\"", "\u0001", "é")) {
            LogEntry e = new LogEntry(TIME, Severity.ERROR, 1, 2, 3, unit.repeat(5000), 0, null,
                    loginFailed("alice").context(), List.of("mail"), "s");
            String line = JsonLayout.line(e);
            assertTrue(line.length() <= PlainLayout.MAX, line.length() + " chars");
            JsonNode j = JSON.readTree(line);
            assertTrue(j.get("truncated").asBoolean());
            assertEquals("alice", j.get("mail").get("login").asText(), "the context survives the cut");
            assertTrue(PlainLayout.line(e, ZoneId.of("UTC")).length() <= PlainLayout.MAX);
        }
    }

    @Test
    void levelsAreNginxsWords() {
        assertEquals(List.of("emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"),
                java.util.Arrays.stream(Severity.values()).map(Severity::word).toList());
        assertTrue(Severity.CRIT.within(Severity.ERROR));
        assertFalse(Severity.INFO.within(Severity.NOTICE));
        assertTrue(Severity.NOTICE.within(Severity.NOTICE));
    }

    private static List<String> names(JsonNode node) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }
}
