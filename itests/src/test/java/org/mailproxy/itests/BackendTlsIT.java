package org.mailproxy.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.inject.Inject;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.mailproxy.itests.fixtures.AuthHttpServer;
import org.mailproxy.itests.fixtures.AuthHttpServer.Answer;
import org.mailproxy.itests.fixtures.LineClient;
import org.mailproxy.itests.fixtures.MailBackends;
import org.osgi.framework.Bundle;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * TLS toward the backend ({@code proxy_ssl*} and {@code Auth-SSL-Backend}, this project's own,
 * beyond nginx) in a real Karaf, with plaintext clients, the real HTTP auth server fixture and the
 * real Dovecot and Postfix of {@link MailBackends} (TLS with a certificate of the fixture's CA):
 * <ul>
 * <li>IMAP and POP3 over implicit TLS (Dovecot's imaps/pop3s ports) and over STARTTLS/STLS (its
 *     plain ports), chosen per server with {@code proxy_ssl on|starttls}, with verification on
 *     against the fixture's CA;</li>
 * <li>chosen per login by the auth server's {@code Auth-SSL-Backend}, both ways (TLS on a
 *     plaintext server, plaintext on a STARTTLS server);</li>
 * <li>a wrong CA: the client gets the protocol's temporary error, the proxy logs it once, Dovecot
 *     sees no login;</li>
 * <li>SMTP STARTTLS to Postfix, with a message delivered.</li>
 * </ul>
 * The backend leg is proven TLS by the backends' own logs: Dovecot's login line says {@code TLS}
 * (plaintext from 127.0.0.1 says {@code secured}), Postfix logs the TLS connection and puts the
 * protocol in the Received header.
 */
public class BackendTlsIT extends MailProxyTestSupport {

    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    @Inject
    private ConfigurationAdmin configAdmin;

    private AuthHttpServer auth;
    private final List<Configuration> servers = new ArrayList<>();
    private final List<Integer> serverPorts = new ArrayList<>();
    private final List<LineClient> clients = new ArrayList<>();

    @Before
    public void setUp() throws Exception {
        for (String bundle : List.of("org.mailproxy.imap", "org.mailproxy.pop3", "org.mailproxy.smtp")) {
            awaitBundleState(bundle, Bundle.ACTIVE, DEFAULT_TIMEOUT);
        }
        auth = AuthHttpServer.start(port("auth_http"));
    }

    @After
    public void tearDown() throws Exception {
        for (LineClient c : clients) {
            c.close();
        }
        for (Configuration server : servers) {
            server.delete();
        }
        // the next test's servers must not meet this deletion half-applied (a reload then rebinds them)
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (int port : serverPorts) {
            while (accepts(port) && System.nanoTime() < end) {
                Thread.sleep(100);
            }
        }
        if (auth != null) {
            auth.close();
        }
    }

    // ---------------------------------------------------------------- per server: proxy_ssl

    @Test
    public void imapOverImplicitTlsWithVerification() throws Exception {
        int port = server("imap", "proxy_ssl", "on", "proxy_ssl_verify", "on",
                "proxy_ssl_trusted_certificate", ca());
        backend(MailBackends.imapsPort(), null);
        long mark = dovecotMark();
        imapLogin(port, MailBackends.ALICE, MailBackends.ALICE_PASSWORD);
        assertTrue(awaitDovecotLogin(mark, "imap", MailBackends.ALICE).contains(", TLS,"));
    }

    @Test
    public void imapOverStarttlsWithTheNameCheckedAndSentAsSni() throws Exception {
        int port = server("imap", "proxy_ssl", "starttls", "proxy_ssl_verify", "on",
                "proxy_ssl_trusted_certificate", ca(), "proxy_ssl_name", "backend.test.example");
        backend(MailBackends.imapPort(), null);
        long mark = dovecotMark();
        imapLogin(port, MailBackends.BOB, MailBackends.BOB_PASSWORD);
        assertTrue(awaitDovecotLogin(mark, "imap", MailBackends.BOB).contains(", TLS,"));
    }

