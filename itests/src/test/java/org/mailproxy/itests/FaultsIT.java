package org.mailproxy.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.io.OutputStream;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Hashtable;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import javax.inject.Inject;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.mailproxy.core.admin.MailAdmin;
import org.mailproxy.itests.fixtures.AuthHttpServer;
import org.mailproxy.itests.fixtures.FaultyAuthServer;
import org.mailproxy.itests.fixtures.FaultyBackend;
import org.mailproxy.itests.fixtures.LineClient;
import org.mailproxy.itests.fixtures.OpensslCerts;
import org.osgi.framework.Bundle;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Faults end to end, in a real Karaf, against the real Dovecot: a dead, slow, garbage-sending or
 * half-answering auth server; a backend that refuses, closes during the login, closes during the
 * relay or reads slowly; a client that drips bytes, half-closes or resets, or sends garbage where
 * a TLS handshake belongs.
 *
 * <p>For each: the affected client gets the protocol's error or is closed; a bystander session,
 * logged in to Dovecot through the proxy before the fault, keeps working; the error log gets the
 * nginx-worded line and no stack trace; and afterwards the proxy's open sessions and the JVM's
 * open file descriptors are back where they were.
 *
 * <p>The faulty parts are on a server of their own (added through Config Admin) whose auth_http
 * is {@link FaultyAuthServer}, with {@code auth_http_timeout 2s} and {@code timeout 3s}; the
 * bystander uses the suite's IMAP server and the real {@link AuthHttpServer}.
 */
public class FaultsIT extends MailProxyTestSupport {

    private static final String IMAP_BUNDLE = "org.mailproxy.imap";
    private static final Duration SETTLE = Duration.ofSeconds(20);

    @Inject
    private ConfigurationAdmin configAdmin;

    @Inject
    private MailAdmin admin;

    private AuthHttpServer auth;
    private FaultyAuthServer faultyAuth;
    private FaultyBackend backend;
    private Configuration faultServer;
    private int faultPort;
    private LineClient bystander;
    private long sessionsBefore;
    private long descriptorsBefore;
    private long logMark;

    @Before
    public void setUp() throws Exception {
        awaitBundleState(IMAP_BUNDLE, Bundle.ACTIVE, DEFAULT_TIMEOUT);
        auth = AuthHttpServer.start(port("auth_http"));
        faultyAuth = new FaultyAuthServer();
        backend = new FaultyBackend(port("dovecot_imap"));
        faultyAuth.backendPort(backend.port());
        faultPort = freePort();
        // a name of its own per test: Karaf's fileinstall mirrors factory configurations to etc/*.cfg,
        // and a file of a deleted one with the same name could come back with the old values
        faultServer = configAdmin.getFactoryConfiguration("org.mailproxy.server", "itest-faults-" + faultPort, "?");
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("listen", "127.0.0.1:" + faultPort);
        props.put("protocol", "imap");
        props.put("auth_http", "127.0.0.1:" + faultyAuth.port() + "/auth");
        props.put("auth_http_timeout", "2s");
        props.put("timeout", "3s");
        faultServer.update(props);
        String pid = faultServer.getPid();
        awaitTrue("the fault server is active", () -> admin.servers().stream()
                .anyMatch(server -> pid.equals(server.pid()) && server.active()
                        && server.listen().contains("127.0.0.1:" + faultPort)));
        awaitTrue("the fault server listens on " + faultPort, () -> accepts(faultPort));

        bystander = new LineClient(port("imap"));
        assertTrue(bystander.readLine().startsWith("* OK"));
        assertTrue(bystander.command("b1 LOGIN alice alicepw").startsWith("b1 OK"));
        bystander.send("b2 SELECT INBOX");
        bystander.readUntil("b2 ");

        awaitTrue("only the bystander is open", () -> admin.totals().currentConnections() == 1);
        sessionsBefore = admin.totals().currentConnections();
        descriptorsBefore = openDescriptors();
        logMark = Files.exists(mailLog()) ? Files.size(mailLog()) : 0;
    }

    @After
    public void tearDown() throws Exception {
        if (bystander != null) {
            bystander.close();
        }
        if (faultServer != null) {
            faultServer.delete();
            // gone before the next test configures its own (which may get the same port)
            awaitTrue("the fault server stopped listening", () -> !accepts(faultPort));
        }
        if (backend != null) {
            backend.close();
        }
        if (faultyAuth != null) {
            faultyAuth.close();
        }
        if (auth != null) {
            auth.close();
        }
    }

    // ---------------------------------------------------------------- the auth server

    @Test
    public void authServerDownGivesAnInternalErrorAndOneLogLine() throws Exception {
        int port = faultyAuth.port();
        faultyAuth.close();
        awaitTrue("nothing listens on the auth server's port", () -> !accepts(port));
        assertLoginGetsInternalError();
        assertAfterTheFault("connect() to 127.0.0.1:" + port + " failed (111: Connection refused) while in http auth state");
    }

