package org.mailproxy.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.CharArrayWriter;
import java.io.IOException;
import java.io.Reader;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Hashtable;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.inject.Inject;
import org.apache.commons.net.pop3.POP3Client;
import org.apache.commons.net.pop3.POP3MessageInfo;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.mailproxy.itests.fixtures.AuthHttpServer;
import org.mailproxy.itests.fixtures.LineClient;
import org.mailproxy.itests.fixtures.MailBackends;
import org.mailproxy.itests.fixtures.OpensslCerts;
import org.osgi.framework.Bundle;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The POP3 bundle in a real Karaf, between a real HTTP auth server ({@link AuthHttpServer} on the
 * suite's auth_http port) and the real Dovecot of {@link MailBackends} (users alice, bob, carol).
 *
 * <p>The {@code protocol pop3} server of mail-itest.conf is the seed's example: {@code pop3_auth
 * plain apop cram-md5}, {@code pop3_capabilities LAST TOP USER PIPELINING UIDL} and
 * {@code proxy_pass_error_message on}. A second server, added through Config Admin, has nginx's
 * defaults for the error message ({@code off}) and {@code max_errors 3}; a third one
 * {@code timeout 1s} for the idle timeout.
 */
public class Pop3IT extends MailProxyTestSupport {

    private static final String POP3_BUNDLE = "org.mailproxy.pop3";
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Pattern SALTED_GREETING = Pattern.compile("^\\+OK POP3 ready (<\\d+\\.\\d+@mail\\.test\\.example>)$");

    @Inject
    private ConfigurationAdmin configAdmin;

    private AuthHttpServer auth;
    private Configuration plainServer;
    private Configuration timeoutServer;
    private Configuration everyMethodServer;
    private int plainPort;
    private int timeoutPort;

    @Before
    public void setUp() throws Exception {
        awaitBundleState(POP3_BUNDLE, Bundle.ACTIVE, DEFAULT_TIMEOUT);
        auth = AuthHttpServer.start(port("auth_http")).failureWait(null);
        plainPort = freePort();
        plainServer = server("itest-pop3", plainPort, "max_errors", "3");
        timeoutPort = freePort();
        timeoutServer = server("itest-pop3-timeout", timeoutPort, "timeout", "1s");
        awaitTrue("pop3 port " + port("pop3") + " accepts", () -> accepts(port("pop3")));
        awaitTrue("pop3 port " + plainPort + " accepts", () -> accepts(plainPort));
        awaitTrue("pop3 port " + timeoutPort + " accepts", () -> accepts(timeoutPort));
    }

    @After
    public void tearDown() throws Exception {
        for (Configuration c : new Configuration[] {plainServer, timeoutServer, everyMethodServer}) {
            if (c != null) {
                c.delete();
            }
        }
        if (auth != null) {
            auth.close();
        }
    }

    private Configuration server(String alias, int port, String... directives) throws IOException {
        Configuration c = configAdmin.getFactoryConfiguration("org.mailproxy.server", alias, "?");
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("listen", "127.0.0.1:" + port);
        props.put("protocol", "pop3");
        for (int i = 0; i < directives.length; i += 2) {
            props.put(directives[i], directives[i + 1]);
        }
        c.update(props);
        return c;
    }

    /**
     * A server with every method, STLS with the test certificate and client certificates checked
     * against {@link OpensslCerts}'s client certificate ({@code ssl_verify_client optional}); the
     * auth server answers as {@link AuthHttpServer#externalAndOauth}. Deleted in {@link #tearDown}.
     */
    private int everyMethodServer() throws Exception {
        int port = freePort();
        everyMethodServer = server("itest-pop3-every-method", port,
                "pop3_auth", "plain apop cram-md5 external xoauth2 oauthbearer",
                "starttls", "on",
                "ssl_certificate", OpensslCerts.path("server.pem"),
                "ssl_certificate_key", OpensslCerts.path("server.key"),
                "ssl_verify_client", "optional",
                "ssl_client_certificate", OpensslCerts.path("client.pem"));
        awaitTrue("pop3 port " + port + " accepts", () -> accepts(port));
        auth.handler(auth::externalAndOauth);
        return port;
    }