    @Test
    public void pop3OverImplicitTlsAndOverStls() throws Exception {
        int implicit = server("pop3", "proxy_ssl", "on", "proxy_ssl_verify", "on",
                "proxy_ssl_trusted_certificate", ca());
        backend(MailBackends.pop3sPort(), null);
        long mark = dovecotMark();
        pop3Login(implicit, MailBackends.ALICE, MailBackends.ALICE_PASSWORD);
        assertTrue(awaitDovecotLogin(mark, "pop3", MailBackends.ALICE).contains(", TLS,"));

        int stls = server("pop3", "proxy_ssl", "starttls", "proxy_ssl_verify", "on",
                "proxy_ssl_trusted_certificate", ca());
        backend(MailBackends.pop3Port(), null);
        mark = dovecotMark();
        pop3Login(stls, MailBackends.BOB, MailBackends.BOB_PASSWORD);
        assertTrue(awaitDovecotLogin(mark, "pop3", MailBackends.BOB).contains(", TLS,"));
    }

    // ---------------------------------------------------------------- per login: Auth-SSL-Backend

    @Test
    public void theAuthServerChoosesTlsPerLogin() throws Exception {
        int plainServer = server("imap"); // proxy_ssl off: the header alone asks for TLS
        backend(MailBackends.imapsPort(), "on");
        long mark = dovecotMark();
        imapLogin(plainServer, MailBackends.ALICE, MailBackends.ALICE_PASSWORD);
        assertTrue(awaitDovecotLogin(mark, "imap", MailBackends.ALICE).contains(", TLS,"));

        backend(MailBackends.imapPort(), "starttls");
        mark = dovecotMark();
        imapLogin(plainServer, MailBackends.BOB, MailBackends.BOB_PASSWORD);
        assertTrue(awaitDovecotLogin(mark, "imap", MailBackends.BOB).contains(", TLS,"));

        int pop3 = server("pop3");
        backend(MailBackends.pop3Port(), "starttls");
        mark = dovecotMark();
        pop3Login(pop3, MailBackends.ALICE, MailBackends.ALICE_PASSWORD);
        assertTrue(awaitDovecotLogin(mark, "pop3", MailBackends.ALICE).contains(", TLS,"));
    }

    @Test
    public void theAuthServerCanAlsoChoosePlaintext() throws Exception {
        int port = server("pop3", "proxy_ssl", "starttls");
        backend(MailBackends.pop3Port(), "off");
        long mark = dovecotMark();
        pop3Login(port, MailBackends.BOB, MailBackends.BOB_PASSWORD);
        String login = awaitDovecotLogin(mark, "pop3", MailBackends.BOB);
        assertFalse(login, login.contains(", TLS,"));
        assertTrue(login, login.contains("secured")); // Dovecot's word for plaintext from 127.0.0.1
    }

    // ---------------------------------------------------------------- failures

