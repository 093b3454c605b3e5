package org.mailproxy.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.mailproxy.itests.fixtures.ClientProcess;
import org.mailproxy.itests.fixtures.MailBackends;
import org.mailproxy.itests.fixtures.OpensslCerts;
import org.osgi.framework.Bundle;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Real TLS clients against the proxy in Karaf, through to the real Dovecot and Postfix:
 * {@code openssl s_client -starttls imap|pop3|smtp} (driven line by line) and {@code curl} for
 * imaps://, pop3s://, smtps:// and, with {@code --ssl-reqd}, STARTTLS on imap://, pop3://,
 * smtp://. Each completes a login and real commands: a seeded message fetched or retrieved and
 * compared, a message sent that Postfix delivers.
 *
 * <p>Certificates are made by the test with {@code openssl req} ({@link OpensslCerts}): an RSA one for {@code localhost}
 * ({@code ssl_certificate}) and an ECDSA one for {@code mail.sni.example}
 * ({@code ssl_certificate_sni}). The clients verify the certificate against both and check the
 * host name, so a client that asks for mail.sni.example only gets through when the proxy chose
 * the certificate by SNI.
 */
public class TlsClientsIT extends MailProxyTestSupport {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String OPENSSL = "/usr/bin/openssl";
    private static final String CURL = "/usr/bin/curl";
    private static final String SNI_NAME = OpensslCerts.SNI_NAME;
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static Path certs;

    @Inject
    private ConfigurationAdmin configAdmin;

    private AuthHttpServer auth;
    private final List<Configuration> servers = new ArrayList<>();

    @Before
    public void setUp() throws Exception {
        for (String bundle : List.of("org.mailproxy.imap", "org.mailproxy.pop3", "org.mailproxy.smtp")) {
            awaitBundleState(bundle, Bundle.ACTIVE, DEFAULT_TIMEOUT);
        }
        certificates();
        auth = AuthHttpServer.start(port("auth_http")).failureWait(1);
    }

    @After
    public void tearDown() throws Exception {
        for (Configuration server : servers) {
            server.delete();
        }
        if (auth != null) {
            auth.close();
        }
    }

    // ---------------------------------------------------------------- openssl s_client

    @Test
    public void opensslStarttlsImapLoginAndFetch() throws Exception {
        int port = server("tlsclients-imap", "127.0.0.1:%d", "protocol", "imap", "starttls", "only");
        String id = nextId();
        byte[] message = message(id);
        MailBackends.seed("alice", message);
        try (ClientProcess c = sClient("imap", port, SNI_NAME)) {
            c.send("a1 LOGIN alice " + MailBackends.ALICE_PASSWORD);
            assertTrue(last(c.readUntil("a1 ", WAIT)).contains("a1 OK"));
            String sessions = executeCommand("mail:sessions --user alice");
            assertTrue("the SNI name with the session: " + sessions,
                    sessions.lines().anyMatch(l -> l.contains("alice") && l.contains(SNI_NAME)));
            c.send("a2 SELECT INBOX");
            assertTrue(last(c.readUntil("a2 ", WAIT)).startsWith("a2 OK"));
            c.send("a3 SEARCH HEADER X-Test-Id " + id);
            List<String> search = c.readUntil("a3 ", WAIT);
            assertTrue(search.toString(), search.get(0).matches("\\* SEARCH \\d+"));
            String n = search.get(0).substring("* SEARCH ".length());
            c.send("a4 FETCH " + n + " BODY.PEEK[]");
            List<String> fetch = c.readUntil("a4 ", WAIT);
            assertEquals("* " + n + " FETCH (BODY[] {" + message.length + "}", fetch.get(0));
            assertEquals("X-Test-Id: " + id, fetch.get(1));
            assertTrue(last(fetch).startsWith("a4 OK"));
            c.send("a5 LOGOUT");
            assertTrue(c.readLine(WAIT).startsWith("* BYE"));
            assertTrue(c.stderr(), c.stderr().contains("CN = " + SNI_NAME));
        }
        assertSsl(auth.awaitRequest(WAIT), "imap");
    }