    // ---------------------------------------------------------------- before login

    @Test
    public void greetingCapaAndAuthListOfTheSeedConfiguration() throws Exception {
        try (LineClient c = new LineClient(port("pop3"))) {
            salt(c.readLine());
            assertEquals("+OK Capability list follows", c.command("CAPA"));
            assertEquals(List.of("LAST", "TOP", "USER", "PIPELINING", "UIDL", "SASL PLAIN LOGIN CRAM-MD5"), lines(c));
            assertEquals("+OK methods supported:", c.command("AUTH"));
            assertEquals(List.of("PLAIN", "LOGIN", "CRAM-MD5"), lines(c));
            assertEquals("+OK", c.command("NOOP"));
            assertEquals("-ERR invalid command", c.command("STAT"));
            assertEquals("-ERR invalid command", c.command("STLS"));
            assertEquals("+OK", c.command("QUIT"));
            assertClosed(c);
        }
    }

    // ---------------------------------------------------------------- each method, to Dovecot

    @Test
    public void userPassLogsInToDovecot() throws Exception {
        try (LineClient c = greeted(port("pop3"))) {
            assertEquals("+OK", c.command("USER alice"));
            assertEquals("+OK Logged in.", c.command("PASS " + MailBackends.ALICE_PASSWORD));
            assertTrue(c.command("STAT").startsWith("+OK "));
            assertEquals("+OK Logging out.", c.command("QUIT"));
        }
        AuthHttpServer.Request r = auth.awaitRequest(WAIT);
        assertEquals("plain", r.method());
        assertEquals("alice", r.user());
        assertEquals("pop3", r.protocol());
        assertEquals(1, r.loginAttempt());
        assertEquals("127.0.0.1", r.clientIp());
    }

    @Test
    public void aPasswordWithSpacesQuotesAndPercent() throws Exception {
        try (LineClient c = greeted(port("pop3"))) {
            assertEquals("+OK", c.command("USER carol"));
            assertEquals("+OK Logged in.", c.command("PASS " + MailBackends.CAROL_PASSWORD));
        }
    }

    @Test
    public void apopDigestCheckedByTheAuthServer() throws Exception {
        try (LineClient c = new LineClient(port("pop3"))) {
            String salt = salt(c.readLine());
            assertEquals("+OK Logged in.", c.command("APOP bob " + AuthHttpServer.apopDigest(salt, MailBackends.BOB_PASSWORD)));
            assertEquals("+OK Logging out.", c.command("QUIT"));
            AuthHttpServer.Request r = auth.awaitRequest(WAIT);
            assertEquals("apop", r.method());
            assertEquals(salt, r.salt().strip());
        }
        try (LineClient c = new LineClient(port("pop3"))) {
            c.readLine();
            assertEquals("-ERR Invalid login or password", c.command("APOP bob " + "0".repeat(32)));
            assertClosed(c);
        }
    }

    @Test
    public void cramMd5DigestCheckedByTheAuthServer() throws Exception {
        try (LineClient c = new LineClient(port("pop3"))) {
            String salt = salt(c.readLine());
            assertEquals("+ " + b64(salt), c.command("AUTH CRAM-MD5"));
            assertEquals("+OK Logged in.",
                    c.command(b64("alice " + AuthHttpServer.cramMd5Digest(salt, MailBackends.ALICE_PASSWORD))));
            assertEquals("+OK Logging out.", c.command("QUIT"));
            assertEquals("cram-md5", auth.awaitRequest(WAIT).method());
        }
    }

