package org.mailproxy.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.core.net.BindingState;
import org.mailproxy.core.net.ListenBinding;
import org.mailproxy.core.net.ListenerSet;
import org.mailproxy.core.net.TestClient;
import org.mailproxy.core.net.TestListen;

/** The session base with a real listener and client: limits, reading suspension, backend login. */
class MailSessionTest {

    private SessionManager sessions;
    private ListenerSet listeners;
    private LineProtocol protocol;
    private MailServer server;
    private int port;

    @BeforeEach
    void start() {
        sessions = new SessionManager(2);
        listeners = new ListenerSet(sessions.ioProcessor(), sessions.clientHandler());
        protocol = new LineProtocol();
    }

    @AfterEach
    void stop() {
        listeners.close();
        sessions.close();
    }

    private void serve(SessionLimits limits) {
        port = TestListen.freePort();
        server = new MailServer("line test", protocol, "settings", limits);
        List<BindingState> states = listeners.apply(List.of(new ListenBinding(TestListen.on("127.0.0.1", port).spec(), server)));
        assertTrue(states.get(0).bound(), states.get(0).error());
    }

    private static SessionLimits limits(Duration timeout, int maxErrors, int maxCommands) {
        return new SessionLimits(timeout, maxErrors, maxCommands, 4096, Duration.ofHours(24));
    }

    private TestClient client() throws IOException {
        TestClient client = TestClient.connect("127.0.0.1", port);
        assertEquals("+OK ready", client.readLine());
        return client;
    }

    @Test
    void greetsAnswersAndCountsSessions() throws Exception {
        serve(SessionLimits.DEFAULTS);
        try (TestClient client = client()) {
            client.send("NOOP\r\n");
            assertEquals("+OK", client.readLine());
            assertEquals(1, sessions.currentSessions());
            assertEquals(1, server.currentSessions());
            MailSession session = sessions.sessions().iterator().next();
            assertEquals(1, session.commands());
            assertEquals(port, session.localAddress().getPort());
            assertEquals("settings", session.settings(String.class));
        }
        assertTrue(eventually(() -> sessions.currentSessions() == 0 && server.currentSessions() == 0));
        assertTrue(eventually(() -> protocol.events.contains("close")), "onClose when the client goes away");
        assertEquals(1, sessions.totalSessions());
        assertEquals(1, server.totalSessions());
    }

    @Test
    void timeoutCallsOnTimeoutThenClosesAfterItsReply() throws Exception {
        serve(limits(Duration.ofMillis(300), 5, 1000));
        try (TestClient client = client()) {
            assertEquals("-ERR timeout", client.readLine());
            assertTrue(client.closedByPeer());
        }
        assertTrue(eventually(() -> protocol.events.containsAll(List.of("timeout", "close"))));
    }