    @Test
    public void authServerSlowerThanAuthHttpTimeout() throws Exception {
        faultyAuth.mode(FaultyAuthServer.Mode.SILENT);
        assertLoginGetsInternalError();
        assertAfterTheFault("auth http server 127.0.0.1:" + faultyAuth.port()
                + " timed out (110: Connection timed out) while in http auth state");
    }

    @Test
    public void authServerAnsweringGarbage() throws Exception {
        faultyAuth.mode(FaultyAuthServer.Mode.GARBAGE);
        assertLoginGetsInternalError();
        assertAfterTheFault("sent invalid header in response while in http auth state");
    }

    @Test
    public void authServerClosingMidResponse() throws Exception {
        faultyAuth.mode(FaultyAuthServer.Mode.CLOSE_MID_RESPONSE);
        assertLoginGetsInternalError();
        assertAfterTheFault("while in http auth state");
    }

    // ---------------------------------------------------------------- the backend

    @Test
    public void backendRefusingTheConnection() throws Exception {
        int closed = freePort();
        faultyAuth.backendPort(closed);
        assertLoginGetsInternalError();
        assertAfterTheFault("connect() to 127.0.0.1:" + closed + " failed (111: Connection refused)"
                + " while connecting to upstream");
    }

    @Test
    public void backendClosingDuringTheLogin() throws Exception {
        backend.mode(FaultyBackend.Mode.CLOSE_ON_FIRST_COMMAND);
        assertLoginGetsInternalError();
        assertAfterTheFault("upstream");
    }

    @Test
    public void backendClosingDuringTheRelayClosesTheClient() throws Exception {
        try (LineClient client = loggedIn()) {
            backend.dropAll();
            assertPeerClosed(client);
        }
        assertAfterTheFault(null);
    }

    @Test
    public void slowBackendBoundsWhatTheProxyHoldsAndLosesNothing() throws Exception {
        byte[] message = message(48 << 20);
        try (LineClient client = loggedIn()) {
            backend.pauseReading(true);
            client.send("a3 APPEND INBOX {" + message.length + "+}");
            AtomicLong written = new AtomicLong();
            Thread writer = new Thread(() -> {
                try {
                    OutputStream out = client.socket().getOutputStream();
                    for (int off = 0; off < message.length; off += 65536) {
                        int n = Math.min(65536, message.length - off);
                        out.write(message, off, n);
                        written.addAndGet(n);
                    }
                    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException e) {
                    // reported by the assertions below
                }
            }, "slow-backend-writer");
            writer.start();
            long steady = awaitSteady(written);
            long held = steady - backend.bytesFromProxy();
            assertTrue("the client could write all " + message.length + " bytes to a backend that reads nothing",
                    steady < message.length);
            // kernel socket buffers on both legs plus the relay's high-water mark; never the message
            assertTrue("the proxy took " + held + " bytes the backend did not read", held < 32 << 20);

            backend.pauseReading(false);
            writer.join(60_000);
            assertEquals(message.length, written.get());
            List<String> appended = client.readUntil("a3 ");
            assertTrue(appended.toString(), appended.get(appended.size() - 1).startsWith("a3 OK"));

            client.send("a4 SELECT INBOX");
            String exists = client.readUntil("a4 ").stream().filter(l -> l.endsWith(" EXISTS")).findFirst().orElseThrow();
            String seq = exists.split(" ")[1];
            client.send("a5 FETCH " + seq + " BODY.PEEK[]");
            String head = client.readLine();
            assertTrue(head, head.endsWith("{" + message.length + "}"));
            byte[] back = client.readBytes(message.length);
            assertEquals("the message came back byte for byte", sha256(message), sha256(back));
            client.readUntil("a5 ");
            client.command("a6 STORE " + seq + " +FLAGS (\\Deleted)");
            client.readUntil("a6 ");
            client.send("a7 EXPUNGE");
            client.readUntil("a7 ");
        }
        assertAfterTheFault(null);
    }

    // ---------------------------------------------------------------- the client

    @Test
    public void clientDrippingOneByteASecondTimesOut() throws Exception {
        try (LineClient client = new LineClient(faultPort)) {
            assertTrue(client.readLine().startsWith("* OK"));
            byte[] drip = "a1 LOGIN alice alicepw".getBytes(StandardCharsets.US_ASCII);
            long start = System.nanoTime();
            try {
                for (byte b : drip) {
                    client.sendRaw(new byte[] {b});
                    Thread.sleep(1000);
                }
                fail("a client sending one byte a second was never closed");
            } catch (SocketException closed) {
                // the proxy closed the connection: the write failed
            }
            long seconds = Duration.ofNanos(System.nanoTime() - start).toSeconds();
            assertTrue("closed after " + seconds + " s, timeout is 3 s", seconds >= 2 && seconds <= 10);
        } catch (SocketException expected) {
            // reset on close
        }
        assertAfterTheFault("client timed out");
    }

    @Test
    public void clientHalfClosingIsClosed() throws Exception {
        try (LineClient client = new LineClient(faultPort)) {
            assertTrue(client.readLine().startsWith("* OK"));
            client.socket().shutdownOutput();
            assertPeerClosed(client);
        }
        assertAfterTheFault(null);
    }