    @Test
    public void authPlainAndLoginWithAndWithoutInitialResponse() throws Exception {
        try (LineClient c = greeted(port("pop3"))) {
            assertEquals("+OK Logged in.", c.command("AUTH PLAIN " + b64("\0alice\0" + MailBackends.ALICE_PASSWORD)));
        }
        try (LineClient c = greeted(port("pop3"))) {
            assertEquals("+ ", c.command("AUTH PLAIN"));
            assertEquals("+OK Logged in.", c.command(b64("\0bob\0" + MailBackends.BOB_PASSWORD)));
        }
        try (LineClient c = greeted(port("pop3"))) {
            assertEquals("+ VXNlcm5hbWU6", c.command("AUTH LOGIN"));
            assertEquals("+ UGFzc3dvcmQ6", c.command(b64("alice")));
            assertEquals("+OK Logged in.", c.command(b64(MailBackends.ALICE_PASSWORD)));
        }
        try (LineClient c = greeted(port("pop3"))) {
            assertEquals("+ UGFzc3dvcmQ6", c.command("AUTH LOGIN " + b64("carol")));
            assertEquals("+OK Logged in.", c.command(b64(MailBackends.CAROL_PASSWORD)));
        }
        for (AuthHttpServer.Request r : auth.awaitRequests(4, WAIT)) {
            assertEquals("plain", r.method());
        }
    }

    @Test
    public void starCancelsAnExchange() throws Exception {
        try (LineClient c = greeted(port("pop3"))) {
            assertEquals("+ ", c.command("AUTH PLAIN"));
            assertEquals("-ERR invalid command", c.command("*"));
            assertEquals("+ VXNlcm5hbWU6", c.command("AUTH LOGIN"));
            assertEquals("-ERR invalid command", c.command("*"));
            assertTrue(c.command("AUTH CRAM-MD5").startsWith("+ "));
            assertEquals("-ERR invalid command", c.command("*"));
            assertEquals("+OK", c.command("USER alice"));
            assertEquals("+OK Logged in.", c.command("PASS " + MailBackends.ALICE_PASSWORD));
        }
        assertEquals(1, auth.requests().size());
    }

    @Test
    public void externalAfterStlsWithAClientCertificate() throws Exception {
        int port = everyMethodServer();
        try (LineClient c = greeted(port)) {
            assertEquals("+OK", c.command("STLS"));
            c.startTls(OpensslCerts.clientContext(true), "localhost");
            assertEquals("nginx's pop3_username prompt", "+ VXNlcm5hbWU6", c.command("AUTH EXTERNAL"));
            assertEquals("+OK Logged in.", c.command(b64(OpensslCerts.CLIENT_NAME)));
            assertTrue(c.command("STAT").startsWith("+OK "));
            assertEquals("+OK Logging out.", c.command("QUIT"));
        }
        AuthHttpServer.Request r = auth.awaitRequest(WAIT);
        assertEquals("external", r.method());
        assertEquals("bob", r.user());
        assertEquals("SUCCESS", r.header("Auth-SSL-Verify"));
        auth.clearRequests();
        // the same with the initial response, and without a certificate: refused, and closed (no Auth-Wait)
        try (LineClient c = greeted(port)) {
            assertEquals("+OK", c.command("STLS"));
            c.startTls(OpensslCerts.clientContext(true), "localhost");
            assertEquals("+OK Logged in.", c.command("AUTH EXTERNAL " + b64("bob")));
        }
        try (LineClient c = greeted(port)) {
            assertEquals("+OK", c.command("STLS"));
            c.startTls(OpensslCerts.clientContext(false), "localhost");
            assertEquals("-ERR Invalid login or password", c.command("AUTH EXTERNAL " + b64("bob")));
            assertClosed(c);
        }
        List<AuthHttpServer.Request> requests = auth.awaitRequests(2, WAIT);
        assertEquals("external", requests.get(1).method());
        assertEquals("NONE", requests.get(1).header("Auth-SSL-Verify"));
    }