    @Test
    public void opensslStarttlsPop3LoginAndRetr() throws Exception {
        int port = server("tlsclients-pop3", "127.0.0.1:%d", "protocol", "pop3", "starttls", "on");
        byte[] message = message(nextId());
        MailBackends.seed("bob", message);
        try (ClientProcess c = sClient("pop3", port, "localhost")) {
            assertEquals("+OK", c.send("USER bob").readLine(WAIT));
            assertEquals("+OK Logged in.", c.send("PASS " + MailBackends.BOB_PASSWORD).readLine(WAIT));
            c.send("LIST");
            String number = null;
            for (String entry : c.readThrough(".", WAIT)) {
                String[] parts = entry.split(" ");
                if (parts.length == 2 && parts[1].equals(Integer.toString(message.length))) {
                    number = parts[0];
                }
            }
            assertTrue("the seeded message is listed", number != null);
            assertEquals("+OK " + message.length + " octets", c.send("RETR " + number).readLine(WAIT));
            List<String> lines = c.readThrough(".", WAIT);
            assertEquals(new String(message, StandardCharsets.US_ASCII).replace("\r\n.", "\r\n..") + ".",
                    String.join("\r\n", lines));
            assertEquals("+OK Logging out.", c.send("QUIT").readLine(WAIT));
            assertTrue(c.stderr(), c.stderr().contains("CN = localhost"));
        }
        assertSsl(auth.awaitRequest(WAIT), "pop3");
    }

    @Test
    public void opensslStarttlsSmtpAuthAndDeliveryByPostfix() throws Exception {
        int port = server("tlsclients-smtp", "127.0.0.1:%d", "protocol", "smtp", "starttls", "only");
        String id = nextId();
        byte[] message = message(id);
        try (ClientProcess c = sClient("smtp", port, SNI_NAME)) {
            c.send("EHLO client.example");
            assertTrue(last(c.readUntil("250 ", WAIT)).contains("AUTH"));
            String plain = Base64.getEncoder().encodeToString(
                    ("\0alice\0" + MailBackends.ALICE_PASSWORD).getBytes(StandardCharsets.UTF_8));
            assertEquals("235 2.0.0 OK", c.send("AUTH PLAIN " + plain).readLine(WAIT));
            assertEquals("250 2.1.0 Ok", c.send("MAIL FROM:<sender@client.example>").readLine(WAIT));
            assertEquals("250 2.1.5 Ok", c.send("RCPT TO:<alice@test.example>").readLine(WAIT));
            assertTrue(c.send("DATA").readLine(WAIT).startsWith("354"));
            String text = new String(message, StandardCharsets.US_ASCII).replace("\r\n.", "\r\n..");
            for (String line : text.split("\r\n")) {
                c.send(line);
            }
            String queued = c.send(".").readLine(WAIT);
            assertTrue(queued, queued.startsWith("250 2.0.0 Ok: queued"));
            assertEquals("221 2.0.0 Bye", c.send("QUIT").readLine(WAIT));
        }
        byte[] stored = MailBackends.awaitDelivery("alice", "X-Test-Id: " + id, WAIT);
        assertArrayEquals(MailBackends.crlfToLf(message), MailBackends.fromLine(stored, "X-Test-Id: " + id));
        assertSsl(auth.awaitRequest(WAIT), "smtp");
    }

    // ---------------------------------------------------------------- curl, implicit TLS

    @Test
    public void curlImapsListsSearchesAndFetches() throws Exception {
        int port = server("tlsclients-imaps", "127.0.0.1:%d ssl", "protocol", "imap");
        String id = nextId();
        byte[] message = message(id);
        MailBackends.seed("alice", message);
        String base = "imaps://" + SNI_NAME + ":" + port + "/";
        ClientProcess.Result list = curl(port, SNI_NAME, "-u", "alice:" + MailBackends.ALICE_PASSWORD, base);
        assertTrue(list.describe(), list.exit() == 0 && list.text().contains("INBOX"));
        ClientProcess.Result search = curl(port, SNI_NAME, "-u", "alice:" + MailBackends.ALICE_PASSWORD,
                base + "INBOX?HEADER%20X-Test-Id%20" + id);
        assertTrue(search.describe(), search.exit() == 0 && search.text().trim().matches("\\* SEARCH \\d+"));
        String n = search.text().trim().substring("* SEARCH ".length());
        ClientProcess.Result fetch = curl(port, SNI_NAME, "-u", "alice:" + MailBackends.ALICE_PASSWORD,
                base + "INBOX;MAILINDEX=" + n);
        assertEquals(fetch.describe(), 0, fetch.exit());
        assertArrayEquals(fetch.describe(), message, fetch.stdout());
        assertSsl(auth.awaitRequest(WAIT), "imap");
    }