    @Test
    public void aWrongCaGivesTheClientTheTemporaryErrorAndIsLoggedOnce() throws Exception {
        String otherCa = MailBackends.tlsDir().resolve("other-ca.pem").toString();
        int imap = server("imap", "proxy_ssl", "on", "proxy_ssl_verify", "on", "proxy_ssl_trusted_certificate", otherCa);
        int pop3 = server("pop3", "proxy_ssl", "starttls", "proxy_ssl_verify", "on",
                "proxy_ssl_trusted_certificate", otherCa);
        long mark = dovecotMark();
        long logMark = mailLogMark();

        backend(MailBackends.imapsPort(), null);
        LineClient c = connect(imap);
        assertTrue(c.readLine().startsWith("* OK"));
        c.send("a1 LOGIN " + MailBackends.ALICE + " " + MailBackends.ALICE_PASSWORD);
        assertEquals("* BAD internal server error", c.readLine());
        assertClosed(c);

        backend(MailBackends.pop3Port(), null);
        c = connect(pop3);
        assertTrue(c.readLine().startsWith("+OK"));
        assertTrue(c.command("USER " + MailBackends.BOB).startsWith("+OK"));
        assertEquals("-ERR internal server error", c.command("PASS " + MailBackends.BOB_PASSWORD));
        assertClosed(c);

        List<String> errors = awaitMailLog(logMark, "SSL handshake with upstream", 2);
        assertEquals(errors.toString(), 2, errors.size());
        for (String line : errors) {
            assertTrue(line, line.contains("[error]") && line.contains("while SSL handshaking to upstream"));
        }
        String mailLog = mailLogSince(logMark);
        assertFalse("no stack trace in the mail log: " + mailLog, mailLog.contains("\tat "));
        assertFalse("no password in the mail log", mailLog.contains(MailBackends.ALICE_PASSWORD)
                || mailLog.contains(MailBackends.BOB_PASSWORD));
        Thread.sleep(500);
        String dovecot = dovecotSince(mark);
        assertFalse(dovecot, dovecot.contains("Login: user=<"));
    }

    // ---------------------------------------------------------------- SMTP

    @Test
    public void smtpStarttlsToPostfixDeliversOverTls() throws Exception {
        int port = server("smtp", "proxy_ssl", "starttls", "proxy_ssl_verify", "on",
                "proxy_ssl_trusted_certificate", ca(), "proxy_ssl_name", "localhost");
        backend(MailBackends.smtpPort(), null);
        long mark = MailBackends.postfixLogMark();
        String id = "backendtlsit-" + SEQUENCE.incrementAndGet();
        byte[] message = ("X-Test-Id: " + id + "\r\nFrom: sender@client.example\r\nTo: alice@test.example\r\n"
                + "Subject: backend tls\r\n\r\nto Postfix over TLS\r\n").getBytes(StandardCharsets.US_ASCII);

        LineClient c = connect(port);
        assertTrue(c.readSmtpReply().get(0).startsWith("220 "));
        c.send("EHLO client.example");
        c.readSmtpReply();
        c.send("AUTH PLAIN " + Base64.getEncoder().encodeToString(
                ("\0" + MailBackends.ALICE + "\0" + MailBackends.ALICE_PASSWORD).getBytes(StandardCharsets.UTF_8)));
        assertEquals("235 2.0.0 OK", c.readSmtpReply().get(0));
        c.send("MAIL FROM:<sender@client.example>");
        assertTrue(c.readSmtpReply().get(0).startsWith("250"));
        c.send("RCPT TO:<alice@test.example>");
        assertTrue(c.readSmtpReply().get(0).startsWith("250"));
        c.send("DATA");
        assertTrue(c.readSmtpReply().get(0).startsWith("354"));
        c.sendRaw(message);
        c.send(".");
        assertTrue(c.readSmtpReply().get(0).startsWith("250"));
        c.send("QUIT");
        assertTrue(c.readSmtpReply().get(0).startsWith("221"));

        String tls = MailBackends.awaitPostfixLog("TLS connection established from localhost[127.0.0.1]", mark,
                Duration.ofSeconds(10));
        assertTrue(tls, tls.contains("TLSv1."));
        byte[] stored = MailBackends.awaitDelivery("alice", "X-Test-Id: " + id, Duration.ofSeconds(20));
        assertArrayEquals(MailBackends.crlfToLf(message), MailBackends.fromLine(stored, "X-Test-Id: " + id));
        String headers = new String(stored, StandardCharsets.UTF_8);
        assertTrue(headers, headers.contains("(using TLSv1."));
    }

    // ---------------------------------------------------------------- clients