    @Test
    public void xoauth2AndOauthbearerWithAndWithoutInitialResponse() throws Exception {
        int port = everyMethodServer();
        try (LineClient c = greeted(port)) {
            assertEquals("+OK Logged in.",
                    c.command("AUTH XOAUTH2 " + b64("user=alice\001auth=Bearer token-alice\001\001")));
            assertTrue(c.command("STAT").startsWith("+OK "));
        }
        try (LineClient c = greeted(port)) {
            assertEquals("+ ", c.command("AUTH XOAUTH2"));
            assertEquals("+OK Logged in.", c.command(b64("user=bob\001auth=Bearer token-bob\001\001")));
        }
        try (LineClient c = greeted(port)) {
            assertEquals("+OK Logged in.",
                    c.command("AUTH OAUTHBEARER " + b64("n,a=carol,\001auth=Bearer token-carol\001\001")));
        }
        try (LineClient c = greeted(port)) {
            assertEquals("+ ", c.command("AUTH OAUTHBEARER"));
            assertEquals("+OK Logged in.", c.command(b64("n,a=alice,\001auth=Bearer token-alice\001\001")));
            assertTrue(c.command("STAT").startsWith("+OK "));
        }
        List<AuthHttpServer.Request> requests = auth.awaitRequests(4, WAIT);
        assertEquals(List.of("xoauth2", "xoauth2", "oauthbearer", "oauthbearer"),
                requests.stream().map(AuthHttpServer.Request::method).toList());
        assertEquals(List.of("alice", "bob", "carol", "alice"),
                requests.stream().map(AuthHttpServer.Request::user).toList());
        assertEquals("the bearer token is Auth-Pass", "token-bob", requests.get(1).pass());
    }

    @Test
    public void wrongCramMd5PlainAndLoginGetTheAuthServersText() throws Exception {
        int port = everyMethodServer();
        // no Auth-Wait: the error, then nginx closes
        try (LineClient c = new LineClient(port)) {
            String salt = salt(c.readLine());
            assertEquals("+ " + b64(salt), c.command("AUTH CRAM-MD5"));
            assertEquals("-ERR Invalid login or password",
                    c.command(b64("alice " + AuthHttpServer.cramMd5Digest(salt, "not-alicepw"))));
            assertClosed(c);
        }
        try (LineClient c = greeted(port)) {
            assertEquals("+ VXNlcm5hbWU6", c.command("AUTH LOGIN"));
            assertEquals("+ UGFzc3dvcmQ6", c.command(b64("bob")));
            assertEquals("-ERR Invalid login or password", c.command(b64("wrong")));
            assertClosed(c);
        }
        List<AuthHttpServer.Request> closed = auth.awaitRequests(2, WAIT);
        assertEquals("cram-md5", closed.get(0).method());
        assertEquals("plain", closed.get(1).method()); // nginx sends plain for LOGIN
        auth.clearRequests();
        // Auth-Wait: the error after the wait, and the client may try again
        auth.failureWait(1);
        try (LineClient c = greeted(port)) {
            assertEquals("-ERR Invalid login or password", c.command("AUTH PLAIN " + b64("\0alice\0wrong")));
            assertEquals("+OK Logged in.", c.command("AUTH PLAIN " + b64("\0alice\0" + MailBackends.ALICE_PASSWORD)));
        }
        List<AuthHttpServer.Request> retried = auth.awaitRequests(2, WAIT);
        assertEquals("plain", retried.get(0).method());
        assertEquals(2, retried.get(1).loginAttempt());
    }

    // ---------------------------------------------------------------- refusals

    @Test
    public void wrongPasswordWithoutAuthWaitCloses() throws Exception {
        try (LineClient c = greeted(port("pop3"))) {
            c.command("USER alice");
            assertEquals("-ERR Invalid login or password", c.command("PASS wrong"));
            assertClosed(c);
        }
    }

    @Test
    public void authWaitDelaysTheErrorAndTheClientRetries() throws Exception {
        auth.failureWait(1);
        try (LineClient c = greeted(port("pop3"))) {
            c.command("USER alice");
            long started = System.nanoTime();
            assertEquals("-ERR Invalid login or password", c.command("PASS wrong"));
            assertTrue("Auth-Wait: 1 delays the error", System.nanoTime() - started >= 900_000_000L);
            assertEquals("+OK", c.command("USER alice"));
            assertEquals("+OK Logged in.", c.command("PASS " + MailBackends.ALICE_PASSWORD));
        }
        List<AuthHttpServer.Request> requests = auth.awaitRequests(2, WAIT);
        assertEquals(1, requests.get(0).loginAttempt());
        assertEquals(2, requests.get(1).loginAttempt());
    }

