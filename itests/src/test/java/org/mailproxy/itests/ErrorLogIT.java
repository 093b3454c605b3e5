package org.mailproxy.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.mailproxy.itests.fixtures.AuthHttpServer;
import org.mailproxy.itests.fixtures.LineClient;
import org.mailproxy.itests.fixtures.MailBackends;

/**
 * Angie's error logs in the real Karaf: etc/mail.conf gets {@code error_log}s in the {@code mail}
 * block (plain, {@code format=json}, {@code filter=tag:}, levels, a syslog target) and two IMAP
 * servers with {@code error_log_user_tag}; the running proxy takes them without a restart. Then a
 * failed login (real auth server), a client timeout and an invalid backend response (the real
 * Dovecot refusing the password the auth server handed out) must appear in nginx's words, in the
 * right files only, JSON lines parsed back field by field, and as RFC 3164 datagrams received by
 * a UDP socket of this test. No password appears anywhere.
 */
public class ErrorLogIT extends MailProxyTestSupport {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String WRONG_PASSWORD = "wrong-pw-41";
    private static final String MALLORY = "mallory";
    private static final String MALLORY_PASSWORD = "mallory-pw-42";
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final long pid = ProcessHandle.current().pid();
    private Path conf;
    private String original;
    private Path dir;
    private AuthHttpServer auth;
    private DatagramSocket syslog;
    private final List<String> datagrams = new CopyOnWriteArrayList<>();
    private Thread receiver;
    private int srv1;
    private int srv2;

    @Before
    public void setUp() throws Exception {
        conf = Path.of(System.getProperty("mailproxy.conf"));
        original = Files.readString(conf, StandardCharsets.UTF_8);
        dir = Path.of(System.getProperty("karaf.data"), "log", "errorlog-it-" + System.nanoTime());
        auth = AuthHttpServer.start(port("auth_http")).failureWait(0);
        // mallory passes the auth server, but Dovecot does not know her: an invalid backend response
        auth.user(MALLORY, MALLORY_PASSWORD, MailBackends.HOST, MailBackends.enabled() ? MailBackends.imapPort() : 1);
        syslog = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        syslog.setSoTimeout(200);
        receiver = new Thread(this::receive, "ErrorLogIT syslog");
        receiver.start();
        srv1 = freePort();
        srv2 = freePort();
    }

    @After
    public void tearDown() throws Exception {
        if (original != null) {
            Files.writeString(conf, original, StandardCharsets.UTF_8);
            awaitTrue("the test servers are gone", () -> !accepts(srv1) && !accepts(srv2));
        }
        if (receiver != null) {
            receiver.interrupt();
            receiver.join(5000);
        }
        if (syslog != null) {
            syslog.close();
        }
        if (auth != null) {
            auth.close();
        }
    }

