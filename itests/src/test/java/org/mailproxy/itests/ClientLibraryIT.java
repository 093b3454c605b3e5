package org.mailproxy.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import jakarta.mail.Address;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.search.HeaderTerm;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.mailproxy.itests.fixtures.AuthHttpServer;
import org.mailproxy.itests.fixtures.LineClient;
import org.mailproxy.itests.fixtures.MailBackends;
import org.osgi.framework.Bundle;

/**
 * A real mail client library as the client of the proxy, inside Karaf: Angus Mail (the Jakarta Mail
 * 2.1 implementation, installed as bundles by {@link MailProxyTestSupport}) through the seed
 * configuration's imap, pop3, smtp and submission servers (mail-itest.conf) to the real Dovecot and
 * Postfix of {@link MailBackends}, with the real HTTP auth server ({@link AuthHttpServer}) in
 * between. Besides, SMTP client pipelining once the relay to Postfix has started, over a raw socket
 * (Angus Mail does not pipeline SMTP).
 *
 * <p>In OSGi the jakarta.mail and jakarta.activation API bundles find Angus's providers through the
 * OSGi resource locator bundle (org.glassfish.hk2.osgiresourcelocator, which they import
 * dynamically), so no thread context class loader is set here; {@link #session} checks that the
 * providers are Angus's.
 *
 * <p>Each Session writes its protocol trace (Jakarta Mail's debug output, with the authentication
 * commands: mail.debug.auth) to a buffer that a failure message carries and that the tests read to
 * see which commands Angus chose.
 */
public class ClientLibraryIT extends MailProxyTestSupport {

    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String TIMEOUT_MS = "20000";

    private AuthHttpServer auth;
    private final ByteArrayOutputStream trace = new ByteArrayOutputStream();

    @Before
    public void setUp() throws Exception {
        for (String bundle : List.of("org.mailproxy.imap", "org.mailproxy.pop3", "org.mailproxy.smtp",
                "org.eclipse.angus.mail")) {
            awaitBundleState(bundle, Bundle.ACTIVE, DEFAULT_TIMEOUT);
        }
        auth = AuthHttpServer.start(port("auth_http")).failureWait(1);
        for (String name : List.of("imap", "pop3", "smtp", "submission")) {
            awaitTrue(name + " port " + port(name) + " accepts", () -> accepts(port(name)));
        }
    }

    @After
    public void tearDown() {
        if (auth != null) {
            auth.close();
        }
    }

    // ---------------------------------------------------------------- IMAP store

    /**
     * AUTHENTICATE PLAIN (Angus's choice for AUTH=PLAIN), EXAMINE, SEARCH HEADER and the FETCH of a
     * 2 MB message: in Angus's 16 kB partial fetches, and whole in one literal.
     */
    @Test
    public void imapStoreReadsWhatDovecotStores() throws Exception {
        for (String partialFetch : List.of("true", "false")) {
            imapStoreReads(partialFetch);
        }
    }

    private void imapStoreReads(String partialFetch) throws Exception {
        String id = id("imap");
        byte[] message = message(id, "alice@test.example", 2 * 1024 * 1024);
        MailBackends.seed(MailBackends.ALICE, message);
        auth.clearRequests();
        trace.reset();
        traced(() -> {
            Properties props = new Properties();
            props.put("mail.imap.partialfetch", partialFetch);
            Store store = session("imap", props).getStore("imap");
            store.connect("127.0.0.1", port("imap"), MailBackends.ALICE, MailBackends.ALICE_PASSWORD);
            try {
                Folder inbox = store.getFolder("INBOX");
                inbox.open(Folder.READ_ONLY);
                Message[] found = inbox.search(new HeaderTerm("X-Test-Id", id));
                assertEquals("messages with X-Test-Id " + id, 1, found.length);
                assertEquals(message.length, found[0].getSize());
                ByteArrayOutputStream fetched = new ByteArrayOutputStream();
                found[0].writeTo(fetched);
                assertArrayEquals(storedInDovecot(MailBackends.ALICE, id), fetched.toByteArray());
                assertArrayEquals(message, fetched.toByteArray());
                inbox.close(false);
            } finally {
                store.close();
            }
            String log = trace();
            assertTrue(log, log.contains(" AUTHENTICATE PLAIN"));
            assertTrue(log, log.contains("true".equals(partialFetch) ? " (BODY[]<16384.16384>)" : " (BODY[])"));
        });
        AuthHttpServer.Request r = auth.awaitRequest(WAIT);
        assertEquals("imap", r.protocol());
        assertEquals("plain", r.method());
        assertEquals(MailBackends.ALICE, r.user());
    }