    @Test
    public void dovecotRefusingTheLoginIsShownOnlyWithProxyPassErrorMessage() throws Exception {
        // the auth server accepts, but gives Dovecot a wrong password
        auth.handler(r -> AuthHttpServer.Answer.ok(MailBackends.HOST, MailBackends.pop3Port()).pass("not-the-password"));
        try (LineClient c = greeted(port("pop3"))) {
            c.command("USER alice");
            assertEquals("-ERR [AUTH] Authentication failed.", c.command("PASS " + MailBackends.ALICE_PASSWORD));
            assertClosed(c);
        }
        try (LineClient c = greeted(plainPort)) {
            c.command("USER alice");
            assertEquals("-ERR internal server error", c.command("PASS " + MailBackends.ALICE_PASSWORD));
            assertClosed(c);
        }
    }

    /** A correct password that Dovecot refuses itself (passdb nologin), with its own text. */
    @Test
    public void dovecotRefusingACorrectPasswordWithItsOwnText() throws Exception {
        auth.user(MailBackends.LOCKED, MailBackends.LOCKED_PASSWORD);
        try (LineClient c = greeted(port("pop3"))) {
            c.command("USER " + MailBackends.LOCKED);
            assertEquals("proxy_pass_error_message on", "-ERR [AUTH] " + MailBackends.LOCKED_REASON,
                    c.command("PASS " + MailBackends.LOCKED_PASSWORD));
            assertClosed(c);
        }
        try (LineClient c = greeted(plainPort)) {
            c.command("USER " + MailBackends.LOCKED);
            assertEquals("proxy_pass_error_message off", "-ERR internal server error",
                    c.command("PASS " + MailBackends.LOCKED_PASSWORD));
            assertClosed(c);
        }
        for (AuthHttpServer.Request r : auth.awaitRequests(2, WAIT)) {
            assertEquals("the auth server let the password through", MailBackends.LOCKED_PASSWORD, r.pass());
        }
    }

    // ---------------------------------------------------------------- after login, limits