    @Test
    public void nginxWordedLinesGoToTheLogsTheirLevelsTagsAndFormatsSelect() throws Exception {
        String logs = String.join("\n",
                "    error_log " + dir.resolve("srv1.json") + " info format=json filter=tag:srv1;",
                "    error_log " + dir.resolve("srv2.log") + " info filter=tag:srv2;",
                "    error_log " + dir.resolve("all.log") + " info;",
                "    error_log " + dir.resolve("errors.log") + " error;",
                "    error_log " + dir.resolve("notice.json") + " notice format=json;",
                "    error_log syslog:server=127.0.0.1:" + syslog.getLocalPort()
                        + ",facility=mail,tag=mailproxy_it,nohostname info filter=tag:srv2;",
                "    server { listen 127.0.0.1:" + srv1 + "; protocol imap; error_log_user_tag \"srv1\"; timeout 3s; }",
                "    server { listen 127.0.0.1:" + srv2 + "; protocol imap; error_log_user_tag \"srv2\"; }",
                "");
        int end = original.lastIndexOf('}');
        Files.writeString(conf, original.substring(0, end) + logs + original.substring(end), StandardCharsets.UTF_8);
        // taken live: the new servers listen and the files exist, with no restart
        awaitTrue("both test servers listen", () -> accepts(srv1) && accepts(srv2));
        awaitTrue("the error log files are open", () -> Files.exists(dir.resolve("srv1.json"))
                && Files.exists(dir.resolve("errors.log")));

        failedLogin(srv1);
        failedLogin(srv2);

        // srv1's JSON log: Angie's fields, its own session only
        JsonNode failed = awaitJson("srv1.json", j -> j.path("message").asText().startsWith("client login failed"));
        assertEquals(List.of("time", "level", "pid", "tid", "connection", "message", "mail", "tags"), names(failed));
        assertTrue(failed.get("time").asText(), failed.get("time").asText()
                .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{3})?Z"));
        assertEquals("info", failed.get("level").asText());
        assertEquals(pid, failed.get("pid").asLong());
        assertTrue(failed.get("tid").isIntegralNumber() && failed.get("connection").isIntegralNumber());
        assertEquals("client login failed: \"" + AuthHttpServer.DEFAULT_FAILURE_STATUS + "\"",
                failed.get("message").asText());
        JsonNode mail = failed.get("mail");
        assertEquals("in http auth state", mail.get("action").asText());
        assertTrue(mail.toString(), mail.get("client").asText().matches("127\\.0\\.0\\.1:\\d+"));
        assertEquals("127.0.0.1:" + srv1, mail.get("server").asText());
        assertEquals(MailBackends.ALICE, mail.get("login").asText());
        assertEquals("[\"mail\",\"srv1\"]", failed.get("tags").toString());
        for (JsonNode j : json("srv1.json")) {
            assertEquals(j.toString(), "srv1", j.get("tags").get(1).asText());
        }

        // srv2's plain log: nginx's line, its own session only
        String plain = awaitLine("srv2.log", l -> l.contains("client login failed"));
        assertTrue(plain, plain.matches("\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d \\[info\\] " + pid
                + "#\\d+: \\*\\d+ client login failed: \"" + AuthHttpServer.DEFAULT_FAILURE_STATUS
                + "\" while in http auth state, client: 127\\.0\\.0\\.1, server: 127\\.0\\.0\\.1:" + srv2
                + ", login: \"alice\""));
        assertFalse(read("srv2.log").contains("server: 127.0.0.1:" + srv1));

        // the syslog target (filter=tag:srv2): the same line behind nginx's RFC 3164 header, PRI mail.info
        String datagram = await("a syslog datagram", () -> datagrams.stream()
                .filter(d -> d.contains("client login failed")).findFirst());
        assertTrue(datagram, datagram.matches("<22>[A-Z][a-z]{2} [ 123]\\d \\d\\d:\\d\\d:\\d\\d mailproxy_it: "
                + "\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d \\[info\\] " + pid + "#\\d+: \\*\\d+ client login failed: .*"
                + "server: 127\\.0\\.0\\.1:" + srv2 + ", login: \"alice\""));
        assertTrue(datagrams.stream().noneMatch(d -> d.contains("server: 127.0.0.1:" + srv1)));

        // a client that says nothing: nginx's timeout line, with the system error in JSON
        try (LineClient idle = new LineClient("127.0.0.1", srv1, Duration.ofSeconds(15))) {
            assertTrue(idle.readLine().startsWith("* OK"));
            JsonNode timeout = awaitJson("srv1.json", j -> j.path("message").asText().equals("client timed out"));
            assertEquals("info", timeout.get("level").asText());
            assertEquals(110, timeout.get("error").get("code").asInt());
            assertEquals("Connection timed out", timeout.get("error").get("message").asText());
            assertEquals("in auth state", timeout.get("mail").get("action").asText());
            assertFalse(timeout.get("mail").has("login"));
        }
        String timeoutLine = awaitLine("all.log", l -> l.contains("client timed out"));
        assertTrue(timeoutLine, timeoutLine.matches(".* \\[info\\] " + pid + "#\\d+: \\*\\d+ client timed out "
                + "\\(110: Connection timed out\\) while in auth state, client: 127\\.0\\.0\\.1, server: 127\\.0\\.0\\.1:"
                + srv1));

        if (MailBackends.enabled()) {
            // Dovecot refuses mallory: nginx's error, not passed to the client (no proxy_pass_error_message)
            try (LineClient c = new LineClient("127.0.0.1", srv2, Duration.ofSeconds(15))) {
                c.readLine();
                String reply = c.command("a1 LOGIN " + MALLORY + " " + MALLORY_PASSWORD);
                assertTrue(reply, reply.startsWith("* BAD internal server error") || reply.contains("BAD"));
            }
            String invalid = awaitLine("errors.log", l -> l.contains("upstream sent invalid response"));
            assertTrue(invalid, invalid.matches(".* \\[error\\] " + pid + "#\\d+: \\*\\d+ upstream sent invalid response: "
                    + "\".*NO.*\" while reading response from upstream, client: 127\\.0\\.0\\.1, server: "
                    + "127\\.0\\.0\\.1:" + srv2 + ", login: \"" + MALLORY + "\", upstream: 127\\.0\\.0\\.1:"
                    + MailBackends.imapPort()));
            JsonNode error = awaitJson("notice.json", j -> j.path("message").asText().startsWith(
                    "upstream sent invalid response"));
            assertEquals("error", error.get("level").asText());
            assertEquals("reading response from upstream", error.get("mail").get("action").asText());
            assertEquals("[\"mail\",\"srv2\"]", error.get("tags").toString());
        }

        // levels: a log gets its level and the more severe ones only
        for (String line : read("errors.log").lines().toList()) {
            assertTrue(line, line.matches("\\S+ \\S+ \\[(error|crit|alert|emerg)\\] .*"));
        }
        for (JsonNode j : json("notice.json")) {
            assertTrue(j.toString(), List.of("notice", "warn", "error", "crit", "alert", "emerg")
                    .contains(j.get("level").asText()));
        }
        assertFalse(read("all.log").contains("[debug]"));
        assertTrue(read("all.log").contains("client login failed"));

        // live: srv2.log's filter changed in etc/mail.conf now takes srv1's lines, no restart
        String changed = Files.readString(conf, StandardCharsets.UTF_8).replace(
                dir.resolve("srv2.log") + " info filter=tag:srv2;", dir.resolve("srv2.log") + " info filter=tag:srv1;");
        Files.writeString(conf, changed, StandardCharsets.UTF_8);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!read("srv2.log").contains("server: 127.0.0.1:" + srv1 + ", login: \"alice\"")) {
            assertTrue("srv2.log takes srv1's lines after the change", System.nanoTime() < deadline);
            failedLogin(srv1); // until the new configuration is in place
            Thread.sleep(200);
        }

