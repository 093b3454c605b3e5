package org.mailproxy.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.inject.Inject;
import org.junit.Test;
import org.mailproxy.core.admin.MailAdmin;
import org.mailproxy.itests.fixtures.AuthHttpServer;
import org.mailproxy.itests.fixtures.LineClient;
import org.mailproxy.itests.fixtures.MailBackends;
import org.osgi.framework.Bundle;

/**
 * A soak: {@value #SESSIONS} sessions of IMAP, POP3 and SMTP through the proxy in Karaf to the
 * real Dovecot and Postfix, {@value #CONCURRENCY} at a time, one in twenty with a fault (a wrong
 * password, a reset after the greeting, garbage, a reset in the middle of the session or of a
 * mail). Bounded in time ({@link #DEADLINE}). Afterwards: every session had the replies it should,
 * every mail sent completely was delivered by Postfix byte for byte (and none cut short was), no
 * session is left open, the JVM has the file descriptors it had, its heap after GC is back to
 * where it was, and the error log holds no stack trace and no password.
 */
public class SoakIT extends MailProxyTestSupport {

    private static final int SESSIONS = 10_000;
    private static final int CONCURRENCY = 6;
    /** Sessions run before the baseline is taken: three of each fault, every protocol. */
    private static final int WARM_UP = 240;
    private static final Duration DEADLINE = Duration.ofMinutes(12);
    /** Mail for this address goes to Postfix's catchall maildir (no such user). */
    private static final String RECIPIENT = "soak@" + MailBackends.DOMAIN;
    private static final String[][] USERS = {
        {MailBackends.ALICE, MailBackends.ALICE_PASSWORD}, {MailBackends.BOB, MailBackends.BOB_PASSWORD}};

    @Inject
    private MailAdmin admin;

    /** Sent mails by their X-Soak-Id, and the ids of mails cut short. */
    private final Map<String, byte[]> sent = new ConcurrentHashMap<>();
    private final Map<String, Boolean> cutShort = new ConcurrentHashMap<>();
    private final AtomicInteger faults = new AtomicInteger();

    @Test
    public void tenThousandMixedSessionsLeaveNothingBehindAndDeliverEveryMail() throws Exception {
        awaitBundleState("org.mailproxy.imap", Bundle.ACTIVE, DEFAULT_TIMEOUT);
        awaitBundleState("org.mailproxy.pop3", Bundle.ACTIVE, DEFAULT_TIMEOUT);
        awaitBundleState("org.mailproxy.smtp", Bundle.ACTIVE, DEFAULT_TIMEOUT);
        // a warm-up of every kind of session first: what the JVM opens once and keeps (a bundle's
        // jar, a log file) belongs to the baseline, not to the soak
        runSessions(0, WARM_UP);
        awaitTrue("no session open", () -> admin.totals().currentConnections() == 0);
        long descriptorsBefore = openDescriptors();
        long heapBefore = heapAfterGc();
        String logBefore = mailLogText();
        faults.set(0);

        runSessions(WARM_UP, SESSIONS);
        assertEquals(SESSIONS / 20, faults.get());

        assertEveryMailDelivered();
        sent.clear();
        cutShort.clear();

        awaitTrue("no session left open", () -> admin.totals().currentConnections() == 0);
        awaitTrue("descriptors back to " + descriptorsBefore + " (now " + openDescriptors() + ")",
                () -> openDescriptors() <= descriptorsBefore);
        long heapAfter = heapAfterGc();
        long slack = Math.max(16L << 20, heapBefore / 10);
        assertTrue("heap after GC " + (heapAfter >> 20) + " MB, before " + (heapBefore >> 20) + " MB",
                heapAfter <= heapBefore + slack);

        String log = mailLogText().substring(Math.min(logBefore.length(), mailLogText().length()));
        assertFalse("a stack trace in mail.log", log.contains("\tat ") || log.contains("Exception"));
        for (String[] user : USERS) {
            assertFalse("a password in mail.log", log.contains(user[1]));
        }
    }

