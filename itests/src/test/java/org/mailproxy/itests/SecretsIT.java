package org.mailproxy.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.inject.Inject;
import org.junit.Test;
import org.mailproxy.core.admin.MailAdmin;
import org.mailproxy.itests.fixtures.AuthHttpServer;
import org.mailproxy.itests.fixtures.LineClient;
import org.mailproxy.itests.fixtures.MailBackends;
import org.osgi.framework.Bundle;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Secrets never reach a log, even at debug: with {@code org.mailproxy} logging at DEBUG, every
 * login method of the three protocols (IMAP LOGIN and AUTHENTICATE PLAIN / LOGIN / CRAM-MD5, POP3
 * USER/PASS, APOP and AUTH PLAIN / LOGIN / CRAM-MD5, SMTP AUTH PLAIN / LOGIN / CRAM-MD5), right
 * and wrong, runs through the proxy to the real auth server and Dovecot/Postfix; then no file
 * under {@code data/log} holds a password, in clear, base64 or URL-encoded, an AUTH payload, or an
 * {@code Auth-Pass} header. Also: CR/LF in a login cannot add a header to the auth_http request.
 */
public class SecretsIT extends MailProxyTestSupport {

    /** carol's password: spaces, quotes and a percent sign, so every encoding differs. */
    private static final String USER = MailBackends.CAROL;
    private static final String PASSWORD = MailBackends.CAROL_PASSWORD;
    private static final String WRONG = "Wr0ng-S3cret-Pw";

    @Inject
    private ConfigurationAdmin configAdmin;

    @Inject
    private MailAdmin admin;