    /**
     * The IMAP LOGIN command (AUTHENTICATE PLAIN disabled in the client) with carol's password of
     * spaces, quotes and a percent sign, which Angus sends as a quoted string.
     */
    @Test
    public void imapStoreLoginCommandWithAQuotedPassword() throws Exception {
        String id = id("imap-login");
        byte[] message = message(id, "carol@test.example", 3000);
        MailBackends.seed(MailBackends.CAROL, message);
        traced(() -> {
            Properties props = new Properties();
            props.put("mail.imap.auth.plain.disable", "true");
            Store store = session("imap", props).getStore("imap");
            store.connect("127.0.0.1", port("imap"), MailBackends.CAROL, MailBackends.CAROL_PASSWORD);
            try {
                Folder inbox = store.getFolder("INBOX");
                inbox.open(Folder.READ_ONLY);
                Message[] found = inbox.search(new HeaderTerm("X-Test-Id", id));
                assertEquals(1, found.length);
                ByteArrayOutputStream fetched = new ByteArrayOutputStream();
                found[0].writeTo(fetched);
                assertArrayEquals(message, fetched.toByteArray());
                inbox.close(false);
            } finally {
                store.close();
            }
            String log = trace();
            assertTrue(log, log.contains(" LOGIN carol \"c4rol pw \\\"100%\\\"\"") && !log.contains("AUTHENTICATE"));
        });
        AuthHttpServer.Request r = auth.awaitRequest(WAIT);
        assertEquals("plain", r.method());
        assertEquals(MailBackends.CAROL, r.user());
        assertEquals(MailBackends.CAROL_PASSWORD, r.pass());
    }

    @Test
    public void imapStoreWrongPassword() throws Exception {
        traced(() -> {
            Store store = session("imap", new Properties()).getStore("imap");
            try {
                store.connect("127.0.0.1", port("imap"), MailBackends.ALICE, "wrong");
                store.close();
                fail("logged in with a wrong password");
            } catch (AuthenticationFailedException expected) {
                assertTrue(!store.isConnected());
            }
        });
        AuthHttpServer.Request r = auth.awaitRequest(WAIT);
        assertEquals("imap", r.protocol());
        assertEquals("wrong", r.pass());
    }

    // ---------------------------------------------------------------- POP3 store

