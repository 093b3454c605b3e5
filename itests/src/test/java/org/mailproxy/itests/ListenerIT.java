package org.mailproxy.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Hashtable;
import java.util.List;
import java.util.function.BooleanSupplier;
import javax.inject.Inject;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The core's listeners in a real Karaf, served by the real POP3 bundle: servers of etc/mail.conf
 * accept connections; Config Admin changes open and close listeners without a restart while an
 * unchanged listener keeps its open connection; a broken etc/mail.conf is rejected with its line in
 * the log and the running configuration keeps serving; stopping the protocol bundle takes its
 * servers' listeners with it and starting it brings them back (the runtime form of nginx's
 * {@code --without-mail_pop3_module}).
 */
public class ListenerIT extends MailProxyTestSupport {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @Inject
    private ConfigurationAdmin configAdmin;

    private static final String POP3_BUNDLE = "org.mailproxy.pop3";

    private Configuration extra;

    @Before
    public void pop3IsServing() throws Exception {
        awaitBundleState(POP3_BUNDLE, Bundle.ACTIVE, DEFAULT_TIMEOUT);
        awaitTrue("pop3 port " + port("pop3") + " accepts", () -> accepts(port("pop3")));
    }

    @After
    public void cleanUp() throws Exception {
        if (extra != null) {
            extra.delete();
        }
        Bundle pop3 = bundle(POP3_BUNDLE);
        if (pop3.getState() != Bundle.ACTIVE) {
            pop3.start();
        }
    }

    @Test
    public void serverFromMailConfAcceptsAndGreets() throws Exception {
        try (Client client = new Client(port("pop3"))) {
            assertGreeting(client.readLine());
            assertEquals("+OK", client.command("NOOP"));
        }
    }

    @Test
    public void configAdminChangeOpensAndClosesListenersWithoutTouchingUnchangedOnes() throws Exception {
        try (Client kept = new Client(port("pop3"))) {
            assertGreeting(kept.readLine());

            int first = freePort();
            extra = configAdmin.getFactoryConfiguration("org.mailproxy.server", "itest-extra", "?");
            Hashtable<String, Object> props = new Hashtable<>();
            props.put("listen", "127.0.0.1:" + first);
            props.put("protocol", "pop3");
            extra.update(props);
            awaitTrue("new listener on " + first, () -> accepts(first));
            try (Client added = new Client(first)) {
                assertGreeting(added.readLine());
            }

            int second = freePort();
            props.put("listen", "127.0.0.1:" + second);
            extra.update(props);
            awaitTrue("listener moved to " + second, () -> accepts(second));
            awaitTrue("old listener on " + first + " closed", () -> !accepts(first));

            extra.delete();
            extra = null;
            awaitTrue("removed listener on " + second + " closed", () -> !accepts(second));

            // the connection accepted before all this is still served
            assertEquals("+OK", kept.command("NOOP"));
        }
    }

    @Test
    public void brokenMailConfIsRejectedWithItsLineAndTheOldConfigKeepsServing() throws Exception {
        Path conf = Path.of(System.getProperty("mailproxy.conf"));
        String good = Files.readString(conf, StandardCharsets.UTF_8);
        List<String> lines = good.lines().toList();
        int xclientLine = lines.indexOf("    xclient           off;") + 1;
        assertTrue("test config has the xclient line", xclientLine > 0);
        Path log = Path.of(System.getProperty("karaf.data"), "log", "karaf.log");
        try {
            // The error is logged once per distinct error. A message logged while Pax Logging is
            // being reconfigured (the previous test changed the error logs) can be lost, so a
            // different typo is tried when the first one does not show up.
            boolean logged = false;
            for (int attempt = 1; attempt <= 3 && !logged; attempt++) {
                String typo = "of" + "f".repeat(attempt + 1);
                String expected = "invalid value \"" + typo + "\" in \"xclient\" directive, it must be \"on\" or \"off\" in "
                        + conf + ":" + xclientLine;
                Files.writeString(conf, good.replace("    xclient           off;", "    xclient           " + typo + ";"),
                        StandardCharsets.UTF_8);
                logged = eventually(Duration.ofSeconds(10), () -> read(log).contains(expected));
            }
            assertTrue("the log names " + conf + ":" + xclientLine, logged);
            try (Client client = new Client(port("pop3"))) {
                assertGreeting(client.readLine());
            }
        } finally {
            Files.writeString(conf, good, StandardCharsets.UTF_8);
        }
    }