    @Test
    public void pipelinedCommandsReachDovecotAfterTheLogin() throws Exception {
        try (LineClient c = greeted(port("pop3"))) {
            c.sendRaw(("CAPA\r\nUSER bob\r\nPASS " + MailBackends.BOB_PASSWORD + "\r\nSTAT\r\nNOOP\r\nQUIT\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            assertEquals("+OK Capability list follows", c.readLine());
            lines(c);
            assertEquals("+OK", c.readLine());
            assertEquals("+OK Logged in.", c.readLine());
            assertTrue(c.readLine().matches("\\+OK \\d+ \\d+"));
            assertEquals("+OK", c.readLine());
            assertEquals("+OK Logging out.", c.readLine());
            assertClosed(c);
        }
    }

    @Test
    public void retrOfAMultiMegabyteMessageIsByteForByteWhatDovecotStores() throws Exception {
        byte[] message = message("big", 100_000); // about 5.5 MB, lines starting with a dot included
        assertTrue(message.length > 5_000_000);
        MailBackends.seed("bob", message);
        try (LineClient c = greeted(port("pop3"))) {
            c.command("USER bob");
            assertEquals("+OK Logged in.", c.command("PASS " + MailBackends.BOB_PASSWORD));
            int n = numberOfSize(c, message.length);
            assertEquals("+OK " + message.length + " octets", c.command("RETR " + n));
            assertArrayEquals(message, c.readDotTerminated());
            assertEquals("+OK Logging out.", c.command("QUIT"));
        }
    }

    @Test
    public void maxErrorsClosesAfterTheThirdInvalidCommand() throws Exception {
        try (LineClient c = greeted(plainPort)) {
            assertEquals("-ERR invalid command", c.command("LIST"));
            assertEquals("-ERR invalid command", c.command("RETR 1"));
            assertEquals("+OK", c.command("NOOP"));
            assertEquals("-ERR invalid command", c.command("DELE 1"));
            assertClosed(c);
        }
    }

    @Test
    public void idleTimeoutClosesSilently() throws Exception {
        try (LineClient c = greeted(timeoutPort)) {
            long started = System.nanoTime();
            assertClosed(c);
            assertTrue("closed after about 1 s", System.nanoTime() - started < 8_000_000_000L);
        }
    }

    // ---------------------------------------------------------------- a real POP3 client library

    @Test
    public void apacheCommonsNetPop3Client() throws Exception {
        byte[] message = message("commons-net", 23);
        MailBackends.seed("alice", message);
        POP3Client client = new POP3Client();
        client.setDefaultTimeout(10_000);
        client.connect("127.0.0.1", port("pop3"));
        try {
            Matcher salt = Pattern.compile("<[^>]+>").matcher(client.getReplyString());
            assertTrue(client.getReplyString(), salt.find());
            assertTrue("APOP through the proxy", client.login("alice", salt.group(), MailBackends.ALICE_PASSWORD));
            assertTrue(client.status().number >= 1);
            POP3MessageInfo seeded = null;
            for (POP3MessageInfo info : client.listMessages()) {
                if (info.size == message.length) {
                    seeded = info;
                }
            }
            assertTrue("the seeded message is listed", seeded != null);
            try (Reader r = client.retrieveMessage(seeded.number)) {
                CharArrayWriter text = new CharArrayWriter();
                r.transferTo(text);
                assertEquals(new String(message, StandardCharsets.US_ASCII), text.toString());
            }
            assertTrue(client.logout());
        } finally {
            client.disconnect();
        }
        POP3Client user = new POP3Client();
        user.setDefaultTimeout(10_000);
        user.connect("127.0.0.1", port("pop3"));
        try {
            assertTrue("USER/PASS through the proxy", user.login("bob", MailBackends.BOB_PASSWORD));
            assertTrue(user.logout());
        } finally {
            user.disconnect();
        }
    }

    // ---------------------------------------------------------------- helpers

    private static LineClient greeted(int port) throws IOException {
        LineClient c = new LineClient(port);
        String greeting = c.readLine();
        assertTrue(greeting, greeting.startsWith("+OK POP3 ready"));
        return c;
    }

    /** The number of the (only) message of this size, from LIST. */
    private static int numberOfSize(LineClient c, int size) throws IOException {
        assertTrue(c.command("LIST").startsWith("+OK"));
        int found = -1;
        for (String line : lines(c)) {
            String[] w = line.split(" ");
            if (Integer.parseInt(w[1]) == size) {
                found = Integer.parseInt(w[0]);
            }
        }
        assertTrue("a message of " + size + " bytes is listed", found > 0);
        return found;
    }

    private static String salt(String greeting) {
        Matcher m = SALTED_GREETING.matcher(greeting);
        assertTrue(greeting, m.matches());
        return m.group(1);
    }

    /** The lines of a multi-line reply, without the final ".". */
    private static List<String> lines(LineClient c) throws IOException {
        return List.of(new String(c.readDotTerminated(), StandardCharsets.UTF_8).split("\r\n"));
    }

    private static void assertClosed(LineClient c) throws IOException {
        try {
            assertEquals("nothing more before the close", 0, c.readToEnd().length);
        } catch (SocketTimeoutException e) {
            fail("the proxy did not close the connection");
        }
    }

    /** A message with CRLF line ends, as Dovecot returns it byte for byte, some lines starting with a dot. */
    private static byte[] message(String subject, int lines) {
        StringBuilder b = new StringBuilder("From: Pop3IT <pop3it@test.example>\r\nTo: someone@test.example\r\n")
                .append("Subject: ").append(subject).append("\r\nMessage-ID: <").append(subject).append(System.nanoTime())
                .append("@test.example>\r\n\r\n");
        for (int i = 0; i < lines; i++) {
            b.append(i % 7 == 0 ? "." : "").append("line ").append(i).append(" of the message, with some text to fill it\r\n");
        }
        return b.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }
}