    /**
     * The pop3 server of mail-itest.conf ({@code pop3_auth plain apop cram-md5}, PIPELINING among
     * its capabilities): Angus's USER/PASS (with its POP3 pipelining on), AUTH PLAIN and APOP; each
     * time RETR of a seeded message compared byte for byte with what Dovecot stores.
     */
    @Test
    public void pop3StoreRetrievesWhatDovecotStores() throws Exception {
        String[][] variants = {
            // property, value, the command in the trace, Auth-Method
            {"mail.pop3.pipelining", "true", "USER alice", "plain"},
            {"mail.pop3.auth.mechanisms", "PLAIN", "AUTH PLAIN", "plain"},
            {"mail.pop3.apop.enable", "true", "APOP alice", "apop"},
        };
        for (String[] v : variants) {
            String id = id("pop3");
            byte[] message = message(id, "alice@test.example", 300 * 1024);
            MailBackends.seed(MailBackends.ALICE, message);
            auth.clearRequests();
            trace.reset();
            traced(() -> {
                Properties props = new Properties();
                props.put(v[0], v[1]);
                Store store = session("pop3", props).getStore("pop3");
                store.connect("127.0.0.1", port("pop3"), MailBackends.ALICE, MailBackends.ALICE_PASSWORD);
                try {
                    Folder inbox = store.getFolder("INBOX");
                    inbox.open(Folder.READ_ONLY);
                    Message[] found = inbox.search(new HeaderTerm("X-Test-Id", id));
                    assertEquals(v[2] + ": messages with X-Test-Id " + id, 1, found.length);
                    // Angus's POP3 size: LIST's size less the header's
                    assertEquals(message.length - headerLength(message), found[0].getSize());
                    ByteArrayOutputStream retrieved = new ByteArrayOutputStream();
                    found[0].writeTo(retrieved);
                    assertArrayEquals(v[2], storedInDovecot(MailBackends.ALICE, id), retrieved.toByteArray());
                    assertArrayEquals(v[2], message, retrieved.toByteArray());
                    inbox.close(false);
                } finally {
                    store.close();
                }
                String log = trace();
                assertTrue(log, log.contains(v[2]));
            });
            AuthHttpServer.Request r = auth.awaitRequest(WAIT);
            assertEquals(v[2], "pop3", r.protocol());
            assertEquals(v[2], v[3], r.method());
            assertEquals(v[2], MailBackends.ALICE, r.user());
        }
    }

    @Test
    public void pop3StoreWrongPassword() throws Exception {
        traced(() -> {
            Store store = session("pop3", new Properties()).getStore("pop3");
            try {
                store.connect("127.0.0.1", port("pop3"), MailBackends.BOB, "wrong");
                store.close();
                fail("logged in with a wrong password");
            } catch (AuthenticationFailedException expected) {
                assertTrue(!store.isConnected());
            }
        });
        assertEquals("wrong", auth.awaitRequest(WAIT).pass());
    }

    // ---------------------------------------------------------------- SMTP transport

    /**
     * A 3 MB message through the smtp server with AUTH LOGIN and through the submission server with
     * AUTH PLAIN; each delivered by Postfix byte for byte (but for Postfix's LF line ends).
     */
    @Test
    public void smtpTransportSendsAMultiMegabyteMessage() throws Exception {
        for (String[] v : new String[][] {{"smtp", "LOGIN"}, {"submission", "PLAIN"}}) {
            String id = id("smtp-" + v[0]);
            byte[] sent = message(id, "alice@test.example", 3 * 1024 * 1024);
            auth.clearRequests();
            trace.reset();
            traced(() -> {
                Properties props = new Properties();
                props.put("mail.smtp.auth", "true");
                props.put("mail.smtp.auth.mechanisms", v[1]);
                Session session = session("smtp", props);
                // parsed, not built: written out again as the same bytes (MimeMessage keeps them)
                MimeMessage message = new MimeMessage(session, new ByteArrayInputStream(sent));
                Transport transport = session.getTransport("smtp");
                transport.connect("127.0.0.1", port(v[0]), MailBackends.ALICE, MailBackends.ALICE_PASSWORD);
                try {
                    transport.sendMessage(message, new Address[] {new InternetAddress("alice@test.example")});
                    String last = ((SMTPTransport) transport).getLastServerResponse();
                    assertTrue(last, last.startsWith("250 2.0.0 Ok: queued"));
                } finally {
                    transport.close();
                }
                String log = trace();
                assertTrue(log, log.contains("AUTH " + v[1]));
            });
            AuthHttpServer.Request r = auth.awaitRequest(WAIT);
            assertEquals("smtp", r.protocol());
            assertEquals("plain", r.method()); // nginx's Auth-Method for AUTH LOGIN too
            assertEquals(MailBackends.ALICE, r.user());
            assertDelivered(MailBackends.ALICE, id, sent);
        }
    }