    @Test
    public void noPasswordNorAuthPayloadInAnyLogAtDebug() throws Exception {
        awaitBundleState("org.mailproxy.imap", Bundle.ACTIVE, DEFAULT_TIMEOUT);
        awaitBundleState("org.mailproxy.pop3", Bundle.ACTIVE, DEFAULT_TIMEOUT);
        awaitBundleState("org.mailproxy.smtp", Bundle.ACTIVE, DEFAULT_TIMEOUT);
        int imapPort = freePort();
        Configuration imapServer = configAdmin.getFactoryConfiguration("org.mailproxy.server", "itest-secrets-" + imapPort, "?");
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("listen", "127.0.0.1:" + imapPort);
        props.put("protocol", "imap");
        props.put("imap_auth", "plain login cram-md5");
        imapServer.update(props);
        String pid = imapServer.getPid();
        awaitTrue("the IMAP server with every method is active",
                () -> admin.servers().stream().anyMatch(s -> pid.equals(s.pid()) && s.active()));

        List<String> secrets = new ArrayList<>();
        executeCommand("log:set DEBUG org.mailproxy");
        try (AuthHttpServer auth = AuthHttpServer.start(port("auth_http")).failureWait(1)) {
            imap(imapPort, secrets);
            pop3(secrets);
            smtp(secrets);
            crlfInALoginAddsNoHeader(auth);
        } finally {
            executeCommand("log:set DEFAULT org.mailproxy");
            imapServer.delete();
        }
        for (String password : List.of(PASSWORD, WRONG)) {
            secrets.add(password);
            secrets.add(b64(password));
            secrets.add(java.net.URLEncoder.encode(password, StandardCharsets.UTF_8).replace("+", "%20"));
        }

        Path logs = Path.of(System.getProperty("karaf.data"), "log");
        Map<String, String> texts = new TreeMap<>();
        try (Stream<Path> files = Files.walk(logs)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                texts.put(file.getFileName().toString(), Files.readString(file, StandardCharsets.ISO_8859_1));
            }
        }
        assertTrue("the debug lines of the logins are there: " + texts.keySet(),
                texts.values().stream().anyMatch(t -> t.contains("DEBUG") && t.contains(USER)));
        for (Map.Entry<String, String> log : texts.entrySet()) {
            for (String secret : secrets) {
                int at = log.getValue().indexOf(secret);
                assertTrue(log.getKey() + " holds a secret: ..." + (at < 0 ? "" : log.getValue().substring(
                        Math.max(0, at - 120), Math.min(log.getValue().length(), at + secret.length() + 20))) + "...",
                        at < 0);
            }
            assertFalse(log.getKey() + " holds an Auth-Pass header", log.getValue().toLowerCase().contains("auth-pass:"));
        }
    }

    // ---------------------------------------------------------------- the logins

    private void imap(int port, List<String> secrets) throws Exception {
        try (LineClient c = new LineClient(port)) {
            expect(c.readLine(), "* OK");
            expect(c.command("a1 LOGIN " + USER + " \"" + WRONG + "\""), "a1 NO");
            expect(c.command("a2 LOGIN " + USER + " " + imapQuoted(PASSWORD)), "a2 OK");
            c.send("a3 LOGOUT");
            c.readUntil("a3 ");
        }
        String plain = plain(PASSWORD);
        secrets.add(plain);
        try (LineClient c = new LineClient(port)) {
            expect(c.readLine(), "* OK");
            expect(c.command("a1 AUTHENTICATE PLAIN " + plain), "a1 OK");
        }
        try (LineClient c = new LineClient(port)) {
            expect(c.readLine(), "* OK");
            expect(c.command("a1 AUTHENTICATE LOGIN"), "+ ");
            expect(c.command(b64(USER)), "+ ");
            expect(c.command(b64(PASSWORD)), "a1 OK");
        }
        try (LineClient c = new LineClient(port)) {
            expect(c.readLine(), "* OK");
            String challenge = c.command("a1 AUTHENTICATE CRAM-MD5");
            expect(challenge, "+ ");
            String response = cramMd5(challenge.substring(2));
            secrets.add(response);
            expect(c.command(response), "a1 OK");
        }
    }

    private void pop3(List<String> secrets) throws Exception {
        try (LineClient c = new LineClient(port("pop3"))) {
            String greeting = c.readLine();
            expect(greeting, "+OK");
            expect(c.command("USER " + USER), "+OK");
            expect(c.command("PASS " + WRONG), "-ERR");
            expect(c.command("USER " + USER), "+OK");
            expect(c.command("PASS " + PASSWORD), "+OK");
            expect(c.command("QUIT"), "+OK");
        }
        try (LineClient c = new LineClient(port("pop3"))) {
            String greeting = c.readLine();
            String salt = greeting.substring(greeting.indexOf('<'), greeting.indexOf('>') + 1);
            String digest = AuthHttpServer.apopDigest(salt, PASSWORD);
            secrets.add(digest);
            expect(c.command("APOP " + USER + " " + digest), "+OK");
            expect(c.command("QUIT"), "+OK");
        }
        try (LineClient c = new LineClient(port("pop3"))) {
            c.readLine();
            expect(c.command("AUTH PLAIN " + plain(PASSWORD)), "+OK");
        }
        try (LineClient c = new LineClient(port("pop3"))) {
            c.readLine();
            expect(c.command("AUTH LOGIN"), "+ ");
            expect(c.command(b64(USER)), "+ ");
            expect(c.command(b64(PASSWORD)), "+OK");
        }
        try (LineClient c = new LineClient(port("pop3"))) {
            c.readLine();
            String challenge = c.command("AUTH CRAM-MD5");
            expect(challenge, "+ ");
            String response = cramMd5(challenge.substring(2));
            secrets.add(response);
            expect(c.command(response), "+OK");
        }
    }

    private void smtp(List<String> secrets) throws Exception {
        for (String method : List.of("PLAIN", "LOGIN", "CRAM-MD5")) {
            try (LineClient c = new LineClient(port("smtp"))) {
                expect(c.readLine(), "220 ");
                c.send("EHLO secrets.example");
                c.readSmtpReply();
                switch (method) {
                    case "PLAIN" -> {
                        expect(last(c.send("AUTH PLAIN " + plain(WRONG)).readSmtpReply()), "535 ");
                        expect(last(c.send("AUTH PLAIN " + plain(PASSWORD)).readSmtpReply()), "235 ");
                    }
                    case "LOGIN" -> {
                        expect(last(c.send("AUTH LOGIN").readSmtpReply()), "334 ");
                        expect(last(c.send(b64(USER)).readSmtpReply()), "334 ");
                        expect(last(c.send(b64(PASSWORD)).readSmtpReply()), "235 ");
                    }
                    default -> {
                        String challenge = last(c.send("AUTH CRAM-MD5").readSmtpReply());
                        expect(challenge, "334 ");
                        String response = cramMd5(challenge.substring(4));
                        secrets.add(response);
                        expect(last(c.send(response).readSmtpReply()), "235 ");
                    }
                }
                expect(last(c.send("QUIT").readSmtpReply()), "221 ");
            }
        }
    }

    /** A login with CR LF and a fake header: the auth server sees one Auth-User, no Auth-Injected. */
    private void crlfInALoginAddsNoHeader(AuthHttpServer auth) throws Exception {
        auth.clearRequests();
        try (LineClient c = new LineClient(port("pop3"))) {
            c.readLine();
            String user = "mallory\r\nAuth-Injected: yes";
            expect(c.command("AUTH PLAIN " + b64("\0" + user + "\0" + WRONG)), "-ERR");
        }
        AuthHttpServer.Request request = auth.awaitRequest(Duration.ofSeconds(10));
        assertEquals(1, request.headers("Auth-User").size());
        assertTrue("a header injected through the login: " + request.headers(),
                request.headers("Auth-Injected").isEmpty());
        assertTrue(request.header("Auth-User"), request.header("Auth-User").contains("%0D%0A"));
    }

    // ---------------------------------------------------------------- helpers

    private static String plain(String password) {
        return b64("\0" + USER + "\0" + password);
    }

    private static String cramMd5(String challengeBase64) {
        String salt = new String(Base64.getDecoder().decode(challengeBase64), StandardCharsets.UTF_8);
        return b64(USER + " " + AuthHttpServer.cramMd5Digest(salt, PASSWORD));
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String imapQuoted(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static void expect(String line, String prefix) {
        if (!line.startsWith(prefix)) {
            throw new AssertionError("expected \"" + prefix + "...\", got \"" + line + "\"");
        }
    }

    private static String last(List<String> lines) {
        return lines.get(lines.size() - 1);
    }
}
