package org.mailproxy.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.inject.Inject;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.mailproxy.itests.fixtures.AuthHttpServer;
import org.mailproxy.itests.fixtures.MailBackends;
import org.osgi.framework.Bundle;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The IMAP bundle in a real Karaf, between a real HTTP auth server ({@link AuthHttpServer} on the
 * suite's auth_http port) and the real Dovecot of {@link MailBackends} (users alice, bob, carol).
 *
 * <p>Two servers: the {@code protocol imap} server of mail-itest.conf (nginx defaults, so
 * {@code proxy_pass_error_message off}), and one added here through Config Admin with every auth
 * method, {@code proxy_pass_error_message on}, {@code max_errors 3} and {@code timeout 10s}
 * (connecting and logging in to Dovecot must fit in {@code timeout}; the idle timeout is checked on
 * a third server of its own).
 */
public class ImapIT extends MailProxyTestSupport {

    private static final String IMAP_BUNDLE = "org.mailproxy.imap";
    private static final String SASL_ERROR = "eyJzdGF0dXMiOiI0MDEifQ==";

    @Inject
    private ConfigurationAdmin configAdmin;

    private AuthHttpServer auth;
    private Configuration extraServer;
    private Configuration timeoutServer;
    private int extraPort;

    @Before
    public void setUp() throws Exception {
        awaitBundleState(IMAP_BUNDLE, Bundle.ACTIVE, DEFAULT_TIMEOUT);
        auth = AuthHttpServer.start(port("auth_http")).failureWait(1).handler(this::oauth);
        extraPort = freePort();
        extraServer = configAdmin.getFactoryConfiguration("org.mailproxy.server", "itest-imap", "?");
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("listen", "127.0.0.1:" + extraPort);
        props.put("protocol", "imap");
        props.put("imap_auth", "plain login cram-md5 external xoauth2 oauthbearer");
        props.put("imap_capabilities", "IMAP4rev1 IDLE SASL-IR ID");
        props.put("proxy_pass_error_message", "on");
        props.put("max_errors", "3");
        props.put("timeout", "10s");
        extraServer.update(props);
        awaitTrue("imap port " + port("imap") + " accepts", () -> accepts(port("imap")));
        awaitTrue("extra imap port " + extraPort + " accepts", () -> accepts(extraPort));
    }

    @After
    public void tearDown() throws Exception {
        if (extraServer != null) {
            extraServer.delete();
        }
        if (timeoutServer != null) {
            timeoutServer.delete();
        }
        if (auth != null) {
            auth.close();
        }
    }

    /**
     * What the user table does not do for IMAP: EXTERNAL gets the user's Dovecot password as
     * Auth-Pass (nginx needs one for the backend LOGIN); for XOAUTH2 and OAUTHBEARER the bearer
     * token "token-USER" logs USER in, any other token fails with an Auth-Error-SASL challenge, as
     * Angie's auth servers answer.
     */
    private AuthHttpServer.Answer oauth(AuthHttpServer.Request request) {
        String method = request.method();
        String password = MailBackends.USERS.get(request.user());
        if ("external".equals(method) && password != null) {
            return auth.tableAnswer(request).pass(password);
        }
        if (!"xoauth2".equals(method) && !"oauthbearer".equals(method)) {
            return null;
        }
        if (password != null && ("token-" + request.user()).equals(request.pass())) {
            return AuthHttpServer.Answer.ok(MailBackends.HOST, MailBackends.imapPort()).pass(password);
        }
        return AuthHttpServer.Answer.fail(AuthHttpServer.DEFAULT_FAILURE_STATUS).waitSeconds(1)
                .header("Auth-Error-SASL", SASL_ERROR);
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    // ---------------------------------------------------------------- before login

    @Test
    public void capabilityIdNoopLogoutAsNginxAnswersThem() throws Exception {
        try (Client c = client(port("imap"))) {
            c.line("a1 CAPABILITY");
            assertEquals("* CAPABILITY IMAP4rev1 UIDPLUS IDLE LITERAL+ QUOTA AUTH=PLAIN", c.readLine());
            assertEquals("a1 OK completed", c.readLine());
            c.line("a2 ID (\"name\" \"ImapIT\")");
            assertEquals("* ID NIL", c.readLine());
            assertEquals("a2 OK completed", c.readLine());
            c.line("a3 SELECT INBOX");
            assertEquals("a3 BAD invalid command", c.readLine());
            c.line("a4 STARTTLS");
            assertEquals("a4 BAD invalid command", c.readLine());
            c.line("a5 NOOP");
            assertEquals("a5 OK completed", c.readLine());
            c.line("a6 LOGOUT");
            assertEquals("* BYE", c.readLine());
            assertEquals("a6 OK completed", c.readLine());
            assertTrue(c.closedByPeer());
        }
        try (Client c = client(extraPort)) {
            c.line("a1 CAPABILITY");
            assertEquals("* CAPABILITY IMAP4rev1 IDLE SASL-IR ID AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5 AUTH=EXTERNAL"
                    + " AUTH=XOAUTH2 AUTH=OAUTHBEARER", c.readLine());
            assertEquals("a1 OK completed", c.readLine());
        }
    }

    // ---------------------------------------------------------------- LOGIN

    @Test
    public void loginWithAtomsQuotedStringsAndLiterals() throws Exception {
        try (Client c = client(port("imap"))) {
            c.line("a1 LOGIN alice alicepw");
            assertLoggedIn(c, "a1");
        }
        try (Client c = client(port("imap"))) {
            c.line("a1 LOGIN \"carol\" \"c4rol pw \\\"100%\\\"\"");
            assertLoggedIn(c, "a1");
        }
        try (Client c = client(port("imap"))) {
            c.send("a1 LOGIN carol {15+}\r\nc4rol pw \"100%\"\r\n");
            assertLoggedIn(c, "a1");
        }
        try (Client c = client(port("imap"))) {
            c.line("a1 LOGIN {5}");
            assertEquals("+ OK", c.readLine());
            c.line("alice {7}");
            assertEquals("+ OK", c.readLine());
            c.line("alicepw");
            assertLoggedIn(c, "a1");
        }
        try (Client c = client(port("imap"))) {
            c.send("a1 LOGIN {5+}\r\nalice {7+}\r\nalicepw\r\n");
            assertLoggedIn(c, "a1");
        }
        assertEquals("plain", last().method());
        assertEquals("imap", last().protocol());
    }

    /** Dovecot's own tagged OK reaches the client under its tag, and the session is Dovecot's. */
    private static void assertLoggedIn(Client c, String tag) throws IOException {
        String ok = c.readLine();
        assertTrue(ok, ok.startsWith(tag + " OK ") && ok.contains("Logged in"));
        c.line("s1 SELECT INBOX");
        String line;
        while ((line = c.readLine()) != null && !line.startsWith("s1 ")) {
            // untagged FLAGS, EXISTS...
        }
        assertTrue(line, line.startsWith("s1 OK"));
        c.line("s2 LOGOUT");
        assertTrue(c.readLine().startsWith("* BYE"));
        assertTrue(c.readLine().startsWith("s2 OK"));
    }

    @Test
    public void wrongPasswordWithAuthWaitThenRetry() throws Exception {
        try (Client c = client(port("imap"))) {
            long start = System.nanoTime();
            c.line("a1 LOGIN alice wrong");
            assertEquals("a1 NO Invalid login or password", c.readLine());
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(900));
            c.line("a2 LOGIN alice alicepw");
            assertLoggedIn(c, "a2");
        }
        assertEquals(2, last().loginAttempt());
    }

    @Test
    public void wrongPasswordWithoutAuthWaitCloses() throws Exception {
        auth.failureWait(null);
        try (Client c = client(port("imap"))) {
            c.line("a1 LOGIN alice wrong");
            assertEquals("a1 NO Invalid login or password", c.readLine());
            assertTrue(c.closedByPeer());
        }
    }

    @Test
    public void authStatusWaitIsAskedAgain() throws Exception {
        auth.enqueue(AuthHttpServer.Answer.fail("WAIT").waitSeconds(1));
        try (Client c = client(port("imap"))) {
            c.line("a1 LOGIN bob bobpw");
            assertLoggedIn(c, "a1");
        }
        assertEquals(2, auth.requests().size());
        assertEquals("a WAIT is not a new attempt", 1, last().loginAttempt());
    }

    @Test
    public void backendRefusingTheLogin() throws Exception {
        auth.handler(request -> auth.tableAnswer(request).pass("not-what-dovecot-has"));
        try (Client c = client(port("imap"))) {
            c.line("a1 LOGIN alice alicepw");
            assertEquals("proxy_pass_error_message off", "* BAD internal server error", c.readLine());
            assertTrue(c.closedByPeer());
        }
        try (Client c = client(extraPort)) {
            c.line("a1 LOGIN alice alicepw");
            String no = c.readLine();
            assertTrue("proxy_pass_error_message on: Dovecot's answer, " + no,
                    no.startsWith("a1 NO ") && no.contains("Authentication failed"));
            assertTrue(c.closedByPeer());
        }
    }

    /** A correct password that Dovecot refuses itself (passdb nologin), with its own text. */
    @Test
    public void backendRefusingACorrectPasswordWithItsOwnText() throws Exception {
        auth.user(MailBackends.LOCKED, MailBackends.LOCKED_PASSWORD);
        try (Client c = client(port("imap"))) {
            c.line("a1 LOGIN " + MailBackends.LOCKED + " " + MailBackends.LOCKED_PASSWORD);
            assertEquals("proxy_pass_error_message off", "* BAD internal server error", c.readLine());
            assertTrue(c.closedByPeer());
        }
        try (Client c = client(extraPort)) {
            c.line("a1 LOGIN " + MailBackends.LOCKED + " " + MailBackends.LOCKED_PASSWORD);
            assertEquals("proxy_pass_error_message on", "a1 NO [CONTACTADMIN] " + MailBackends.LOCKED_REASON,
                    c.readLine());
            assertTrue(c.closedByPeer());
        }
        assertEquals(MailBackends.LOCKED_PASSWORD, last().pass());
    }

    // ---------------------------------------------------------------- AUTHENTICATE

    @Test
    public void everyAuthMethod() throws Exception {
        try (Client c = client(extraPort)) {
            c.line("1 AUTHENTICATE PLAIN " + b64("\0alice\0alicepw"));
            assertLoggedIn(c, "1");
        }
        try (Client c = client(extraPort)) {
            c.line("1 AUTHENTICATE PLAIN");
            assertEquals("+ ", c.readLine());
            c.line(b64("\0bob\0bobpw"));
            assertLoggedIn(c, "1");
        }
        try (Client c = client(extraPort)) {
            c.line("1 AUTHENTICATE LOGIN");
            assertEquals("+ VXNlcm5hbWU6", c.readLine());
            c.line(b64("alice"));
            assertEquals("+ UGFzc3dvcmQ6", c.readLine());
            c.line(b64("alicepw"));
            assertLoggedIn(c, "1");
        }
        try (Client c = client(extraPort)) {
            c.line("1 AUTHENTICATE CRAM-MD5");
            String challenge = c.readLine();
            String salt = new String(Base64.getDecoder().decode(challenge.substring(2)), StandardCharsets.US_ASCII);
            assertTrue(salt, salt.matches("<\\d+\\.\\d+@mail\\.test\\.example>"));
            c.line(b64("alice " + AuthHttpServer.cramMd5Digest(salt, "alicepw")));
            assertLoggedIn(c, "1");
            assertEquals("cram-md5", last().method());
        }
        try (Client c = client(extraPort)) {
            c.line("1 AUTHENTICATE EXTERNAL " + b64("bob"));
            assertLoggedIn(c, "1");
        }
        try (Client c = client(extraPort)) {
            c.line("1 AUTHENTICATE XOAUTH2 " + b64("user=alice\001auth=Bearer token-alice\001\001"));
            assertLoggedIn(c, "1");
            assertEquals("xoauth2", last().method());
        }
        try (Client c = client(extraPort)) {
            c.line("1 AUTHENTICATE OAUTHBEARER");
            assertEquals("+ ", c.readLine());
            c.line(b64("n,a=bob,\001auth=Bearer token-bob\001\001"));
            assertLoggedIn(c, "1");
        }
    }

    @Test
    public void oauthErrorAsAngieSendsIt() throws Exception {
        try (Client c = client(extraPort)) {
            c.line("1 AUTHENTICATE OAUTHBEARER " + b64("n,a=alice,\001auth=Bearer expired\001\001"));
            assertEquals("+ " + SASL_ERROR, c.readLine());
            c.line("AQ==");
            assertEquals("1 NO Invalid login or password", c.readLine());
            c.line("2 AUTHENTICATE OAUTHBEARER " + b64("n,a=alice,\001auth=Bearer token-alice\001\001"));
            assertLoggedIn(c, "2");
        }
    }

    // ---------------------------------------------------------------- pipelining and limits

    @Test
    public void pipelinedCommandsReachDovecotInOrder() throws Exception {
        try (Client c = client(port("imap"))) {
            c.send("a0 NOOP\r\na1 LOGIN alice alicepw\r\na2 SELECT INBOX\r\na3 LOGOUT\r\n");
            assertEquals("a0 OK completed", c.readLine());
            assertTrue(c.readLine().startsWith("a1 OK "));
            String line;
            while ((line = c.readLine()) != null && !line.startsWith("a2 ")) {
                // SELECT's untagged answers
            }
            assertTrue(line, line.startsWith("a2 OK"));
            assertTrue(c.readLine().startsWith("* BYE"));
            assertTrue(c.readLine().startsWith("a3 OK"));
            assertTrue(c.closedByPeer());
        }
    }

    @Test
    public void maxErrorsAndTimeout() throws Exception {
        try (Client c = client(extraPort)) {
            for (int i = 1; i <= 3; i++) {
                c.line("e" + i + " FOO");
                assertEquals("e" + i + " BAD invalid command", c.readLine());
            }
            assertTrue("max_errors 3", c.closedByPeer());
        }
        int timeoutPort = freePort();
        timeoutServer = configAdmin.getFactoryConfiguration("org.mailproxy.server", "itest-imap-timeout", "?");
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("listen", "127.0.0.1:" + timeoutPort);
        props.put("protocol", "imap");
        props.put("timeout", "1500ms");
        timeoutServer.update(props);
        awaitTrue("imap port " + timeoutPort + " accepts", () -> accepts(timeoutPort));
        try (Client c = client(timeoutPort)) {
            c.line("t1 NOOP");
            assertEquals("t1 OK completed", c.readLine());
            long start = System.nanoTime();
            assertNull("timeout 1500ms: closed without a word", c.readLine());
            long waited = System.nanoTime() - start;
            assertTrue(waited >= TimeUnit.MILLISECONDS.toNanos(1300) && waited < TimeUnit.SECONDS.toNanos(10));
        }
    }

    // ---------------------------------------------------------------- through the relay

    @Test
    public void fetchOfAMultiMegabyteMessageIsByteForByteWhatDovecotStores() throws Exception {
        byte[] message = message("alice", 3 * 1024 * 1024 + 17);
        MailBackends.seed("alice", message);
        try (Client c = client(port("imap"))) {
            c.line("a1 LOGIN alice alicepw");
            assertTrue(c.readLine().startsWith("a1 OK "));
            c.line("a2 EXAMINE INBOX");
            String line;
            int exists = -1;
            while ((line = c.readLine()) != null && !line.startsWith("a2 ")) {
                if (line.endsWith(" EXISTS")) {
                    exists = Integer.parseInt(line.split(" ")[1]);
                }
            }
            assertTrue(line, line.startsWith("a2 OK"));
            assertTrue("seeded message visible", exists >= 1);
            c.line("a3 FETCH " + exists + " (RFC822.SIZE BODY.PEEK[])");
            String header = c.readLine();
            String expectedStart = "* " + exists + " FETCH (RFC822.SIZE " + message.length + " BODY[] {" + message.length + "}";
            assertEquals(expectedStart, header);
            byte[] body = c.read(message.length);
            assertArrayEquals("the stored message, byte for byte", message, body);
            assertEquals(")", c.readLine());
            assertTrue(c.readLine().startsWith("a3 OK"));
        }
    }

    @Test
    public void idleThroughTheRelay() throws Exception {
        try (Client c = client(port("imap"))) {
            c.line("a1 LOGIN bob bobpw");
            assertTrue(c.readLine().startsWith("a1 OK "));
            c.line("a2 SELECT INBOX");
            String line;
            int exists = 0;
            while ((line = c.readLine()) != null && !line.startsWith("a2 ")) {
                if (line.endsWith(" EXISTS")) {
                    exists = Integer.parseInt(line.split(" ")[1]);
                }
            }
            c.timeout(Duration.ofSeconds(45)); // inotify, else Dovecot's 30 s idle check
            c.line("a3 IDLE");
            assertTrue(c.readLine().startsWith("+ "));
            MailBackends.seed("bob", message("bob", 1000));
            String update = c.readLine(); // Dovecot notices the new file within its IDLE check interval
            assertEquals("* " + (exists + 1) + " EXISTS", update);
            c.line("DONE");
            while ((line = c.readLine()) != null && !line.startsWith("a3 ")) {
                // RECENT and the like
            }
            assertTrue(line, line.startsWith("a3 OK"));
        }
    }

    // ---------------------------------------------------------------- helpers

    private AuthHttpServer.Request last() {
        List<AuthHttpServer.Request> requests = auth.requests();
        return requests.get(requests.size() - 1);
    }

    private static int seeded;

    /** A message of about {@code size} bytes with CRLF line ends, so IMAP returns it byte for byte. */
    private static synchronized byte[] message(String user, int size) throws Exception {
        seeded++;
        StringBuilder text = new StringBuilder();
        text.append("From: sender@example.com\r\nTo: ").append(user).append("@test.example\r\n")
                .append("Subject: imapit ").append(seeded).append("\r\nX-Test-Id: imapit-").append(seeded)
                .append("\r\n\r\n");
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        long n = 0;
        while (text.length() < size - 2) {
            String line = Base64.getEncoder().encodeToString(digest.digest(Long.toString(n++).getBytes()));
            text.append(line, 0, Math.min(line.length(), size - 2 - text.length())).append("\r\n");
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static Client client(int port) throws IOException {
        Client c = new Client(port);
        assertEquals("* OK IMAP4 ready", c.readLine());
        return c;
    }

    /** A raw IMAP client: lines, exact byte counts, the end of the connection. */
    static final class Client implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Client(int port) throws IOException {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(15_000);
            in = new java.io.BufferedInputStream(socket.getInputStream(), 65536);
            out = socket.getOutputStream();
        }

        void timeout(Duration timeout) throws IOException {
            socket.setSoTimeout((int) timeout.toMillis());
        }

        void send(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        void line(String text) throws IOException {
            send(text + "\r\n");
        }

        String readLine() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                if (b == '\n') {
                    String s = line.toString(StandardCharsets.UTF_8);
                    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
                }
                line.write(b);
            }
            return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
        }

        byte[] read(int n) throws IOException {
            return in.readNBytes(n);
        }

        boolean closedByPeer() throws IOException {
            try {
                return in.read() < 0;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                return true;
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