    @Test
    public void smtpTransportWrongPassword() throws Exception {
        traced(() -> {
            Properties props = new Properties();
            props.put("mail.smtp.auth", "true");
            Transport transport = session("smtp", props).getTransport("smtp");
            try {
                transport.connect("127.0.0.1", port("smtp"), MailBackends.ALICE, "wrong");
                transport.close();
                fail("authenticated with a wrong password");
            } catch (AuthenticationFailedException expected) {
                assertTrue(!transport.isConnected());
            }
        });
        assertEquals("wrong", auth.awaitRequest(WAIT).pass());
    }

    // ---------------------------------------------------------------- SMTP pipelining after the relay starts

    /**
     * After AUTH the proxy relays to Postfix, which offers PIPELINING (seen in the EHLO the client
     * sends after AUTH, answered by Postfix): MAIL, two RCPTs and DATA in one packet; then the
     * message, its end and the next transaction's MAIL, RCPT and DATA in one packet (RFC 2920);
     * then the second message, its end and QUIT in one packet. Every reply in order, both messages
     * delivered byte for byte.
     */
    @Test
    public void smtpPipeliningAfterTheRelayStarts() throws Exception {
        String first = id("pipelining");
        String second = id("pipelining");
        byte[] one = message(first, "alice@test.example, bob@test.example", 200 * 1024);
        byte[] two = message(second, "carol@test.example", 5000);
        try (LineClient c = new LineClient("127.0.0.1", port("smtp"), WAIT)) {
            assertEquals("220 mail.test.example ESMTP ready", c.readLine());
            c.send("EHLO client.example");
            List<String> proxyEhlo = c.readSmtpReply();
            assertTrue(proxyEhlo.toString(), !proxyEhlo.contains("250-PIPELINING"));
            assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + b64("\0alice\0" + MailBackends.ALICE_PASSWORD)));
            c.send("EHLO client.example");
            List<String> postfixEhlo = c.readSmtpReply();
            assertTrue(postfixEhlo.toString(), postfixEhlo.contains("250-PIPELINING"));

            c.sendRaw(ascii("MAIL FROM:<sender@client.example>\r\n"
                    + "RCPT TO:<alice@test.example>\r\n"
                    + "RCPT TO:<bob@test.example>\r\n"
                    + "DATA\r\n"));
            assertEquals("250 2.1.0 Ok", c.readLine());
            assertEquals("250 2.1.5 Ok", c.readLine());
            assertEquals("250 2.1.5 Ok", c.readLine());
            assertTrue(c.readLine().startsWith("354 "));

            c.sendRaw(concat(dotStuffed(one), ascii(".\r\n"
                    + "MAIL FROM:<sender@client.example>\r\n"
                    + "RCPT TO:<carol@test.example>\r\n"
                    + "DATA\r\n")));
            String queued = c.readLine();
            assertTrue(queued, queued.startsWith("250 2.0.0 Ok: queued"));
            assertEquals("250 2.1.0 Ok", c.readLine());
            assertEquals("250 2.1.5 Ok", c.readLine());
            assertTrue(c.readLine().startsWith("354 "));

