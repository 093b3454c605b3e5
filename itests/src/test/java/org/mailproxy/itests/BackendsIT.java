package org.mailproxy.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.mailproxy.itests.fixtures.MailBackends.ALICE;
import static org.mailproxy.itests.fixtures.MailBackends.ALICE_PASSWORD;
import static org.mailproxy.itests.fixtures.MailBackends.BOB;
import static org.mailproxy.itests.fixtures.MailBackends.BOB_PASSWORD;
import static org.mailproxy.itests.fixtures.MailBackends.CAROL;
import static org.mailproxy.itests.fixtures.MailBackends.CAROL_PASSWORD;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.mailproxy.itests.fixtures.AuthHttpServer;
import org.mailproxy.itests.fixtures.AuthHttpServer.Answer;
import org.mailproxy.itests.fixtures.AuthHttpServer.Request;
import org.mailproxy.itests.fixtures.LineClient;
import org.mailproxy.itests.fixtures.MailBackends;

/**
 * The shared test fixtures work from inside Karaf: the real Dovecot (IMAP, POP3) and Postfix
 * (SMTP, XCLIENT, AUTH through Dovecot) that {@link MailBackends} started for the suite, and the
 * {@link AuthHttpServer} on the suite's auth_http port. Talks to the backends directly, not
 * through the proxy: this is also the example to copy for the protocol tests.
 */
public class BackendsIT extends MailProxyTestSupport {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private AuthHttpServer auth;

    @Before
    public void startAuthServer() throws Exception {
        auth = AuthHttpServer.start(port("auth_http"));
    }

    @After
    public void stopAuthServer() {
        if (auth != null) {
            auth.close();
        }
    }

    // ----------------------------------------------------------------------------------------
    // Dovecot
    // ----------------------------------------------------------------------------------------

    @Test
    public void imapLoginAndFetchThePreSeededMessage() throws Exception {
        assertEquals(MailBackends.imapPort(), port("dovecot_imap"));
        try (LineClient imap = new LineClient(port("dovecot_imap"))) {
            String greeting = imap.readLine();
            assertTrue(greeting, greeting.startsWith("* OK ") && greeting.endsWith("Dovecot fixture ready."));
            assertTrue(greeting, greeting.contains("AUTH=CRAM-MD5"));
            assertTagged(imap.send("a1 LOGIN " + ALICE + " " + ALICE_PASSWORD).readUntil("a1 "), "a1 OK");
            assertTagged(imap.send("a2 EXAMINE INBOX").readUntil("a2 "), "a2 OK");
            Map<Integer, byte[]> messages = fetchAll(imap, "a3");
            assertTrue("pre-seeded message missing: " + messages.keySet(),
                messages.values().stream().anyMatch(m -> java.util.Arrays.equals(m, MailBackends.welcomeMessage(ALICE))));
            assertTagged(imap.send("a4 LOGOUT").readUntil("a4 "), "a4 OK");
        }
    }

    @Test
    public void imapCramMd5AndALiteralPasswordWithQuotesAndSpaces() throws Exception {
        try (LineClient imap = new LineClient(port("dovecot_imap"))) {
            imap.readLine();
            String challenge = imap.command("c1 AUTHENTICATE CRAM-MD5");
            assertTrue(challenge, challenge.startsWith("+ "));
            String salt = new String(Base64.getDecoder().decode(challenge.substring(2)), StandardCharsets.US_ASCII);
            String response = BOB + " " + AuthHttpServer.cramMd5Digest(salt, BOB_PASSWORD);
            imap.send(Base64.getEncoder().encodeToString(response.getBytes(StandardCharsets.US_ASCII)));
            assertTagged(imap.readUntil("c1 "), "c1 OK");
        }
        try (LineClient imap = new LineClient(port("dovecot_imap"))) {
            imap.readLine();
            byte[] password = CAROL_PASSWORD.getBytes(StandardCharsets.UTF_8);
            imap.send("l1 LOGIN " + CAROL + " {" + password.length + "+}");  // LITERAL+
            imap.sendRaw(password).send("");
            assertTagged(imap.readUntil("l1 "), "l1 OK");
        }
    }

