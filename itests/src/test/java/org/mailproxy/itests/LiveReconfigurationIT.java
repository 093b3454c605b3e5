package org.mailproxy.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.mailproxy.itests.RuntimeModularityIT.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import javax.inject.Inject;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.mailproxy.itests.fixtures.AuthHttpServer;
import org.mailproxy.itests.fixtures.LineClient;
import org.mailproxy.itests.fixtures.MailBackends;
import org.mailproxy.itests.fixtures.ProxiedLogin;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Live changes while sessions run, in a real Karaf with the real Dovecot behind the proxy:
 * <ul>
 * <li>an edit of etc/mail.conf applies to new connections only: a session opened before keeps its
 *     configuration (its CAPABILITY), relaying sessions go on, the unchanged listener stays bound
 *     (it is neither closed nor bound again), a removed server's listener closes while the session
 *     accepted on it goes on relaying;</li>
 * <li>etc/mail.conf is the configuration {@code org.mailproxy.mail} and factory configurations of
 *     {@code org.mailproxy.server}; an edit that removes a server deletes its configuration, while a
 *     server an operator created in Config Admin stays;</li>
 * <li>auth_http_timeout hits are counted per server, in mail:stats and in the Server MBean (read
 *     through Karaf's real JMX connector), and the auth_http connection counters show kept-alive
 *     connections reused.</li>
 * </ul>
 */
public class LiveReconfigurationIT extends MailProxyTestSupport {

    private static final String CAPABILITIES = "imap_capabilities IMAP4rev1 UIDPLUS IDLE LITERAL+ QUOTA;";
    private static final String NEW_CAPABILITY = "XLIVECHANGE";

    @Inject
    private ConfigurationAdmin configAdmin;

    private AuthHttpServer auth;
    private Configuration extra;

    @Before
    public void setUp() throws Exception {
        auth = AuthHttpServer.start(port("auth_http"));
        await("imap port accepts", () -> accepts(port("imap")));
    }

    @After
    public void tearDown() throws Exception {
        if (extra != null) {
            extra.delete();
        }
        if (auth != null) {
            auth.close();
        }
    }

    // ------------------------------------------------------------------ etc/mail.conf edits

    @Test
    public void mailConfEditAppliesToNewConnectionsWhileSessionsGoOn() throws Exception {
        Path conf = Path.of(System.getProperty("mailproxy.conf"));
        String original = Files.readString(conf, StandardCharsets.UTF_8);
        assertTrue("test config sets " + CAPABILITIES, original.contains(CAPABILITIES));
        int imapPort = port("imap");
        int extraPort = freePort();
        int end = original.lastIndexOf('}'); // the end of the mail block
        String withExtra = original.substring(0, end) + "    server {\n        listen   127.0.0.1:" + extraPort
                + ";\n        protocol imap;\n    }\n" + original.substring(end);
        try {
            Files.writeString(conf, withExtra, StandardCharsets.UTF_8);
            await("server added in mail.conf listens on " + extraPort, () -> accepts(extraPort));
            String marker = "reconf-" + System.nanoTime();
            MailBackends.seed(MailBackends.ALICE, ProxiedLogin.message(MailBackends.ALICE, marker));
            try (ProxiedLogin kept = ProxiedLogin.login("imap", imapPort, MailBackends.ALICE, MailBackends.ALICE_PASSWORD);
                 ProxiedLogin onRemoved = ProxiedLogin.login("imap", extraPort, MailBackends.ALICE, MailBackends.ALICE_PASSWORD);
                 LineClient greeted = ProxiedLogin.greeted("imap", imapPort)) {
                Map<Path, Long> marks = logMarks();

                // the extra server removed, the capabilities changed
                Files.writeString(conf, original.replace(CAPABILITIES,
                        CAPABILITIES.replace(";", " " + NEW_CAPABILITY + ";")), StandardCharsets.UTF_8);
                await("a new connection sees " + NEW_CAPABILITY, () -> capabilities(imapPort).contains(NEW_CAPABILITY));
                await("the removed server's listener on " + extraPort + " closed", () -> !accepts(extraPort));

                // the session opened before the change keeps the configuration it started with
                String old = capability(greeted, "c1");
                assertTrue(old, old.contains("QUOTA"));
                assertFalse(old, old.contains(NEW_CAPABILITY));
                // relaying sessions go on, also the one accepted by the removed server
                kept.assertServes(marker);
                onRemoved.assertServes(marker);

                String log = logSince(marks);
                assertTrue("the removed listener was closed:\n" + log, log.contains("stopped listening on 127.0.0.1:" + extraPort));
                assertFalse("the unchanged imap listener stayed bound:\n" + log, java.util.regex.Pattern
                        .compile("listening on 127\\.0\\.0\\.1:" + imapPort + "(?!\\d)").matcher(log).find());
            }
        } finally {
            Files.writeString(conf, original, StandardCharsets.UTF_8);
            await("original capabilities back", () -> !capabilities(imapPort).contains(NEW_CAPABILITY));
        }
    }

    // ------------------------------------------------------------------ etc/mail.conf in Config Admin

    private static final String MAIL_PID = "org.mailproxy.mail";
    private static final String SERVER_FACTORY_PID = "org.mailproxy.server";

    /**
     * etc/mail.conf as Config Admin holds it: the mail block's own directives in {@value #MAIL_PID},
     * each server block a factory configuration of {@value #SERVER_FACTORY_PID} named after its first
     * listen address, every directive a String[] of its occurrences with their file:line beside it.
     */
    @Test
    public void mailConfIsConfigAdminConfigurations() throws Exception {
        Path conf = Path.of(System.getProperty("mailproxy.conf")).toAbsolutePath();
        List<String> lines = Files.readAllLines(conf, StandardCharsets.UTF_8);

        Dictionary<String, Object> mail = configAdmin.getConfiguration(MAIL_PID, null).getProperties();
        assertNotNull(MAIL_PID + " has no properties", mail);
        assertArrayEquals(new String[] {"mail.test.example"}, (String[]) mail.get("server_name"));
        assertArrayEquals(new String[] {"127.0.0.1:" + port("auth_http") + "/auth"}, (String[]) mail.get("auth_http"));
        assertArrayEquals(new String[] {"IMAP4rev1 UIDPLUS IDLE LITERAL+ QUOTA"}, (String[]) mail.get("imap_capabilities"));
        assertArrayEquals(new String[] {"\"SIZE 10485760\" ENHANCEDSTATUSCODES 8BITMIME DSN"},
                (String[]) mail.get("smtp_capabilities"));
        assertArrayEquals(new String[] {"off"}, (String[]) mail.get("xclient"));
        assertArrayEquals(new String[] {conf + ":" + lineOf(lines, "xclient ")}, (String[]) mail.get("mailproxy.at.xclient"));
        assertEquals("mail.conf", mail.get("mailproxy.source"));
        assertEquals(conf + ":" + lineOf(lines, "mail {"), mail.get("mailproxy.block"));
        assertNull("server blocks are configurations of their own", mail.get("server"));

        Map<String, Dictionary<String, Object>> servers = fileServers();
        Map<String, String> protocols = Map.of("smtp", "smtp", "pop3", "pop3", "imap", "imap", "submission", "smtp");
        assertEquals("one configuration per server block: " + servers.keySet(), protocols.size(), servers.size());
        for (Map.Entry<String, String> entry : protocols.entrySet()) {
            String listen = "127.0.0.1:" + port(entry.getKey());
            String pid = SERVER_FACTORY_PID + "~127.0.0.1_" + port(entry.getKey());
            Dictionary<String, Object> server = servers.get(pid);
            assertNotNull("no configuration " + pid + " in " + servers.keySet(), server);
            assertEquals(SERVER_FACTORY_PID, server.get("service.factoryPid"));
            assertArrayEquals(new String[] {listen}, (String[]) server.get("listen"));
            assertArrayEquals(new String[] {entry.getValue()}, (String[]) server.get("protocol"));
            assertArrayEquals(new String[] {conf + ":" + lineOf(lines, "listen   " + listen + ";")},
                    (String[]) server.get("mailproxy.at.listen"));
        }
        assertArrayEquals(new String[] {"on"},
                (String[]) servers.get(SERVER_FACTORY_PID + "~127.0.0.1_" + port("pop3")).get("proxy_pass_error_message"));
        assertNull(servers.get(SERVER_FACTORY_PID + "~127.0.0.1_" + port("imap")).get("proxy_pass_error_message"));
    }

    /**
     * A server removed from etc/mail.conf loses its configuration; a server an operator created
     * in Config Admin directly (as config:edit does) is not the file's and stays, and keeps listening.
     */
    @Test
    public void mailConfEditDeletesItsRemovedServerButNotAnOperatorsServer() throws Exception {
        Path conf = Path.of(System.getProperty("mailproxy.conf"));
        String original = Files.readString(conf, StandardCharsets.UTF_8);
        int operatorPort = freePort();
        extra = configAdmin.getFactoryConfiguration(SERVER_FACTORY_PID, "itest-operator-" + System.nanoTime(), "?");
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("listen", "127.0.0.1:" + operatorPort);
        props.put("protocol", "imap");
        extra.update(props);
        await("the operator's server listens on " + operatorPort, () -> accepts(operatorPort));

        int filePort = freePort();
        String filePid = SERVER_FACTORY_PID + "~127.0.0.1_" + filePort;
        int end = original.lastIndexOf('}');
        try {
            Files.writeString(conf, original.substring(0, end) + "    server {\n        listen   127.0.0.1:" + filePort
                    + ";\n        protocol pop3;\n    }\n" + original.substring(end), StandardCharsets.UTF_8);
            await("configuration " + filePid + " written from mail.conf", () -> fileServers().containsKey(filePid));
            await("the file's new server listens on " + filePort, () -> accepts(filePort));
            assertArrayEquals(new String[] {"pop3"}, (String[]) fileServers().get(filePid).get("protocol"));

            Files.writeString(conf, original, StandardCharsets.UTF_8);
            await("configuration " + filePid + " deleted", () -> configAdmin.listConfigurations(
                    "(service.pid=" + filePid + ")") == null);
            await("the removed server's listener on " + filePort + " closed", () -> !accepts(filePort));

            Configuration[] operators = configAdmin.listConfigurations("(service.pid=" + extra.getPid() + ")");
            assertNotNull("the operator's configuration " + extra.getPid() + " was deleted by the file edit", operators);
            assertEquals("127.0.0.1:" + operatorPort, operators[0].getProperties().get("listen"));
            assertNull("not marked as the file's", operators[0].getProperties().get("mailproxy.source"));
            assertTrue("the operator's server still listens on " + operatorPort, accepts(operatorPort));
            assertEquals("the file's four servers are back", 4, fileServers().size());
        } finally {
            Files.writeString(conf, original, StandardCharsets.UTF_8);
        }
    }

    /** The server configurations written from etc/mail.conf, by PID. */
    private Map<String, Dictionary<String, Object>> fileServers() throws Exception {
        Map<String, Dictionary<String, Object>> servers = new java.util.TreeMap<>();
        Configuration[] configurations = configAdmin.listConfigurations(
                "(&(service.factoryPid=" + SERVER_FACTORY_PID + ")(mailproxy.source=mail.conf))");
        if (configurations != null) {
            for (Configuration c : configurations) {
                servers.put(c.getPid(), c.getProperties());
            }
        }
        return servers;
    }

    /** The 1-based number of the line of {@code lines} that contains {@code text}; fails unless exactly one does. */
    private static int lineOf(List<String> lines, String text) {
        int found = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                assertEquals("more than one line has " + text, 0, found);
                found = i + 1;
            }
        }
        assertTrue("no line has " + text, found > 0);
        return found;
    }

    /** The CAPABILITY line a new connection gets. */
    private static String capabilities(int port) throws IOException {
        try (LineClient c = ProxiedLogin.greeted("imap", port)) {
            return capability(c, "c0");
        }
    }

    private static String capability(LineClient c, String tag) throws IOException {
        c.send(tag + " CAPABILITY");
        List<String> lines = c.readUntil(tag + " ");
        return lines.stream().filter(l -> l.startsWith("* CAPABILITY")).findFirst()
                .orElseThrow(() -> new AssertionError("no CAPABILITY in " + lines));
    }

    /** The logs the core writes to (karaf.log, and mail.log of the test configuration's error_log), with their sizes now. */
    private static Map<Path, Long> logMarks() throws IOException {
        Path dir = Path.of(System.getProperty("karaf.data"), "log");
        Map<Path, Long> marks = new java.util.LinkedHashMap<>();
        for (Path log : List.of(dir.resolve("karaf.log"), dir.resolve("mail.log"))) {
            marks.put(log, Files.exists(log) ? Files.size(log) : 0L);
        }
        return marks;
    }

    private static String logSince(Map<Path, Long> marks) throws IOException {
        StringBuilder text = new StringBuilder();
        for (Map.Entry<Path, Long> mark : marks.entrySet()) {
            if (Files.exists(mark.getKey())) {
                byte[] bytes = Files.readAllBytes(mark.getKey());
                int from = (int) Math.min(mark.getValue(), bytes.length);
                text.append(new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8));
            }
        }
        return text.toString();
    }

    // ------------------------------------------------------------------ counters

    @Test
    public void authTimeoutsPerServerAndAuthHttpConnectionsInStatsAndJmx() throws Exception {
        int port = freePort();
        String name = "itest-auth-timeout";
        extra = configAdmin.getFactoryConfiguration("org.mailproxy.server", name, "?");
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("listen", "127.0.0.1:" + port);
        props.put("protocol", "imap");
        props.put("auth_http_timeout", "1s");
        extra.update(props);
        await("server " + name + " listens on " + port, () -> accepts(port));

        try (JMXConnector connector = connectJmx()) {
            MBeanServerConnection jmx = connector.getMBeanServerConnection();
            ObjectName server = new ObjectName("org.mailproxy:type=Server,name=" + name);
            ObjectName authHttp = new ObjectName("org.mailproxy:type=AuthHttp");
            await("the MBeans registered", () -> jmx.isRegistered(server) && jmx.isRegistered(authHttp));
            long timeoutsBefore = (Long) jmx.getAttribute(authHttp, "Timeouts");

            // the auth server answers after 4 s, auth_http_timeout is 1 s
            auth.enqueue(AuthHttpServer.Answer.ok(MailBackends.HOST, MailBackends.imapPort()).delay(Duration.ofSeconds(4)));
            try (LineClient c = ProxiedLogin.greeted("imap", port)) {
                long start = System.nanoTime();
                assertEquals("* BAD internal server error", c.command("a1 LOGIN alice alicepw"));
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertTrue("answered after " + millis + " ms, before the auth server", millis < 3500);
            }
            await("Server " + name + " AuthTimeouts = 1", () -> (Long) jmx.getAttribute(server, "AuthTimeouts") == 1L);
            assertEquals(timeoutsBefore + 1, (long) (Long) jmx.getAttribute(authHttp, "Timeouts"));
            String stats = executeCommand("mail:stats");
            System.out.println(stats);
            String[] row = row(stats, name);
            assertEquals("Auth timeouts column of " + name + " in:\n" + stats, "1", row[5]);
            assertEquals(0L, (long) (Long) jmx.getAttribute(
                    new ObjectName("org.mailproxy:type=Server,name=127.0.0.1_" + port("imap")), "AuthTimeouts"));

            // auth_http keep-alive: logins in a row, a later request on an earlier one's connection.
            // Kept connections belong to an I/O thread (one per processor): with one login more
            // than there are threads, two logins share a thread and so a connection.
            await("no authentication under way", () -> (Long) jmx.getAttribute(authHttp, "InFlight") == 0L);
            Map<String, Long> before = authHttpCounters(jmx, authHttp);
            int logins = Runtime.getRuntime().availableProcessors() + 1;
            for (int i = 0; i < logins; i++) {
                try (ProxiedLogin c = ProxiedLogin.login("imap", port("imap"), MailBackends.ALICE, MailBackends.ALICE_PASSWORD)) {
                    // relaying: both requests are answered
                }
            }
            Map<String, Long> after = authHttpCounters(jmx, authHttp);
            long requests = after.get("Requests") - before.get("Requests");
            long opened = after.get("NewConnections") - before.get("NewConnections");
            long reused = after.get("ReusedConnections") - before.get("ReusedConnections");
            long stale = after.get("StaleRetries") - before.get("StaleRetries");
            assertEquals(logins, requests);
            assertEquals("every request on a new or a kept connection", requests + stale, opened + reused);
            assertTrue("a kept-alive connection reused: " + before + " -> " + after, reused >= 1);
            String line = executeCommand("mail:stats").lines().filter(l -> l.startsWith("auth_http connections:"))
                    .findFirst().orElseThrow(() -> new AssertionError("no auth_http connections line"));
            assertTrue(line, line.contains("new " + after.get("NewConnections") + ", reused " + after.get("ReusedConnections")));
        }
    }

    private static Map<String, Long> authHttpCounters(MBeanServerConnection jmx, ObjectName authHttp) throws Exception {
        Map<String, Long> counters = new java.util.LinkedHashMap<>();
        for (String attribute : List.of("Requests", "NewConnections", "ReusedConnections", "StaleRetries", "IdleConnections")) {
            counters.put(attribute, (Long) jmx.getAttribute(authHttp, attribute));
        }
        return counters;
    }

    /** The cells of the table row that starts with {@code first}. */
    private static String[] row(String table, String first) {
        return table.lines().map(l -> l.replace('|', ' ').trim().split("\\s+"))
                .filter(cells -> cells[0].equals(first)).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + first + " in:\n" + table));
    }

    /** Karaf's JMX connector (RMI, karaf/karaf), at the registry port Karaf really uses; it may start after the tests. */
    private JMXConnector connectJmx() throws Exception {
        Object registryPort = configAdmin.getConfiguration("org.apache.karaf.management", null).getProperties()
                .get("rmiRegistryPort");
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + registryPort
                + "/karaf-" + System.getProperty("karaf.name", "root"));
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                return JMXConnectorFactory.connect(url, Map.of(JMXConnector.CREDENTIALS, new String[] {"karaf", "karaf"}));
            } catch (IOException e) {
                if (System.nanoTime() > end) {
                    throw new AssertionError("no JMX connector at " + url + " within 30 s", e);
                }
                Thread.sleep(500);
            }
        }
    }
}
