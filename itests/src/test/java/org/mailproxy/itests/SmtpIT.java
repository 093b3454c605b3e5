package org.mailproxy.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.inject.Inject;
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
 * The SMTP bundle in a real Karaf, between a real HTTP auth server ({@link AuthHttpServer} on the
 * suite's auth_http port) and the real Postfix of {@link MailBackends} (XCLIENT allowed from
 * 127.0.0.0/8, SMTP AUTH through Dovecot, delivery into maildirs).
 *
 * <p>The seed configuration's smtp server (mail-itest.conf: {@code smtp_auth login plain cram-md5},
 * {@code smtp_capabilities "SIZE 10485760" ENHANCEDSTATUSCODES 8BITMIME DSN}, {@code xclient off})
 * and servers added here through Config Admin: XCLIENT on with max_errors 3, smtp_auth none,
 * smtp_greeting_delay, proxy_smtp_auth.
 */
public class SmtpIT extends MailProxyTestSupport {

    private static final String SMTP_BUNDLE = "org.mailproxy.smtp";
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    @Inject
    private ConfigurationAdmin configAdmin;

    private AuthHttpServer auth;
    private final List<Configuration> servers = new ArrayList<>();
    private final List<LineClient> clients = new ArrayList<>();

    private long logMark;

    @Before
    public void setUp() throws Exception {
        awaitBundleState(SMTP_BUNDLE, Bundle.ACTIVE, DEFAULT_TIMEOUT);
        // Postfix is shared by every test class of the run: look only at what this test logs
        logMark = MailBackends.postfixLogMark();
        auth = AuthHttpServer.start(port("auth_http")).failureWait(1);
        awaitTrue("smtp port " + port("smtp") + " accepts", () -> accepts(port("smtp")));
    }

    @After
    public void tearDown() throws Exception {
        for (LineClient c : clients) {
            c.close();
        }
        for (Configuration server : servers) {
            server.delete();
        }
        if (auth != null) {
            auth.close();
        }
    }

    /** Adds an smtp server through Config Admin and waits until it listens. */
    private int server(String alias, String... directives) throws Exception {
        return addServer(configAdmin, servers, alias, "127.0.0.1:%d", concat(new String[] {"protocol", "smtp"}, directives));
    }

    private LineClient client(int port) throws IOException {
        return client(port, null);
    }

    /** A client connecting from {@code from} (e.g. 127.0.0.2), greeted. */
    private LineClient client(int port, InetAddress from) throws IOException {
        LineClient c = new LineClient("127.0.0.1", port, from, Duration.ofSeconds(20));
        clients.add(c);
        assertEquals("220 mail.test.example ESMTP ready", c.readLine());
        return c;
    }

    /**
     * A server with every AUTH method, STARTTLS with the test certificate and client certificates
     * checked against {@link OpensslCerts}'s ({@code ssl_verify_client optional}), xclient on so
     * that Postfix logs the login; the auth server answers as {@link AuthHttpServer#externalAndOauth}.
     */
    private int everyMethodServer() throws Exception {
        auth.handler(auth::externalAndOauth);
        return server("itest-smtp-every-method", "smtp_auth", "plain login cram-md5 external xoauth2 oauthbearer",
                "xclient", "on", "starttls", "on",
                "ssl_certificate", OpensslCerts.path("server.pem"),
                "ssl_certificate_key", OpensslCerts.path("server.key"),
                "ssl_verify_client", "optional",
                "ssl_client_certificate", OpensslCerts.path("client.pem"));
    }

    /** MAIL, RCPT, DATA and QUIT after a login: Postfix delivers the message to the user, byte for byte. */
    private void sendAndAssertDelivered(LineClient c, String user) throws Exception {
        String id = "smtpit-" + SEQUENCE.incrementAndGet();
        byte[] sent = message(id, user + "@test.example", 2000);
        assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<sender@client.example>"));
        assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<" + user + "@test.example>"));
        assertTrue(data(c, sent).startsWith("250 2.0.0 Ok: queued"));
        assertEquals("221 2.0.0 Bye", c.command("QUIT"));
        assertDelivered(user, id, sent);
    }