            c.sendRaw(concat(dotStuffed(two), ascii(".\r\nQUIT\r\n")));
            queued = c.readLine();
            assertTrue(queued, queued.startsWith("250 2.0.0 Ok: queued"));
            assertEquals("221 2.0.0 Bye", c.readLine());
        }
        assertDelivered(MailBackends.ALICE, first, one);
        assertDelivered(MailBackends.BOB, first, one);
        assertDelivered(MailBackends.CAROL, second, two);
        assertEquals(1, auth.requests().size());
    }

    // ---------------------------------------------------------------- helpers

    private interface Body {
        void run() throws Exception;
    }

    /** Runs the body; a failure carries the Jakarta Mail protocol trace. */
    private void traced(Body body) throws Exception {
        try {
            body.run();
        } catch (Exception | AssertionError e) {
            throw new AssertionError(e + "\n--- Jakarta Mail trace (last 6000 chars):\n" + tail(trace(), 6000), e);
        }
    }

    private String trace() {
        return trace.toString(StandardCharsets.UTF_8);
    }

    /** A Session for the protocol with timeouts and the trace on; checks that Angus provides the protocol. */
    private Session session(String protocol, Properties extra) throws Exception {
        Properties props = new Properties();
        props.put("mail." + protocol + ".connectiontimeout", TIMEOUT_MS);
        props.put("mail." + protocol + ".timeout", TIMEOUT_MS);
        props.put("mail.smtp.localhost", "client.example");
        props.put("mail.debug.auth", "true"); // the test users' commands in the trace, to see which were sent
        props.putAll(extra);
        Session session = Session.getInstance(props);
        session.setDebugOut(new PrintStream(trace, true, StandardCharsets.UTF_8));
        session.setDebug(true);
        String provider = session.getProvider(protocol).getClassName();
        assertTrue(provider, provider.startsWith("org.eclipse.angus.mail."));
        return session;
    }

    private static String id(String what) {
        return "clientlib-" + what + "-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
    }

    /** A message with a unique X-Test-Id header, about {@code size} bytes, CRLF lines, some starting with dots. */
    private static byte[] message(String id, String to, int size) throws Exception {
        StringBuilder text = new StringBuilder();
        text.append("X-Test-Id: ").append(id).append("\r\nFrom: sender@client.example\r\nTo: ").append(to)
                .append("\r\nSubject: ClientLibraryIT\r\nMessage-ID: <").append(id).append("@client.example>")
                .append("\r\n\r\n.leading dot\r\n..two dots\r\n.\r\ntab\there \r\n");
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        long n = 0;
        while (text.length() < size - 2) {
            String line = Base64.getEncoder().encodeToString(digest.digest(Long.toString(n++).getBytes()));
            text.append(n % 50 == 0 ? "." : "").append(line, 0, Math.min(line.length(), size - 2 - text.length()))
                    .append("\r\n");
        }
        return ascii(text.toString());
    }

    /** The message dot-stuffed for DATA, without the final ".". */
    private static byte[] dotStuffed(byte[] message) {
        String text = new String(message, StandardCharsets.US_ASCII);
        StringBuilder stuffed = new StringBuilder(message.length + 1024);
        for (String line : text.split("\r\n", -1)) {
            stuffed.append(line.startsWith(".") ? "." : "").append(line).append("\r\n");
        }
        stuffed.setLength(stuffed.length() - 2); // the split's last piece was empty
        return ascii(stuffed.toString());
    }

    /** The file of the user's Dovecot INBOX that holds the marker. */
    private static byte[] storedInDovecot(String user, String id) throws IOException {
        byte[] marker = ascii("X-Test-Id: " + id + "\r\n");
        for (Path file : MailBackends.mailboxFiles(user)) {
            byte[] content;
            try {
                content = Files.readAllBytes(file);
            } catch (java.nio.file.NoSuchFileException movedFromNewToCur) {
                return storedInDovecot(user, id);
            }
            if (startsWith(content, marker)) {
                return content;
            }
        }
        throw new AssertionError("no message " + id + " in " + user + "'s Dovecot INBOX");
    }

    private static void assertDelivered(String user, String id, byte[] sent) throws Exception {
        byte[] stored = MailBackends.awaitDelivery(user, "X-Test-Id: " + id, WAIT);
        assertArrayEquals(user + " " + id, MailBackends.crlfToLf(sent), MailBackends.fromLine(stored, "X-Test-Id: " + id));
    }

    /** The header's length with the empty line after it. */
    private static int headerLength(byte[] message) {
        String text = new String(message, StandardCharsets.US_ASCII);
        return text.indexOf("\r\n\r\n") + 4;
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        if (bytes.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String tail(String text, int chars) {
        return text.length() <= chars ? text : "..." + text.substring(text.length() - chars);
    }
}