    private void imapLogin(int port, String user, String password) throws IOException {
        LineClient c = connect(port);
        assertTrue(c.readLine().startsWith("* OK"));
        c.send("a1 LOGIN " + user + " " + password);
        String ok = c.readLine();
        while (ok.startsWith("* ")) {
            ok = c.readLine();
        }
        assertTrue(ok, ok.startsWith("a1 OK") && ok.contains("Logged in"));
        c.send("a2 SELECT INBOX");
        List<String> select = c.readUntil("a2 ");
        assertTrue(select.toString(), select.get(select.size() - 1).startsWith("a2 OK"));
        c.send("a3 LOGOUT");
        assertTrue(c.readLine().startsWith("* BYE"));
    }

    private void pop3Login(int port, String user, String password) throws IOException {
        LineClient c = connect(port);
        assertTrue(c.readLine().startsWith("+OK"));
        assertTrue(c.command("USER " + user).startsWith("+OK"));
        String ok = c.command("PASS " + password);
        assertTrue(ok, ok.startsWith("+OK"));
        String stat = c.command("STAT");
        assertTrue(stat, stat.startsWith("+OK "));
        assertTrue(c.command("QUIT").startsWith("+OK"));
    }

    private LineClient connect(int port) throws IOException {
        LineClient c = new LineClient(port);
        clients.add(c);
        return c;
    }

    private static void assertClosed(LineClient c) throws IOException {
        assertEquals(0, c.readToEnd().length);
    }

    // ---------------------------------------------------------------- fixture

    /** The auth server sends every login to this backend port, with Auth-SSL-Backend when not null. */
    private void backend(int port, String sslBackend) {
        auth.handler(request -> {
            Answer ok = Answer.ok(MailBackends.HOST, port);
            return sslBackend == null ? ok : ok.header("Auth-SSL-Backend", sslBackend);
        });
    }

    private static String ca() {
        return MailBackends.tlsDir().resolve("ca.pem").toString();
    }

    /** Adds a server through Config Admin and waits until it accepts connections. */
    private int server(String protocol, String... directives) throws Exception {
        int port = addServer(configAdmin, servers, "backendtlsit-" + SEQUENCE.incrementAndGet(), "127.0.0.1:%d",
                concat(new String[] {"protocol", protocol}, directives));
        serverPorts.add(port);
        return port;
    }

    private static long dovecotMark() throws IOException {
        Path log = MailBackends.directory().resolve("dovecot/log/dovecot.log");
        return Files.exists(log) ? Files.size(log) : 0;
    }

    private static String dovecotSince(long mark) throws IOException {
        byte[] all = Files.readAllBytes(MailBackends.directory().resolve("dovecot/log/dovecot.log"));
        return new String(all, (int) Math.min(mark, all.length), all.length - (int) Math.min(mark, all.length),
                StandardCharsets.UTF_8);
    }

    /** Dovecot's {@code <protocol>-login: Info: Login: user=<user>, ...} line written after the mark. */
    private static String awaitDovecotLogin(long mark, String protocol, String user) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        do {
            for (String line : dovecotSince(mark).split("\n")) {
                if (line.contains(protocol + "-login: Info: Login: user=<" + user + ">")) {
                    return line;
                }
            }
            Thread.sleep(50);
        } while (System.nanoTime() < end);
        throw new AssertionError("no " + protocol + " login of " + user + " in Dovecot's log:\n" + dovecotSince(mark));
    }


    /** The mail.log lines after the mark with the fragment, once there are {@code count} (or after 10 s). */
    private static List<String> awaitMailLog(long mark, String fragment, int count) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<String> found;
        do {
            found = new ArrayList<>();
            for (String line : mailLogSince(mark).split("\n")) {
                if (line.contains(fragment)) {
                    found.add(line);
                }
            }
            if (found.size() >= count) {
                Thread.sleep(300); // and no more come
                return awaitMailLogNow(mark, fragment);
            }
            Thread.sleep(50);
        } while (System.nanoTime() < end);
        return found;
    }

    private static List<String> awaitMailLogNow(long mark, String fragment) throws IOException {
        List<String> found = new ArrayList<>();
        for (String line : mailLogSince(mark).split("\n")) {
            if (line.contains(fragment)) {
                found.add(line);
            }
        }
        return found;
    }
}