    @Test
    public void serverErrorLogGetsThatServersMessagesInNginxFormat() throws Exception {
        Path logDir = Path.of(System.getProperty("karaf.data"), "log");
        Path serverLog = logDir.resolve("itest-server-" + System.nanoTime() + ".log");
        int port = freePort();
        extra = configAdmin.getFactoryConfiguration("org.mailproxy.server", "itest-logged", "?");
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("listen", "127.0.0.1:" + port);
        props.put("protocol", "pop3");
        props.put("error_log", serverLog + " debug");
        extra.update(props);
        awaitTrue("listener on " + port, () -> accepts(port));
        // Pax Logging applies its new configuration asynchronously, and the file can be there
        // before the logger's level is DEBUG: connect until a connection is logged
        String connected = "connected to 127.0.0.1:" + port;
        awaitTrue(serverLog + " has a connection", () -> {
            try (Client client = new Client(port)) {
                assertGreeting(client.readLine());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return read(serverLog).contains(connected);
        });
        String line = read(serverLog).lines().filter(l -> l.contains(connected)).findFirst().orElseThrow();
        assertTrue(line, line.matches("\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d \\[debug\\] \\d+#\\d+: \\*\\d+ client "
                + "127\\.0\\.0\\.1:\\d+ connected to 127\\.0\\.0\\.1:" + port));
        // the mail-level log (top-level error_log of the test configuration, level info) has
        // the configuration messages but not this server's debug lines
        Path mailLog = logDir.resolve("mail.log");
        awaitTrue("mail.log has the configuration messages", () -> read(mailLog).lines()
                .anyMatch(l -> l.matches(".* \\[info\\] \\d+#\\d+: mail configuration applied: .*")));
        assertFalse(read(mailLog).contains(connected));
    }

    @Test
    public void stoppingTheProtocolBundleClosesItsListenersAndStartingItReopensThem() throws Exception {
        Bundle pop3 = bundle(POP3_BUNDLE);
        try (Client before = new Client(port("pop3"))) {
            assertGreeting(before.readLine());
            pop3.stop();
            awaitTrue("pop3 port closed", () -> !accepts(port("pop3")));
            // a session that had not logged in belongs to the protocol: nginx's internal error, then closed
            assertEquals("-ERR internal server error", before.readLineOrNull());
            assertEquals(null, before.readLineOrNull());
        }
        pop3.start();
        awaitTrue("pop3 port open again", () -> accepts(port("pop3")));
        try (Client after = new Client(port("pop3"))) {
            assertGreeting(after.readLine());
        }
    }

    private static void assertGreeting(String line) {
        assertTrue(line, line.startsWith("+OK POP3 ready"));
    }

    // ------------------------------------------------------------------------------------------

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static boolean eventually(Duration limit, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(100);
        }
        return condition.getAsBoolean();
    }

    /** A line-oriented client over a real socket. */
    private static final class Client implements AutoCloseable {
        private final Socket socket;
        private final BufferedReader in;
        private final OutputStream out;

        Client(int port) throws IOException {
            socket = new Socket();
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            socket.setSoTimeout(10_000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            out = socket.getOutputStream();
        }

        String readLine() throws IOException {
            String line = in.readLine();
            if (line == null) {
                throw new IOException("connection closed by the proxy");
            }
            return line;
        }

        String readLineOrNull() throws IOException {
            try {
                return in.readLine();
            } catch (java.net.SocketException e) {
                return null;
            }
        }

        String command(String line) throws IOException {
            out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return readLine();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