    @Test
    void activityDoesNotStretchTheTimeout() throws Exception {
        serve(limits(Duration.ofMillis(1000), 5, 1000));
        try (TestClient client = client()) {
            long start = System.nanoTime();
            for (int i = 0; i < 2; i++) {
                Thread.sleep(300);
                client.send("NOOP\r\n");
                assertEquals("+OK", client.readLine());
            }
            assertEquals("-ERR timeout", client.readLine(), "nginx's timer runs from the greeting");
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis >= 900 && millis < 1500, "timed out after " + millis + " ms of activity");
            assertTrue(client.closedByPeer());
        }
    }

    @Test
    void maxErrorsClosesAfterTheReplyToTheLastAllowedError() throws Exception {
        serve(limits(Duration.ofSeconds(60), 3, 1000));
        try (TestClient client = client()) {
            client.send("BAD\r\n");
            assertEquals("-ERR invalid", client.readLine());
            client.send("BAD\r\n");
            assertEquals("-ERR invalid", client.readLine());
            client.send("NOOP\r\n");
            assertEquals("+OK", client.readLine());
            client.send("BAD\r\n");
            assertEquals("-ERR invalid", client.readLine());
            assertTrue(client.closedByPeer());
        }
    }

    @Test
    void maxCommandsRejectsTheCommandBeyondTheLimitAndCloses() throws Exception {
        serve(limits(Duration.ofSeconds(60), 5, 2));
        try (TestClient client = client()) {
            client.send("NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n");
            assertEquals("+OK", client.readLine());
            assertEquals("+OK", client.readLine());
            assertEquals("-ERR too many commands", client.readLine());
            assertTrue(client.closedByPeer(), "the fourth command is never answered");
        }
    }

    @Test
    void commandsPipelinedBehindASuspendedReadAreHandledAfterTheResume() throws Exception {
        serve(SessionLimits.DEFAULTS);
        try (TestClient client = client()) {
            client.send("AUTH\r\nNOOP\r\nBAD\r\n");
            assertEquals("+OK authenticated", client.readLine());
            assertEquals("+OK", client.readLine());
            assertEquals("-ERR invalid", client.readLine());
        }
    }

    @Test
    void timeoutDoesNotRunWhileReadingIsSuspended() throws Exception {
        serve(limits(Duration.ofMillis(30), 5, 1000));
        try (TestClient client = client()) {
            client.send("AUTH\r\nNOOP\r\n");
            assertEquals("+OK authenticated", client.readLine(), "the 50 ms answer outlives the 30 ms timeout");
            assertEquals("+OK", client.readLine());
        }
    }

    @Test
    void relaysAfterTheBackendLoginWithPipelinedBytesFirst() throws Exception {
        serve(SessionLimits.DEFAULTS);
        try (TestBackend backend = TestBackend.start(socket -> {
            OutputStream out = socket.getOutputStream();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            out.write("* OK back".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(50); // the greeting arrives in two pieces
            out.write("end ready\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String line;
            while ((line = in.readLine()) != null) {
                out.write(("echo " + line + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        }); TestClient client = client()) {
            client.send("PROXY " + backend.port() + "\r\npipelined\r\n");
            assertEquals("* OK backend ready", client.readLine());
            assertEquals("echo pipelined", client.readLine());
            client.send("after\r\n");
            assertEquals("echo after", client.readLine());
            MailSession session = sessions.sessions().iterator().next();
            assertTrue(session.isRelaying());
            assertEquals(1, sessions.relayingSessions());
            assertEquals("pipelined\r\nafter\r\n".length(), session.bytesFromClient());
        }
        assertTrue(eventually(() -> sessions.currentSessions() == 0));
        assertFalse(protocol.events.contains("close"), "the protocol is released when the relay starts");
        assertEquals("pipelined\r\nafter\r\n".length(), sessions.bytesFromClients());
    }

    @Test
    void connectFailureIsReportedToTheLoginAndCloses() throws Exception {
        serve(SessionLimits.DEFAULTS);
        int closed = TestListen.freePort();
        try (TestClient client = client()) {
            client.send("PROXY " + closed + "\r\n");
            assertEquals("-ERR backend CONNECT_FAILED", client.readLine());
            assertTrue(client.closedByPeer());
        }
    }

    @Test
    void aSilentBackendTimesOutTheLogin() throws Exception {
        serve(limits(Duration.ofMillis(300), 5, 1000));
        CountDownLatch backendClosed = new CountDownLatch(1);
        try (TestBackend backend = TestBackend.start(socket -> {
            if (socket.getInputStream().read() == -1) {
                backendClosed.countDown();
            }
        }); TestClient client = client()) {
            client.send("PROXY " + backend.port() + "\r\n");
            assertEquals("-ERR backend TIMED_OUT", client.readLine());
            assertTrue(client.closedByPeer());
            assertTrue(backendClosed.await(5, TimeUnit.SECONDS), "the backend connection is closed");
        }
    }

    @Test
    void aBackendClosingDuringLoginIsReported() throws Exception {
        serve(SessionLimits.DEFAULTS);
        try (TestBackend backend = TestBackend.start(Socket::close); TestClient client = client()) {
            client.send("PROXY " + backend.port() + "\r\n");
            assertEquals("-ERR backend CLOSED", client.readLine());
            assertTrue(client.closedByPeer());
        }
    }

    @Test
    void closingAProtocolsSessionsSparesRelayingOnes() throws Exception {
        serve(SessionLimits.DEFAULTS);
        try (TestBackend backend = TestBackend.start(socket -> {
            socket.getOutputStream().write("* OK\r\n".getBytes(StandardCharsets.US_ASCII));
            socket.getInputStream().transferTo(socket.getOutputStream());
        }); TestClient relaying = client(); TestClient talking = client()) {
            relaying.send("PROXY " + backend.port() + "\r\n");
            assertEquals("* OK", relaying.readLine());

            assertEquals(1, sessions.closeSessions(protocol));

            assertEquals("-ERR stopped", talking.readLine(), "the protocol's reply to a greeted session");
            assertTrue(talking.closedByPeer());
            relaying.send("still relayed\n");
            assertEquals("still relayed", relaying.readLine());
        }
    }

    private static boolean eventually(BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }
}