    @Test
    public void clientResettingDuringTheLogin() throws Exception {
        faultyAuth.mode(FaultyAuthServer.Mode.SILENT);
        LineClient client = new LineClient(faultPort);
        assertTrue(client.readLine().startsWith("* OK"));
        client.send("a1 LOGIN alice alicepw");
        awaitTrue("the login reached the auth server", () -> admin.totals().currentConnections() == sessionsBefore + 1);
        client.socket().setSoLinger(true, 0);
        client.close(); // RST
        assertAfterTheFault(null);
    }

    @Test
    public void garbageInsteadOfATlsHandshakeIsClosedAndCounted() throws Exception {
        int tlsPort = freePort();
        Configuration tls = configAdmin.getFactoryConfiguration("org.mailproxy.server", "itest-faults-tls-" + tlsPort, "?");
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("listen", "127.0.0.1:" + tlsPort + " ssl");
        props.put("protocol", "imap");
        props.put("ssl_certificate", OpensslCerts.path("server.pem"));
        props.put("ssl_certificate_key", OpensslCerts.path("server.key"));
        tls.update(props);
        try {
            String pid = tls.getPid();
            awaitTrue("the TLS server is active", () -> admin.servers().stream()
                    .anyMatch(server -> pid.equals(server.pid()) && server.active()));
            awaitTrue("the TLS server listens", () -> accepts(tlsPort));
            try (LineClient client = new LineClient(tlsPort)) {
                client.send("a1 LOGIN alice alicepw"); // plaintext where a ClientHello belongs
                assertPeerClosed(client);
            }
            assertAfterTheFault("SSL handshake failed");
        } finally {
            tls.delete();
            awaitTrue("the TLS server stopped listening", () -> !accepts(tlsPort));
        }
    }

    // ---------------------------------------------------------------- helpers

    private LineClient loggedIn() throws IOException {
        LineClient client = new LineClient("127.0.0.1", faultPort, Duration.ofSeconds(60));
        assertTrue(client.readLine().startsWith("* OK"));
        String reply = client.command("a1 LOGIN alice alicepw");
        assertTrue(reply, reply.startsWith("a1 OK"));
        client.send("a2 SELECT INBOX");
        client.readUntil("a2 ");
        return client;
    }

    private void assertLoginGetsInternalError() throws IOException {
        try (LineClient client = new LineClient(faultPort)) {
            assertTrue(client.readLine().startsWith("* OK"));
            assertEquals("* BAD internal server error", client.command("a1 LOGIN alice alicepw"));
            assertPeerClosed(client);
        }
    }


    /**
     * The bystander still works; the proxy is back to the sessions it had, the JVM to the file
     * descriptors it had; and the error log got {@code expected} (when given) and no stack trace.
     */
    private void assertAfterTheFault(String expected) throws Exception {
        assertTrue(bystander.command("b9 NOOP").startsWith("b9 OK"));
        awaitTrue("sessions back to " + sessionsBefore, () -> admin.totals().currentConnections() == sessionsBefore);
        awaitTrue("open descriptors back to " + descriptorsBefore, () -> openDescriptors() <= descriptorsBefore);
        if (expected != null) {
            long deadline = System.nanoTime() + SETTLE.toNanos();
            while (!newLogText().contains(expected)) {
                if (System.nanoTime() > deadline) {
                    fail("mail.log has no \"" + expected + "\"; it got:\n" + newLogText());
                }
                Thread.sleep(100);
            }
        }
        String log = newLogText();
        assertFalse("a stack trace in mail.log:\n" + log, log.contains("\tat ") || log.contains("Exception"));
        assertFalse("a password in mail.log:\n" + log, log.contains("alicepw"));
    }

    private String newLogText() {
        try {
            byte[] all = Files.readAllBytes(mailLog());
            int from = (int) Math.min(logMark, all.length);
            return new String(all, from, all.length - from, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }



    /** Waits until {@code counter} stops moving for a second; returns its value then. */
    private static long awaitSteady(AtomicLong counter) throws InterruptedException {
        long last = -1;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            long now = counter.get();
            if (now == last) {
                return now;
            }
            last = now;
            Thread.sleep(1000);
        }
        return counter.get();
    }

    private static byte[] message(int size) {
        StringBuilder head = new StringBuilder("From: a@example.com\r\nTo: alice@example.com\r\nSubject: big\r\n\r\n");
        byte[] bytes = new byte[size];
        byte[] h = head.toString().getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(h, 0, bytes, 0, h.length);
        Random random = new Random(42);
        for (int i = h.length; i < size; i++) {
            int col = (i - h.length) % 78;
            bytes[i] = col == 76 ? (byte) '\r' : col == 77 ? (byte) '\n' : (byte) ('A' + random.nextInt(26));
        }
        bytes[size - 2] = '\r';
        bytes[size - 1] = '\n';
        return bytes;
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