        // never a password
        for (String file : List.of("srv1.json", "srv2.log", "all.log", "errors.log", "notice.json")) {
            String text = read(file);
            assertFalse(file, text.contains(WRONG_PASSWORD) || text.contains(MALLORY_PASSWORD));
        }
        assertTrue(datagrams.stream().noneMatch(d -> d.contains(WRONG_PASSWORD)));
    }

    /** LOGIN with a wrong password: the auth server says no (Auth-Wait 0: the reply comes at once). */
    private void failedLogin(int port) throws IOException {
        try (LineClient c = new LineClient("127.0.0.1", port, Duration.ofSeconds(15))) {
            assertTrue(c.readLine().startsWith("* OK"));
            String reply = c.command("a1 LOGIN " + MailBackends.ALICE + " " + WRONG_PASSWORD);
            assertTrue(reply, reply.startsWith("a1 NO"));
        }
    }

    private void receive() {
        byte[] buf = new byte[8192];
        while (!Thread.currentThread().isInterrupted() && !syslog.isClosed()) {
            DatagramPacket packet = new DatagramPacket(buf, buf.length);
            try {
                syslog.receive(packet);
                datagrams.add(new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8));
            } catch (SocketTimeoutException e) {
                // look at the interrupt flag again
            } catch (IOException e) {
                return;
            }
        }
    }

    // ------------------------------------------------------------------------------------------

    private String read(String file) {
        try {
            return Files.readString(dir.resolve(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private List<JsonNode> json(String file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : read(file).lines().toList()) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    private String awaitLine(String file, Predicate<String> match) throws InterruptedException {
        return await("a line in " + file, () -> read(file).lines().filter(match).findFirst());
    }

    private JsonNode awaitJson(String file, Predicate<JsonNode> match) throws InterruptedException {
        return await("a JSON line in " + file, () -> {
            try {
                return json(file).stream().filter(match).findFirst();
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + read(file), e);
            }
        });
    }

    private <T> T await(String what, Supplier<Optional<T>> probe) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<T> found = probe.get();
            if (found.isPresent()) {
                return found.get();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no " + what + " within " + WAIT + "; logs: " + dir);
    }

    private static List<String> names(JsonNode node) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }
}