    @Test
    public void curlPop3sListsAndRetrieves() throws Exception {
        int port = server("tlsclients-pop3s", "127.0.0.1:%d ssl", "protocol", "pop3");
        byte[] message = message(nextId());
        MailBackends.seed("bob", message);
        String base = "pop3s://localhost:" + port + "/";
        ClientProcess.Result list = curl(port, "localhost", "-u", "bob:" + MailBackends.BOB_PASSWORD, base);
        assertEquals(list.describe(), 0, list.exit());
        assertArrayEquals(message, retrieveBySize(port, "localhost", base, list.text(), message));
        assertSsl(auth.awaitRequest(WAIT), "pop3");
    }

    @Test
    public void curlSmtpsSendsAMailThatPostfixDelivers() throws Exception {
        int port = server("tlsclients-smtps", "127.0.0.1:%d ssl", "protocol", "smtp");
        String id = nextId();
        byte[] message = message(id);
        ClientProcess.Result sent = curlSend(port, "smtps://" + SNI_NAME + ":" + port, SNI_NAME, message);
        assertEquals(sent.describe(), 0, sent.exit());
        byte[] stored = MailBackends.awaitDelivery("alice", "X-Test-Id: " + id, WAIT);
        assertArrayEquals(MailBackends.crlfToLf(message), MailBackends.fromLine(stored, "X-Test-Id: " + id));
        assertSsl(auth.awaitRequest(WAIT), "smtp");
    }

    // ---------------------------------------------------------------- curl, STARTTLS

    @Test
    public void curlStarttlsOnImapPop3AndSmtp() throws Exception {
        int imap = server("tlsclients-imap-st", "127.0.0.1:%d", "protocol", "imap", "starttls", "on");
        int pop3 = server("tlsclients-pop3-st", "127.0.0.1:%d", "protocol", "pop3", "starttls", "on");
        int smtp = server("tlsclients-smtp-st", "127.0.0.1:%d", "protocol", "smtp", "starttls", "on");
        String id = nextId();
        byte[] message = message(id);
        MailBackends.seed("alice", message);

        ClientProcess.Result search = curl(imap, SNI_NAME, "--ssl-reqd", "-u", "alice:" + MailBackends.ALICE_PASSWORD,
                "imap://" + SNI_NAME + ":" + imap + "/INBOX?HEADER%20X-Test-Id%20" + id);
        assertTrue(search.describe(), search.exit() == 0 && search.text().trim().matches("\\* SEARCH \\d+"));
        String n = search.text().trim().substring("* SEARCH ".length());
        ClientProcess.Result fetch = curl(imap, SNI_NAME, "--ssl-reqd", "-u", "alice:" + MailBackends.ALICE_PASSWORD,
                "imap://" + SNI_NAME + ":" + imap + "/INBOX;MAILINDEX=" + n);
        assertArrayEquals(fetch.describe(), message, fetch.stdout());
        assertSsl(auth.awaitRequest(WAIT), "imap");

        byte[] pop3Message = message(nextId());
        MailBackends.seed("bob", pop3Message);
        String pop3Base = "pop3://localhost:" + pop3 + "/";
        ClientProcess.Result list = curl(pop3, "localhost", "--ssl-reqd", "-u", "bob:" + MailBackends.BOB_PASSWORD,
                pop3Base);
        assertEquals(list.describe(), 0, list.exit());
        assertArrayEquals(pop3Message, retrieveBySize(pop3, "localhost", pop3Base, list.text(), pop3Message,
                "--ssl-reqd"));
        auth.clearRequests();

        String smtpId = nextId();
        byte[] smtpMessage = message(smtpId);
        ClientProcess.Result sent = curlSend(smtp, "smtp://localhost:" + smtp, "localhost", smtpMessage, "--ssl-reqd");
        assertEquals(sent.describe(), 0, sent.exit());
        byte[] stored = MailBackends.awaitDelivery("alice", "X-Test-Id: " + smtpId, WAIT);
        assertArrayEquals(MailBackends.crlfToLf(smtpMessage), MailBackends.fromLine(stored, "X-Test-Id: " + smtpId));
        assertSsl(auth.awaitRequest(WAIT), "smtp");
    }

    /**
     * A name without a certificate of its own gets the default one (localhost), which curl refuses
     * for that host: what lets the clients above through is the certificate chosen by SNI.
     */
    @Test
    public void aNameWithoutItsOwnCertificateGetsTheDefaultOneWhichCurlRejects() throws Exception {
        int port = server("tlsclients-imaps-other", "127.0.0.1:%d ssl", "protocol", "imap");
        ClientProcess.Result r = curl(port, "other.sni.example", "-u", "alice:" + MailBackends.ALICE_PASSWORD,
                "imaps://other.sni.example:" + port + "/");
        assertEquals(r.describe(), 60, r.exit()); // CURLE_PEER_FAILED_VERIFICATION
    }