    @Test
    public void pop3LoginAndRetrieveASeededMessageByteForByte() throws Exception {
        String id = UUID.randomUUID().toString();
        byte[] message = ("Subject: pop3 " + id + "\r\n\r\n.leading dot\r\n..two dots\r\ntrailing space \r\n\r\nend\r\n")
            .getBytes(StandardCharsets.US_ASCII);
        MailBackends.seed(BOB, message);
        try (LineClient pop3 = new LineClient(port("dovecot_pop3"))) {
            assertEquals("+OK Dovecot fixture ready.", pop3.readLine());
            assertTrue(pop3.command("USER " + BOB).startsWith("+OK"));
            assertTrue(pop3.command("PASS " + BOB_PASSWORD).startsWith("+OK"));
            pop3.send("LIST");
            assertTrue(pop3.readLine().startsWith("+OK"));
            String[] list = new String(pop3.readDotTerminated(), StandardCharsets.US_ASCII).split("\r\n");
            boolean found = false;
            for (String entry : list) {
                String[] numberAndSize = entry.split(" ");
                if (Integer.parseInt(numberAndSize[1]) != message.length) {
                    continue;
                }
                pop3.send("RETR " + numberAndSize[0]);
                assertTrue(pop3.readLine().startsWith("+OK"));
                byte[] retrieved = pop3.readDotTerminated();
                if (java.util.Arrays.equals(message, retrieved)) {
                    found = true;
                }
            }
            assertTrue("seeded message not retrieved; LIST " + String.join(",", list), found);
            assertEquals("+OK Logging out.", pop3.command("QUIT"));
        }
    }