    /** Runs sessions {@code from} to {@code from + count - 1}, {@value #CONCURRENCY} at a time; all must go right. */
    private void runSessions(int from, int count) throws Exception {
        // a wrong password gets Auth-Wait: 1, so the client may try again (0 would close, as nginx)
        try (AuthHttpServer auth = AuthHttpServer.start(port("auth_http")).failureWait(1)) {
            ExecutorService pool = Executors.newFixedThreadPool(CONCURRENCY);
            List<Future<?>> results = new ArrayList<>();
            for (int i = from; i < from + count; i++) {
                int n = i;
                results.add(pool.submit(() -> {
                    session(n);
                    return null;
                }));
            }
            pool.shutdown();
            if (!pool.awaitTermination(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
                pool.shutdownNow();
                fail("the soak did not end within " + DEADLINE);
            }
            List<String> failures = new ArrayList<>();
            for (Future<?> result : results) {
                try {
                    result.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    failures.add(String.valueOf(e.getCause()));
                }
            }
            assertTrue(failures.size() + " sessions went wrong, first: " + failures.stream().limit(5).toList(),
                    failures.isEmpty());
            auth.clearRequests();
        }
    }

    // ---------------------------------------------------------------- one session

    private void session(int n) throws Exception {
        String[] user = USERS[n % USERS.length];
        int fault = n % 20 == 7 ? (n / 20) % 4 : -1;
        if (fault >= 0) {
            faults.incrementAndGet();
        }
        TRANSCRIPT.get().setLength(0);
        try {
            switch (n % 3) {
                case 0 -> imap(n, user, fault);
                case 1 -> pop3(user, fault);
                default -> smtp(n, user, fault);
            }
        } catch (Exception | AssertionError e) {
            throw new AssertionError("session " + n + " (" + List.of("imap", "pop3", "smtp").get(n % 3) + ", fault "
                    + fault + "): " + e + "; replies so far: " + TRANSCRIPT.get(), e);
        }
    }

    /** The replies the current session got, for the failure message. */
    private static final ThreadLocal<StringBuilder> TRANSCRIPT = ThreadLocal.withInitial(StringBuilder::new);

    private void imap(int n, String[] user, int fault) throws Exception {
        try (LineClient c = client(port("imap"))) {
            expect(c.readLine(), "* OK");
            if (fault == 1) {
                reset(c);
                return;
            }
            if (fault == 2) {
                expect(c.command("g1 XYZZY"), "g1 BAD");
            }
            if (fault == 0) {
                expect(c.command("a1 LOGIN " + user[0] + " wrong" + n), "a1 NO");
            }
            expect(c.command("a2 LOGIN " + user[0] + " " + user[1]), "a2 OK");
            c.send("a3 SELECT INBOX");
            if (fault == 3) {
                reset(c);
                return;
            }
            expect(last(c.readUntil("a3 ")), "a3 OK");
            c.send("a4 NOOP");
            expect(last(c.readUntil("a4 ")), "a4 OK");
            c.send("a5 LOGOUT");
            expect(last(c.readUntil("a5 ")), "a5 OK");
            assertPeerClosed(c);
        }
    }

    private void pop3(String[] user, int fault) throws Exception {
        try (LineClient c = client(port("pop3"))) {
            expect(c.readLine(), "+OK");
            if (fault == 1) {
                reset(c);
                return;
            }
            if (fault == 2) {
                expect(c.command("XYZZY"), "-ERR");
            }
            if (fault == 0) {
                expect(c.command("USER " + user[0]), "+OK");
                expect(c.command("PASS wrong"), "-ERR");
            }
            expect(c.command("USER " + user[0]), "+OK");
            expect(c.command("PASS " + user[1]), "+OK");
            c.send("STAT");
            if (fault == 3) {
                reset(c);
                return;
            }
            expect(c.readLine(), "+OK");
            expect(c.command("QUIT"), "+OK");
            assertPeerClosed(c);
        }
    }

    private void smtp(int n, String[] user, int fault) throws Exception {
        try (LineClient c = client(port("smtp"))) {
            expect(c.readLine(), "220 ");
            if (fault == 1) {
                reset(c);
                return;
            }
            c.send("EHLO soak.example");
            expect(last(c.readSmtpReply()), "250 ");
            if (fault == 2) {
                expect(last(c.send("XYZZY").readSmtpReply()), "500 5.5.1");
            }
            if (fault == 0) {
                expect(last(c.send("AUTH PLAIN " + plain(user[0], "wrong")).readSmtpReply()), "535 ");
            }
            expect(last(c.send("AUTH PLAIN " + plain(user[0], user[1])).readSmtpReply()), "235 ");
            expect(last(c.send("MAIL FROM:<" + user[0] + "@example.com>").readSmtpReply()), "250 ");
            expect(last(c.send("RCPT TO:<" + RECIPIENT + ">").readSmtpReply()), "250 ");
            expect(last(c.send("DATA").readSmtpReply()), "354 ");
            String id = "soak-" + n + "-" + System.nanoTime();
            byte[] message = message(id, n);
            if (fault == 3) {
                cutShort.put(id, Boolean.TRUE);
                c.sendRaw(java.util.Arrays.copyOf(message, message.length / 2));
                reset(c);
                return;
            }
            c.sendRaw(message);
            c.sendRaw(".\r\n".getBytes(StandardCharsets.US_ASCII));
            expect(last(c.readSmtpReply()), "250 ");
            sent.put(id, message);
            expect(last(c.send("QUIT").readSmtpReply()), "221 ");
            assertPeerClosed(c);
        }
    }

    // ---------------------------------------------------------------- checks

    private void assertEveryMailDelivered() throws Exception {
        long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        Map<String, byte[]> delivered = new HashMap<>();
        while (true) {
            for (Path file : MailBackends.deliveries("catchall")) {
                byte[] stored;
                try {
                    stored = Files.readAllBytes(file);
                } catch (java.nio.file.NoSuchFileException e) {
                    continue;
                }
                String text = new String(stored, StandardCharsets.ISO_8859_1);
                int at = text.indexOf("X-Soak-Id: ");
                if (at >= 0) {
                    delivered.put(text.substring(at + 11, text.indexOf('\n', at)).trim(), stored);
                }
            }
            if (delivered.keySet().containsAll(sent.keySet()) || System.nanoTime() > end) {
                break;
            }
            Thread.sleep(500);
        }
        int missing = 0;
        for (Map.Entry<String, byte[]> mail : sent.entrySet()) {
            byte[] stored = delivered.get(mail.getKey());
            if (stored == null) {
                missing++;
                continue;
            }
            assertArrayEquals("mail " + mail.getKey() + " delivered byte for byte",
                    MailBackends.crlfToLf(mail.getValue()), MailBackends.fromLine(stored, "X-Soak-Id: "));
        }
        assertEquals("mails not delivered (Postfix log tail:\n" + tail(MailBackends.postfixLog()) + ")", 0, missing);
        for (String id : cutShort.keySet()) {
            assertFalse("a mail cut short was delivered: " + id, delivered.containsKey(id));
        }
    }

    private static byte[] message(String id, int n) {
        StringBuilder m = new StringBuilder();
        m.append("X-Soak-Id: ").append(id).append("\r\n");
        m.append("From: soak@example.com\r\nTo: ").append(RECIPIENT).append("\r\nSubject: soak ").append(n).append("\r\n\r\n");
        for (int line = 0; line < 1 + n % 40; line++) {
            m.append(line % 7 == 3 ? "a line with . and .. in it " : "line ").append(line).append(' ')
                .append("x".repeat(n % 60)).append("\r\n");
        }
        return m.toString().getBytes(StandardCharsets.US_ASCII);
    }

    // ---------------------------------------------------------------- helpers

    private static LineClient client(int port) throws IOException {
        return new LineClient("127.0.0.1", port, Duration.ofSeconds(30));
    }

    private static void expect(String line, String prefix) {
        TRANSCRIPT.get().append(" | ").append(line.length() > 60 ? line.substring(0, 60) : line);
        if (!line.startsWith(prefix)) {
            throw new AssertionError("expected \"" + prefix + "...\", got \"" + line + "\"");
        }
    }

    private static String last(List<String> lines) {
        return lines.get(lines.size() - 1);
    }

    private static void reset(LineClient c) throws IOException {
        c.socket().setSoLinger(true, 0);
        c.close();
    }


    private static String plain(String user, String password) {
        return Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
    }


    private static long heapAfterGc() throws InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(200);
            least = Math.min(least, memory.getHeapMemoryUsage().getUsed());
        }
        return least;
    }

    private static String mailLogText() throws IOException {
        return Files.exists(mailLog()) ? Files.readString(mailLog(), StandardCharsets.UTF_8) : "";
    }

    private static String tail(String text) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    }
}