    // ---------------------------------------------------------------- clients

    /** s_client with STARTTLS, verifying the certificate and the host name; -quiet: only the server's data on stdout. */
    private static ClientProcess sClient(String protocol, int port, String name) throws Exception {
        ClientProcess c = ClientProcess.start(OPENSSL, "s_client", "-quiet", "-starttls", protocol,
                "-connect", "127.0.0.1:" + port, "-servername", name, "-verify_hostname", name,
                "-CAfile", certs.resolve("ca.pem").toString(), "-verify_return_error");
        return c;
    }

    private static ClientProcess.Result curl(int port, String host, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(CURL, "-sS", "--max-time", "20",
                "--cacert", certs.resolve("ca.pem").toString(), "--resolve", host + ":" + port + ":127.0.0.1"));
        command.addAll(List.of(args));
        return ClientProcess.run(Duration.ofSeconds(30), command.toArray(new String[0]));
    }

    private static ClientProcess.Result curlSend(int port, String url, String host, byte[] message, String... extra)
            throws Exception {
        Path file = Files.createTempFile("tlsclients-", ".eml");
        try {
            Files.write(file, message);
            List<String> args = new ArrayList<>(List.of(extra));
            args.addAll(List.of("-u", "alice:" + MailBackends.ALICE_PASSWORD, "--mail-from", "sender@client.example",
                    "--mail-rcpt", "alice@test.example", "--upload-file", file.toString(), url));
            return curl(port, host, args.toArray(new String[0]));
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** RETR of each listed message with the seeded one's size until one is the seeded message. */
    private static byte[] retrieveBySize(int port, String host, String base, String listing, byte[] message,
                                         String... extra) throws Exception {
        for (String entry : listing.split("\r?\n")) {
            String[] parts = entry.trim().split(" ");
            if (parts.length == 2 && parts[1].equals(Integer.toString(message.length))) {
                List<String> args = new ArrayList<>(List.of(extra));
                args.addAll(List.of("-u", "bob:" + MailBackends.BOB_PASSWORD, base + parts[0]));
                ClientProcess.Result retr = curl(port, host, args.toArray(new String[0]));
                assertEquals(retr.describe(), 0, retr.exit());
                if (java.util.Arrays.equals(message, retr.stdout())) {
                    return retr.stdout();
                }
            }
        }
        fail("the seeded message is not among " + listing);
        return null;
    }

    private static void assertSsl(AuthHttpServer.Request r, String protocol) {
        assertEquals(protocol, r.protocol());
        assertEquals("on", r.header("Auth-SSL"));
        String version = r.header("Auth-SSL-Protocol");
        assertTrue(version, "TLSv1.3".equals(version) || "TLSv1.2".equals(version));
    }

    // ---------------------------------------------------------------- servers and certificates

    /** Adds a server with both certificates through Config Admin; waits until it accepts connections. */
    private int server(String alias, String listen, String... directives) throws Exception {
        return addServer(configAdmin, servers, alias, listen, concat(new String[] {
                "ssl_certificate", certs.resolve("server.pem").toString(),
                "ssl_certificate_key", certs.resolve("server.key").toString(),
                "ssl_certificate_sni", SNI_NAME + " " + certs.resolve("sni.pem") + " " + certs.resolve("sni.key")},
                directives));
    }

    private static synchronized void certificates() throws Exception {
        certs = OpensslCerts.directory();
    }

    private static String nextId() {
        return "tlsclients-" + System.nanoTime() + "-" + SEQUENCE.incrementAndGet();
    }

    /** A message with a unique X-Test-Id and CRLF lines, one of them starting with a dot. */
    private static byte[] message(String id) {
        StringBuilder text = new StringBuilder();
        text.append("X-Test-Id: ").append(id).append("\r\nFrom: sender@client.example\r\nTo: alice@test.example\r\n")
                .append("Subject: real clients\r\n\r\n.leading dot\r\nthrough curl and openssl\r\n");
        for (int i = 0; i < 50; i++) {
            text.append("line ").append(i).append(" of ").append(id).append("\r\n");
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static String last(List<String> lines) {
        return lines.get(lines.size() - 1);
    }
}
