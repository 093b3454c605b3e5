package org.mailproxy.imap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.event.MessageCountAdapter;
import jakarta.mail.event.MessageCountEvent;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.auth.http.internal.AuthHttpModule;
import org.mailproxy.imap.fixtures.AuthServer;
import org.mailproxy.imap.fixtures.ImapProxy;

/**
 * A real IMAP client library (Angus Mail, the Jakarta Mail implementation) through the proxy to a
 * real Dovecot: what a mail client does (CAPABILITY, AUTHENTICATE PLAIN or LOGIN with quoting,
 * SELECT, FETCH, IDLE) must work unchanged. Dovecot is the itests' fixture
 * ({@code itests/fixtures/dovecot.sh}, users alice/alicepw, bob/bobpw and carol with a password
 * of spaces, quotes and a percent sign); it needs root and Debian's dovecot-imapd, as CI has, and
 * the test is skipped where they are missing.
 */
class AngusMailTest {

    private static final Map<String, String> USERS = Map.of("alice", "alicepw", "bob", "bobpw",
            "carol", "c4rol pw \"100%\"");

    private static Path script;
    private static Path base;
    private static int dovecotPort;
    private static int sequence;

    private final AuthHttpModule authHttp = new AuthHttpModule();
    private AuthServer auth;
    private ImapProxy proxy;

    @BeforeAll
    static void startDovecot() throws Exception {
        script = findScript();
        Assumptions.assumeTrue(script != null && new File("/usr/sbin/dovecot").canExecute()
                && "root".equals(System.getProperty("user.name")), "needs root, Dovecot and itests/fixtures");
        base = Paths.get("/tmp", "mailproxy-imap-angus-" + ProcessHandle.current().pid());
        dovecotPort = ImapProxy.freePort();
        run("bash", script.toString(), "start", base.toString(), String.valueOf(dovecotPort),
                String.valueOf(ImapProxy.freePort()));
    }

    @AfterAll
    static void stopDovecot() throws Exception {
        if (base != null) {
            run("bash", script.toString(), "stop", base.toString());
            run("rm", "-rf", base.toString());
        }
    }

    @BeforeEach
    void startProxy() throws Exception {
        authHttp.start();
        auth = new AuthServer(h -> {
            String user = unescape(h.getOrDefault("auth-user", ""));
            String pass = unescape(h.getOrDefault("auth-pass", ""));
            boolean ok = pass.equals(USERS.get(user));
            return ok ? Map.of("Auth-Status", "OK", "Auth-Server", "127.0.0.1", "Auth-Port", String.valueOf(dovecotPort))
                    : Map.of("Auth-Status", "Invalid login or password");
        });
        proxy = new ImapProxy(new ImapProtocol(authHttp), "auth_http http://127.0.0.1:" + auth.port() + "/auth;\n"
                + "imap_capabilities IMAP4rev1 IDLE SASL-IR;", authHttp);
    }

    @AfterEach
    void stopProxy() {
        proxy.close();
        authHttp.stop();
        auth.close();
    }

    private Store connect(String user, boolean login) throws Exception {
        Properties props = new Properties();
        props.put("mail.imap.host", "127.0.0.1");
        props.put("mail.imap.port", String.valueOf(proxy.port()));
        props.put("mail.imap.connectiontimeout", "10000");
        props.put("mail.imap.timeout", "20000");
        if (login) {
            props.put("mail.imap.auth.plain.disable", "true"); // the LOGIN command
        }
        Store store = Session.getInstance(props).getStore("imap");
        store.connect(user, USERS.get(user));
        return store;
    }

    @Test
    void authenticatePlainAndFetchByteForByte() throws Exception {
        byte[] message = seed("alice", 1024 * 1024);
        try (Store store = connect("alice", false)) {
            Folder inbox = store.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            Message last = inbox.getMessage(inbox.getMessageCount());
            ByteArrayOutputStream raw = new ByteArrayOutputStream();
            last.writeTo(raw);
            assertArrayEquals(message, raw.toByteArray());
            assertEquals("angus " + sequence, last.getSubject());
            inbox.close(false);
        }
        assertEquals("plain", auth.lastRequest().get("auth-method"));
    }

    @Test
    void loginCommandWithAPasswordThatNeedsQuoting() throws Exception {
        try (Store store = connect("carol", true)) {
            assertTrue(store.getFolder("INBOX").exists());
        }
        assertEquals("c4rol%20pw%20\"100%25\"", auth.lastRequest().get("auth-pass"));
    }

    @Test
    void aRefusedLoginIsAnAuthenticationFailure() {
        Properties props = new Properties();
        props.put("mail.imap.host", "127.0.0.1");
        props.put("mail.imap.port", String.valueOf(proxy.port()));
        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
                () -> Session.getInstance(props).getStore("imap").connect("alice", "wrong"));
        assertEquals("Invalid login or password", e.getMessage());
    }

    @Test
    void idleSeesNewMail() throws Exception {
        try (Store store = connect("bob", false)) {
            IMAPFolder inbox = (IMAPFolder) store.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            CountDownLatch added = new CountDownLatch(1);
            inbox.addMessageCountListener(new MessageCountAdapter() {
                @Override
                public void messagesAdded(MessageCountEvent event) {
                    added.countDown();
                }
            });
            Thread idler = new Thread(() -> {
                try {
                    while (added.getCount() > 0) {
                        inbox.idle(true);
                    }
                } catch (Exception e) {
                    // the folder closes at the end
                }
            });
            idler.start();
            Thread.sleep(500); // IDLE is under way
            seed("bob", 500);
            assertTrue(added.await(40, TimeUnit.SECONDS), "new mail announced during IDLE");
            idler.join(10_000);
            inbox.close(false);
        }
    }

    // ---------------------------------------------------------------- Dovecot

    private static Path findScript() {
        for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("itests").resolve("fixtures").resolve("dovecot.sh");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private static void run(String... command) throws Exception {
        File log = File.createTempFile("angus-dovecot", ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + ": " + Files.readString(log.toPath()));
        }
        Files.delete(log.toPath());
    }

    /** A new message with CRLF line ends in the user's Maildir/new, owned by the mail user. */
    private static synchronized byte[] seed(String user, int size) throws Exception {
        sequence++;
        StringBuilder text = new StringBuilder("From: sender@example.com\r\nTo: " + user
                + "@test.example\r\nSubject: angus " + sequence + "\r\n\r\n");
        for (int i = 0; text.length() < size; i++) {
            text.append("line ").append(i).append(" of a message seeded for the Angus Mail test\r\n");
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.US_ASCII);
        Path maildir = base.resolve("home").resolve(user).resolve("Maildir");
        String name = System.currentTimeMillis() / 1000 + ".M" + sequence + "P" + ProcessHandle.current().pid() + ".angus";
        Path tmp = maildir.resolve("tmp").resolve(name);
        Files.write(tmp, bytes);
        Files.setAttribute(tmp, "unix:uid", 65534);
        Files.setAttribute(tmp, "unix:gid", 65534);
        Files.move(tmp, maildir.resolve("new").resolve(name));
        return bytes;
    }

    private static String unescape(String value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] in = value.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < in.length; i++) {
            if (in[i] == '%' && i + 2 < in.length) {
                out.write(Integer.parseInt(new String(in, i + 1, 2, StandardCharsets.US_ASCII), 16));
                i += 2;
            } else {
                out.write(in[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