    private AuthHttpServer.Request lastRequest() {
        List<AuthHttpServer.Request> requests = auth.requests();
        return requests.get(requests.size() - 1);
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String reply(LineClient c, String command) throws IOException {
        c.send(command);
        List<String> lines = c.readSmtpReply();
        return lines.get(lines.size() - 1);
    }

    /** A message with a unique X-Test-Id header, about {@code size} bytes, CRLF lines, some starting with dots. */
    private static byte[] message(String id, String to, int size) throws Exception {
        StringBuilder text = new StringBuilder();
        text.append("X-Test-Id: ").append(id).append("\r\nFrom: sender@client.example\r\nTo: ").append(to)
                .append("\r\nSubject: smtpit\r\n\r\n.leading dot\r\n..two dots\r\ntab\there \r\n");
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        long n = 0;
        while (text.length() < size - 2) {
            String line = Base64.getEncoder().encodeToString(digest.digest(Long.toString(n++).getBytes()));
            text.append(line, 0, Math.min(line.length(), size - 2 - text.length())).append("\r\n");
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** DATA with the message dot-stuffed; returns the final reply. */
    private static String data(LineClient c, byte[] message) throws IOException {
        assertTrue(reply(c, "DATA").startsWith("354"));
        String text = new String(message, StandardCharsets.US_ASCII);
        StringBuilder stuffed = new StringBuilder(message.length + 64);
        for (String line : text.split("\r\n", -1)) {
            if (line.startsWith(".")) {
                stuffed.append('.');
            }
            stuffed.append(line).append("\r\n");
        }
        stuffed.setLength(stuffed.length() - 2); // the split's last piece was empty
        c.sendRaw(stuffed.toString().getBytes(StandardCharsets.US_ASCII));
        return reply(c, ".");
    }

    private static void assertDelivered(String user, String id, byte[] sent) throws Exception {
        byte[] stored = MailBackends.awaitDelivery(user, "X-Test-Id: " + id, Duration.ofSeconds(20));
        assertArrayEquals(MailBackends.crlfToLf(sent), MailBackends.fromLine(stored, "X-Test-Id: " + id));
    }

    // ---------------------------------------------------------------- the seed configuration

    @Test
    public void seedServerEhloAndCommandsBeforeLogin() throws Exception {
        LineClient c = client(port("smtp"));
        c.send("EHLO client.example");
        assertEquals(List.of("250-mail.test.example", "250-SIZE 10485760", "250-ENHANCEDSTATUSCODES",
                "250-8BITMIME", "250-DSN", "250 AUTH PLAIN LOGIN CRAM-MD5"), c.readSmtpReply());
        assertEquals("250 mail.test.example", c.command("HELO client.example"));
        assertEquals("530 5.7.1 Authentication required", c.command("MAIL FROM:<a@client.example>"));
        assertEquals("503 5.5.1 Bad sequence of commands", c.command("RCPT TO:<alice@test.example>"));
        assertEquals("250 2.0.0 OK", c.command("RSET"));
        assertEquals("250 2.0.0 OK", c.command("NOOP"));
        assertEquals("500 5.5.1 Invalid command", c.command("VRFY alice"));
        // no TLS configured: STARTTLS is refused, the command pipelined after it is read as before
        c.sendRaw("STARTTLS\r\nNOOP\r\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals("500 5.5.1 Invalid command", c.readLine());
        assertEquals("250 2.0.0 OK", c.readLine());
        assertEquals("221 2.0.0 Bye", c.command("QUIT"));
        assertTrue(closedByPeer(c));
        assertTrue(auth.requests().isEmpty());
    }

    /** AUTH PLAIN, a multi-megabyte message byte for byte into Postfix's maildir, through the submission server too. */
    @Test
    public void authPlainAndAMultiMegabyteMessage() throws Exception {
        for (String name : List.of("smtp", "submission")) {
            LineClient c = client(port(name));
            c.send("EHLO client.example");
            c.readSmtpReply();
            assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0alice\0alicepw")));
            AuthHttpServer.Request r = auth.awaitRequest(Duration.ofSeconds(5));
            assertEquals("plain", r.method());
            assertEquals("alice", r.user());
            assertEquals("smtp", r.protocol());
            assertEquals("[UNAVAILABLE]", r.header("Client-Host"));
            auth.clearRequests();
            String id = "smtpit-" + SEQUENCE.incrementAndGet();
            byte[] sent = message(id, "alice@test.example", 3 * 1024 * 1024);
            assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<sender@client.example>"));
            assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<alice@test.example>"));
            assertTrue(data(c, sent).startsWith("250 2.0.0 Ok: queued"));
            assertEquals("221 2.0.0 Bye", c.command("QUIT"));
            assertDelivered("alice", id, sent);
        }
        // xclient off: Postfix saw the proxy itself, without a login
        String line = MailBackends.awaitPostfixLog("client=localhost[127.0.0.1]", logMark, Duration.ofSeconds(10));
        assertTrue(line, !line.contains("sasl_username"));
    }

    @Test
    public void authLoginCramMd5AndFailures() throws Exception {
        LineClient c = client(port("smtp"));
        assertEquals("334 VXNlcm5hbWU6", c.command("AUTH LOGIN"));
        assertEquals("334 UGFzc3dvcmQ6", c.command(b64("bob")));
        assertEquals("535 5.7.0 Invalid login or password", c.command(b64("wrong")));
        assertEquals("334 UGFzc3dvcmQ6", c.command("AUTH LOGIN " + b64("bob")));
        assertEquals("235 2.0.0 OK", c.command(b64("bobpw")));
        assertEquals("250 2.0.0 Ok", c.command("NOOP")); // Postfix's answer now
        assertEquals("221 2.0.0 Bye", c.command("QUIT"));

        c = client(port("smtp"));
        String challenge = c.command("AUTH CRAM-MD5");
        assertTrue(challenge, challenge.startsWith("334 "));
        String salt = new String(Base64.getDecoder().decode(challenge.substring(4)), StandardCharsets.UTF_8);
        assertTrue(salt, salt.matches("<\\d+\\.\\d+@mail\\.test\\.example>"));
        assertEquals("235 2.0.0 OK", c.command(b64("carol " + AuthHttpServer.cramMd5Digest(salt,
                MailBackends.CAROL_PASSWORD))));
        assertEquals("cram-md5", auth.requests().get(auth.requests().size() - 1).method());
        assertEquals("250 2.0.0 Ok", c.command("NOOP"));
    }

    @Test
    public void externalAfterStarttlsWithAClientCertificate() throws Exception {
        int port = everyMethodServer();
        LineClient c = client(port);
        c.send("EHLO client.example");
        assertEquals(List.of("250-mail.test.example", "250-SIZE 10485760", "250-ENHANCEDSTATUSCODES", "250-8BITMIME",
                "250-DSN", "250-AUTH PLAIN LOGIN CRAM-MD5 EXTERNAL XOAUTH2 OAUTHBEARER", "250 STARTTLS"),
                c.readSmtpReply());
        assertEquals("220 2.0.0 Start TLS", c.command("STARTTLS"));
        c.startTls(OpensslCerts.clientContext(true), "localhost");
        c.send("EHLO client.example");
        c.readSmtpReply();
        assertEquals("334 VXNlcm5hbWU6", c.command("AUTH EXTERNAL"));
        assertEquals("235 2.0.0 OK", c.command(b64(OpensslCerts.CLIENT_NAME)));
        AuthHttpServer.Request r = lastRequest();
        assertEquals("external", r.method());
        assertEquals("bob", r.user());
        assertEquals("SUCCESS", r.header("Auth-SSL-Verify"));
        sendAndAssertDelivered(c, "bob");
        MailBackends.awaitPostfixLog("sasl_method=XCLIENT, sasl_username=bob", logMark, Duration.ofSeconds(10));
    }

    @Test
    public void xoauth2AndOauthbearerIncludingARefusedToken() throws Exception {
        int port = everyMethodServer();
        LineClient c = client(port);
        assertEquals("235 2.0.0 OK", c.command("AUTH XOAUTH2 " + b64("user=alice\001auth=Bearer token-alice\001\001")));
        assertEquals("xoauth2", lastRequest().method());
        sendAndAssertDelivered(c, "alice");

        c = client(port);
        assertEquals("334 ", c.command("AUTH OAUTHBEARER"));
        // a refused token: Angie's 334 with the auth server's Auth-Error-SASL, then the error after the client's answer
        assertEquals("334 " + AuthHttpServer.OAUTH_SASL_ERROR,
                c.command(b64("n,a=carol,\001auth=Bearer expired\001\001")));
        assertEquals("535 5.7.0 Invalid login or password", c.command("AQ=="));
        assertEquals("oauthbearer", lastRequest().method());
        assertEquals("expired", lastRequest().pass());
        assertEquals("334 ", c.command("AUTH OAUTHBEARER"));
        assertEquals("235 2.0.0 OK", c.command(b64("n,a=carol,\001auth=Bearer token-carol\001\001")));
        assertEquals("oauthbearer", lastRequest().method());
        assertEquals(2, lastRequest().loginAttempt());
        sendAndAssertDelivered(c, "carol");
        MailBackends.awaitPostfixLog("sasl_method=XCLIENT, sasl_username=carol", logMark, Duration.ofSeconds(10));
    }

    @Test
    public void authPlainInTwoStepsAndStarCancel() throws Exception {
        int port = everyMethodServer();
        LineClient c = client(port);
        assertEquals("334 VXNlcm5hbWU6", c.command("AUTH LOGIN"));
        assertEquals("500 5.5.1 Invalid command", c.command("*"));
        assertEquals("334 ", c.command("AUTH PLAIN"));
        assertEquals("500 5.5.1 Invalid command", c.command("*"));
        assertTrue(auth.requests().isEmpty());
        assertEquals("334 ", c.command("AUTH PLAIN"));
        assertEquals("235 2.0.0 OK", c.command(b64("\0bob\0bobpw")));
        AuthHttpServer.Request r = auth.awaitRequest(Duration.ofSeconds(5));
        assertEquals("plain", r.method());
        assertEquals(1, auth.requests().size());
        sendAndAssertDelivered(c, "bob");
        MailBackends.awaitPostfixLog("sasl_method=XCLIENT, sasl_username=bob", logMark, Duration.ofSeconds(10));
    }

    // ---------------------------------------------------------------- XCLIENT, smtp_auth none, proxy_smtp_auth

    @Test
    public void xclientSeenByPostfix() throws Exception {
        int port = server("itest-smtp-xclient", "xclient", "on");
        LineClient c = client(port);
        c.send("EHLO client-helo.example");
        c.readSmtpReply();
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0bob\0bobpw")));
        String id = "smtpit-" + SEQUENCE.incrementAndGet();
        byte[] sent = message(id, "bob@test.example", 4000);
        assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<sender@client.example>"));
        assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<bob@test.example>"));
        assertTrue(data(c, sent).startsWith("250 2.0.0 Ok: queued"));
        assertEquals("221 2.0.0 Bye", c.command("QUIT"));
        assertDelivered("bob", id, sent);
        String line = MailBackends.awaitPostfixLog("sasl_method=XCLIENT, sasl_username=bob", logMark, Duration.ofSeconds(10));
        assertTrue(line, line.contains("client=unknown[127.0.0.1]"));
        byte[] stored = MailBackends.awaitDelivery("bob", "X-Test-Id: " + id, Duration.ofSeconds(5));
        assertTrue(new String(stored, StandardCharsets.UTF_8).contains("Received: from client-helo.example"));
    }

    /**
     * The client connects from 127.0.0.2 (all of 127.0.0.0/8 is lo on Linux): with xclient on,
     * Postfix logs that address and the auth server's Auth-User, xtext-decoded; with xclient off,
     * the proxy's own 127.0.0.1 and no login.
     */
    @Test
    public void xclientCarriesTheClientsAddressAndTheAuthServersUser() throws Exception {
        InetAddress from = InetAddress.getByName("127.0.0.2");
        String login = "bob the+builder";
        auth.handler(r -> "plain".equals(r.method()) ? auth.tableAnswer(r).user(login) : null);
        int port = server("itest-smtp-xclient-from", "xclient", "on");
        LineClient c = client(port, from);
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0bob\0bobpw")));
        assertEquals("127.0.0.2", lastRequest().clientIp());
        sendAndAssertDelivered(c, "bob");
        String line = MailBackends.awaitPostfixLog("sasl_username=" + login, logMark, Duration.ofSeconds(10));
        assertTrue(line, line.contains("client=unknown[127.0.0.2]") && line.contains("sasl_method=XCLIENT"));

        long mark = MailBackends.postfixLogMark();
        c = client(port("smtp"), from);
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0alice\0alicepw")));
        sendAndAssertDelivered(c, "alice");
        line = MailBackends.awaitPostfixLog("client=", mark, Duration.ofSeconds(10));
        assertTrue(line, line.contains("client=localhost[127.0.0.1]") && !line.contains("sasl_username"));
    }

    /**
     * {@code smtp_auth none plain} with xclient on and Auth-Wait on failures (CVE-2025-53859): a
     * failed AUTH, then MAIL and RCPT: the request for none carries empty Auth-User and Auth-Pass,
     * and Postfix logs no login for the message.
     */
    @Test
    public void authNoneAfterAFailedAuthCarriesNoCredentials() throws Exception {
        int port = server("itest-smtp-none-after-auth", "smtp_auth", "none plain", "xclient", "on");
        LineClient c = client(port);
        c.send("EHLO client.example");
        c.readSmtpReply();
        assertEquals("535 5.7.0 Invalid login or password", c.command("AUTH PLAIN " + b64("\0alice\0leaked")));
        String id = "smtpit-" + SEQUENCE.incrementAndGet();
        byte[] sent = message(id, "carol@test.example", 2000);
        assertEquals("250 2.0.0 OK", c.command("MAIL FROM:<sender@client.example>"));
        assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<carol@test.example>"));
        assertTrue(data(c, sent).startsWith("250 2.0.0 Ok: queued"));
        assertEquals("221 2.0.0 Bye", c.command("QUIT"));
        assertDelivered("carol", id, sent);
        List<AuthHttpServer.Request> requests = auth.awaitRequests(2, Duration.ofSeconds(5));
        assertEquals("plain", requests.get(0).method());
        assertEquals("alice", requests.get(0).user());
        AuthHttpServer.Request none = requests.get(1);
        assertEquals("none", none.method());
        assertEquals("", none.header("Auth-User"));
        assertEquals("", none.header("Auth-Pass"));
        String line = MailBackends.awaitPostfixLog("client=unknown[127.0.0.1]", logMark, Duration.ofSeconds(10));
        assertTrue(line, !line.contains("sasl_username"));
    }

    @Test
    public void smtpAuthNoneReplaysTheEnvelope() throws Exception {
        int port = server("itest-smtp-none", "smtp_auth", "none", "xclient", "on");
        LineClient c = client(port);
        c.send("EHLO relay-client.example");
        // mail-level smtp_capabilities, no AUTH line: none is no SASL mechanism
        assertEquals(List.of("250-mail.test.example", "250-SIZE 10485760", "250-ENHANCEDSTATUSCODES", "250-8BITMIME",
                "250 DSN"), c.readSmtpReply());
        assertEquals("250 2.0.0 OK", c.command("MAIL FROM:<sender@client.example>"));
        String id = "smtpit-" + SEQUENCE.incrementAndGet();
        byte[] sent = message(id, "carol@test.example", 2000);
        // RCPT with DATA pipelined: the RCPT reply is Postfix's
        c.sendRaw("RCPT TO:<carol@test.example>\r\nDATA\r\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals("250 2.1.5 Ok", c.readLine());
        assertTrue(c.readLine().startsWith("354"));
        StringBuilder body = new StringBuilder();
        for (String line : new String(sent, StandardCharsets.US_ASCII).split("\r\n")) {
            body.append(line.startsWith(".") ? "." : "").append(line).append("\r\n");
        }
        c.sendRaw(body.toString().getBytes(StandardCharsets.US_ASCII));
        assertTrue(reply(c, ".").startsWith("250 2.0.0 Ok: queued"));
        assertEquals("221 2.0.0 Bye", c.command("QUIT"));
        assertDelivered("carol", id, sent);
        AuthHttpServer.Request r = auth.awaitRequest(Duration.ofSeconds(5));
        assertEquals("none", r.method());
        assertEquals("", r.user());
        assertEquals("", r.pass());
        assertEquals("relay-client.example", r.header("Auth-SMTP-Helo"));
        assertEquals("MAIL FROM:<sender@client.example>", r.header("Auth-SMTP-From"));
        assertEquals("RCPT TO:<carol@test.example>", r.header("Auth-SMTP-To"));
        String line = MailBackends.awaitPostfixLog("client=unknown[127.0.0.1]", logMark, Duration.ofSeconds(10));
        assertTrue(line, !line.contains("sasl_username"));
    }

    @Test
    public void proxySmtpAuthLogsInToPostfix() throws Exception {
        int port = server("itest-smtp-auth", "xclient", "on", "proxy_smtp_auth", "on");
        LineClient c = client(port);
        c.send("EHLO client.example");
        c.readSmtpReply();
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0alice\0alicepw")));
        String id = "smtpit-" + SEQUENCE.incrementAndGet();
        byte[] sent = message(id, "alice@test.example", 1000);
        assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<sender@client.example>"));
        assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<alice@test.example>"));
        assertTrue(data(c, sent).startsWith("250 2.0.0 Ok: queued"));
        assertEquals("221 2.0.0 Bye", c.command("QUIT"));
        assertDelivered("alice", id, sent);
        // Postfix authenticated the proxy's AUTH PLAIN itself (Dovecot SASL); XCLIENT carried no LOGIN
        MailBackends.awaitPostfixLog("sasl_method=PLAIN, sasl_username=alice", logMark, Duration.ofSeconds(10));
    }

    // ---------------------------------------------------------------- limits

    @Test
    public void greetingDelayRefusesAnEarlyTalker() throws Exception {
        int port = server("itest-smtp-delay", "smtp_greeting_delay", "1s");
        LineClient early = new LineClient("127.0.0.1", port, Duration.ofSeconds(10));
        clients.add(early);
        early.send("EHLO hurry.example");
        assertEquals("503 5.5.0 Improper use of SMTP command pipelining", early.readLine());
        assertTrue(closedByPeer(early));
        long t0 = System.nanoTime();
        LineClient patient = client(port);
        assertTrue(System.nanoTime() - t0 > 800_000_000L);
        assertEquals("250 2.0.0 OK", patient.command("NOOP"));
    }

    @Test
    public void maxErrorsCloses() throws Exception {
        int port = server("itest-smtp-errors", "max_errors", "3");
        LineClient c = client(port);
        assertEquals("500 5.5.1 Invalid command", c.command("FOO"));
        assertEquals("500 5.5.1 Invalid command", c.command("BAR"));
        assertEquals("500 5.5.1 Invalid command", c.command("BAZ"));
        assertTrue(closedByPeer(c));
    }

    // ---------------------------------------------------------------- helpers

    private static boolean closedByPeer(LineClient c) throws IOException {
        try {
            c.readLineBytes();
            return false;
        } catch (EOFException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

}