    @Test
    public void wrongPasswordsAreRefusedQuicklyAndDoNotSlowDownTheNextLogin() throws Exception {
        for (int i = 0; i < 3; i++) {
            long start = System.nanoTime();
            try (LineClient pop3 = new LineClient(port("dovecot_pop3"))) {
                pop3.readLine();
                pop3.command("USER " + ALICE);
                String reply = pop3.command("PASS wrong");
                assertTrue(reply, reply.startsWith("-ERR"));
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue("a failed login took " + millis + " ms (auth_failure_delay 0: about 500)", millis < 1900);
        }
        long start = System.nanoTime();
        try (LineClient imap = new LineClient(port("dovecot_imap"))) {
            imap.readLine();
            assertTagged(imap.send("a1 LOGIN " + BOB + " " + BOB_PASSWORD).readUntil("a1 "), "a1 OK");
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue("a good login after failures took " + millis + " ms (auth penalty should be off)", millis < 1900);
    }

    // ----------------------------------------------------------------------------------------
    // Postfix
    // ----------------------------------------------------------------------------------------

    @Test
    public void smtpWithXclientIsDeliveredByteForByte() throws Exception {
        long logMark = MailBackends.postfixLogMark();
        String id = UUID.randomUUID().toString();
        String sent = "X-Test-Id: " + id + "\r\n"
            + "From: Alice <alice@client.example>\r\n"
            + "To: bob@test.example\r\n"
            + "Subject: fixture test\r\n"
            + "\r\n"
            + ".a line with a leading dot (dot-stuffed on the wire)\r\n"
            + "trailing space \r\n"
            + "\tand a tab\r\n"
            + "8-bit: gr\u00fc\u00dfe\r\n";
        try (LineClient smtp = new LineClient(port("postfix_smtp"))) {
            assertEquals("220 mx.test.example ESMTP", smtp.readLine());
            List<String> ehlo = smtp.send("EHLO proxy.test").readSmtpReply();
            assertTrue(ehlo.toString(), ehlo.stream().anyMatch(l -> l.startsWith("250-XCLIENT ")));
            assertEquals("220 mx.test.example ESMTP",
                smtp.command("XCLIENT NAME=client.example ADDR=192.0.2.7 PORT=40123 LOGIN=alice HELO=orig-helo"));
            assertReply(smtp.send("EHLO client-helo.example").readSmtpReply(), "250 ");
            assertReply(smtp.send("MAIL FROM:<alice@client.example> BODY=8BITMIME").readSmtpReply(), "250 ");
            assertReply(smtp.send("RCPT TO:<bob@test.example>").readSmtpReply(), "250 ");
            assertReply(smtp.send("DATA").readSmtpReply(), "354 ");
            smtp.sendRaw(dotStuff(sent).getBytes(StandardCharsets.UTF_8)).send(".");
            assertReply(smtp.readSmtpReply(), "250 ");
            assertReply(smtp.send("QUIT").readSmtpReply(), "221 ");
        }
        byte[] stored = MailBackends.awaitDelivery(BOB, "X-Test-Id: " + id, WAIT);
        assertArrayEquals(MailBackends.crlfToLf(sent.getBytes(StandardCharsets.UTF_8)),
            MailBackends.fromLine(stored, "X-Test-Id: " + id));
        String head = new String(stored, StandardCharsets.UTF_8);
        assertTrue(head, head.startsWith("Return-Path: <alice@client.example>\n"));
        assertTrue(head, head.contains("Received: from client-helo.example (client.example [192.0.2.7])"));
        String log = MailBackends.awaitPostfixLog("client=client.example[192.0.2.7]:40123", logMark, WAIT);
        assertTrue(log, log.contains("sasl_method=XCLIENT, sasl_username=alice"));
    }

    @Test
    public void smtpAuthThroughDovecotAndCatchAll() throws Exception {
        String id = UUID.randomUUID().toString();
        try (LineClient smtp = new LineClient(port("postfix_smtp"))) {
            smtp.readLine();
            List<String> ehlo = smtp.send("EHLO client.test").readSmtpReply();
            assertTrue(ehlo.toString(), ehlo.stream().anyMatch(l -> l.matches("250-AUTH .*PLAIN.*")));
            String plain = Base64.getEncoder().encodeToString(("\0" + BOB + "\0" + BOB_PASSWORD).getBytes(StandardCharsets.UTF_8));
            assertReply(smtp.send("AUTH PLAIN " + plain).readSmtpReply(), "235 ");
            assertReply(smtp.send("MAIL FROM:<bob@test.example>").readSmtpReply(), "250 ");
            assertReply(smtp.send("RCPT TO:<somebody-else@test.example>").readSmtpReply(), "250 ");
            assertReply(smtp.send("RCPT TO:<x@elsewhere.example>").readSmtpReply(), "554 ");  // no relaying
            assertReply(smtp.send("DATA").readSmtpReply(), "354 ");
            smtp.send("X-Test-Id: " + id).send("").send("hi").send(".");
            assertReply(smtp.readSmtpReply(), "250 ");
            smtp.send("QUIT");
        }
        byte[] stored = MailBackends.awaitDelivery("catchall", "X-Test-Id: " + id, WAIT);
        assertEquals("X-Test-Id: " + id + "\n\nhi\n",
            new String(MailBackends.fromLine(stored, "X-Test-Id: " + id), StandardCharsets.UTF_8));
        assertNotNull(MailBackends.awaitPostfixLog("sasl_method=PLAIN, sasl_username=bob", WAIT));
    }

    // ----------------------------------------------------------------------------------------
    // AuthHttpServer
    // ----------------------------------------------------------------------------------------

    @Test
    public void authServerAnswersFromTheUserTable() throws Exception {
        Map<String, String> ok = authRequest("Auth-Method: plain", "Auth-User: alice", "Auth-Pass: alicepw",
            "Auth-Protocol: imap", "Auth-Login-Attempt: 1", "Client-IP: 192.0.2.1", "Client-Host: [UNAVAILABLE]");
        assertEquals("OK", ok.get("auth-status"));
        assertEquals("127.0.0.1", ok.get("auth-server"));
        assertEquals(Integer.toString(port("dovecot_imap")), ok.get("auth-port"));

        // carol's password as nginx escapes it (space, double quote and percent)
        Map<String, String> escaped = authRequest("Auth-Method: plain", "Auth-User: carol",
            "Auth-Pass: c4rol%20pw%20%22100%25%22", "Auth-Protocol: pop3", "Auth-Login-Attempt: 1");
        assertEquals("OK", escaped.get("auth-status"));
        assertEquals(Integer.toString(port("dovecot_pop3")), escaped.get("auth-port"));

        Map<String, String> bad = authRequest("Auth-Method: plain", "Auth-User: alice", "Auth-Pass: nope",
            "Auth-Protocol: smtp", "Auth-Login-Attempt: 2");
        assertEquals(AuthHttpServer.DEFAULT_FAILURE_STATUS, bad.get("auth-status"));
        assertEquals("0", bad.get("auth-wait"));

        String salt = "<4242.1700000000@mail.test.example>";
        Map<String, String> cram = authRequest("Auth-Method: cram-md5", "Auth-User: bob",
            "Auth-Pass: " + AuthHttpServer.cramMd5Digest(salt, BOB_PASSWORD), "Auth-Salt: " + salt,
            "Auth-Protocol: smtp", "Auth-Login-Attempt: 1");
        assertEquals("OK", cram.get("auth-status"));
        assertEquals(BOB_PASSWORD, cram.get("auth-pass"));
        assertEquals(Integer.toString(port("postfix_smtp")), cram.get("auth-port"));

        Map<String, String> apop = authRequest("Auth-Method: apop", "Auth-User: alice",
            "Auth-Pass: " + AuthHttpServer.apopDigest(salt, ALICE_PASSWORD), "Auth-Salt: " + salt,
            "Auth-Protocol: pop3", "Auth-Login-Attempt: 1");
        assertEquals("OK", apop.get("auth-status"));
        assertEquals(ALICE_PASSWORD, apop.get("auth-pass"));

        List<Request> requests = auth.awaitRequests(5, WAIT);
        assertEquals(5, requests.size());
        Request first = requests.get(0);
        assertEquals("GET", first.httpMethod());
        assertEquals("/auth", first.uri());
        assertEquals("HTTP/1.0", first.httpVersion());
        assertEquals("192.0.2.1", first.clientIp());
        assertEquals("[UNAVAILABLE]", first.header("client-host"));
        assertEquals(CAROL_PASSWORD, requests.get(1).pass());
        assertEquals(2, requests.get(2).loginAttempt());
        assertEquals(salt, requests.get(3).salt());
    }

    @Test
    public void authServerScriptedAnswers() throws Exception {
        auth.enqueue(Answer.fail("Temporary failure").waitSeconds(3).errorCode("451 4.3.0"),
            Answer.httpStatus(503),
            Answer.ok("127.0.0.1", 10143).user("bob").pass("secret").delay(Duration.ofMillis(200)));
        Map<String, String> first = authRequest("Auth-Method: plain", "Auth-User: alice", "Auth-Pass: alicepw");
        assertEquals("Temporary failure", first.get("auth-status"));
        assertEquals("3", first.get("auth-wait"));
        assertEquals("451 4.3.0", first.get("auth-error-code"));
        Map<String, String> second = authRequest("Auth-Method: plain", "Auth-User: alice", "Auth-Pass: alicepw");
        assertTrue(second.get("status-line"), second.get("status-line").matches("HTTP/1\\.[01] 503 .*"));
        assertEquals(null, second.get("auth-status"));

        long start = System.nanoTime();
        Map<String, String> third = authRequest("Auth-Method: plain", "Auth-User: x", "Auth-Pass: y");
        assertTrue((System.nanoTime() - start) / 1_000_000 >= 200);
        assertEquals("OK", third.get("auth-status"));
        assertEquals("10143", third.get("auth-port"));
        assertEquals("bob", third.get("auth-user"));

        // a handler decides, falling back to the table with null
        auth.handler(request -> "mallory".equals(request.user()) ? Answer.fail("go away").errorCode("535 5.7.8") : null);
        assertEquals("go away", authRequest("Auth-Method: plain", "Auth-User: mallory", "Auth-Pass: x",
            "Auth-Protocol: smtp").get("auth-status"));
        assertEquals("OK", authRequest("Auth-Method: plain", "Auth-User: bob", "Auth-Pass: bobpw",
            "Auth-Protocol: smtp").get("auth-status"));
        assertEquals("OK", authRequest("Auth-Method: none", "Auth-User: ", "Auth-Pass: ",
            "Auth-Protocol: smtp", "Auth-SMTP-Helo: client.test", "Auth-SMTP-From: MAIL FROM:<a@b.example>",
            "Auth-SMTP-To: RCPT TO:<bob@test.example>").get("auth-status"));
        assertEquals("RCPT TO:<bob@test.example>", auth.requests().get(auth.requests().size() - 1).header("Auth-SMTP-To"));

        auth.enqueue(Answer.drop());
        try (LineClient http = new LineClient(port("auth_http"))) {
            http.send("GET /auth HTTP/1.0").send("Auth-Method: plain").send("");
            assertEquals(0, http.readToEnd().length);
        }
    }

    /**
     * Sends an HTTP/1.0 request as nginx does (GET /auth, one header per line) over a raw socket;
     * returns the response headers by lower-case name, plus "status-line" (the response's
     * first line; the JDK server answers HTTP/1.1).
     */
    private Map<String, String> authRequest(String... headers) throws IOException {
        try (LineClient http = new LineClient(port("auth_http"))) {
            http.send("GET /auth HTTP/1.0").send("Host: 127.0.0.1");
            for (String header : headers) {
                http.send(header);
            }
            http.send("");
            String[] lines = new String(http.readToEnd(), StandardCharsets.UTF_8).split("\r\n");
            Map<String, String> response = new LinkedHashMap<>();
            response.put("status-line", lines[0]);
            for (int i = 1; i < lines.length && !lines[i].isEmpty(); i++) {
                int colon = lines[i].indexOf(':');
                response.put(lines[i].substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT),
                    lines[i].substring(colon + 1).trim());
            }
            return response;
        }
    }

    // ----------------------------------------------------------------------------------------

    private static final Pattern FETCH_LITERAL = Pattern.compile("^\\* (\\d+) FETCH \\(.*BODY\\[\\] \\{(\\d+)\\}$");

    /** FETCH 1:* BODY.PEEK[]: message number to bytes. */
    private static Map<Integer, byte[]> fetchAll(LineClient imap, String tag) throws IOException {
        imap.send(tag + " FETCH 1:* (BODY.PEEK[])");
        Map<Integer, byte[]> messages = new LinkedHashMap<>();
        while (true) {
            String line = imap.readLine();
            if (line.startsWith(tag + " ")) {
                assertTrue(line, line.startsWith(tag + " OK"));
                return messages;
            }
            Matcher m = FETCH_LITERAL.matcher(line);
            if (m.matches()) {
                messages.put(Integer.parseInt(m.group(1)), imap.readBytes(Integer.parseInt(m.group(2))));
                assertEquals(")", imap.readLine());
            }
        }
    }

    private static void assertTagged(List<String> lines, String expectedStart) {
        String last = lines.get(lines.size() - 1);
        assertTrue(lines.toString(), last.startsWith(expectedStart));
    }

    private static void assertReply(List<String> reply, String expectedStart) {
        assertTrue(reply.toString(), reply.get(reply.size() - 1).startsWith(expectedStart));
    }

    /** SMTP DATA transparency: a line starting with "." gets another "." (RFC 5321 4.5.2). */
    private static String dotStuff(String message) {
        return message.replaceAll("(?m)^\\.", "..");
    }
}
