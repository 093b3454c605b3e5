package org.mailproxy.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
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
import org.osgi.framework.Bundle;

/**
 * Issue 8 in a real Karaf: the mail:* console commands, the JMX MBeans read through Karaf's
 * real JMX connector (RMI, karaf/karaf), the session log file, and mail:servers following the
 * IMAP bundle being stopped and started. Logins go through the proxy to the real Dovecot of
 * {@link MailBackends}, authorised by the {@link AuthHttpServer} fixture.
 */
public class ManagementIT extends MailProxyTestSupport {

    private static final String IMAP_BUNDLE = "org.mailproxy.imap";
    private static final String SHELL_BUNDLE = "org.mailproxy.shell";

    @javax.inject.Inject
    private org.osgi.service.cm.ConfigurationAdmin configAdmin;

    private AuthHttpServer auth;

    @Before
    public void setUp() throws Exception {
        awaitBundleState(IMAP_BUNDLE, Bundle.ACTIVE, DEFAULT_TIMEOUT);
        awaitBundleState(SHELL_BUNDLE, Bundle.ACTIVE, DEFAULT_TIMEOUT);
        auth = AuthHttpServer.start(port("auth_http"));
        await("imap server active", () -> executeCommand("mail:servers").contains("active"));
    }

    @After
    public void tearDown() {
        if (auth != null) {
            auth.close();
        }
    }

    private String imapServer() {
        return "127.0.0.1_" + port("imap");
    }

    /** Logs alice in through the proxy; the session then relays to Dovecot. */
    private LineClient loginAlice() throws IOException {
        LineClient c = new LineClient(port("imap"));
        assertTrue(c.readLine().startsWith("* OK"));
        String ok = c.command("a1 LOGIN " + MailBackends.ALICE + " " + MailBackends.ALICE_PASSWORD);
        assertTrue(ok, ok.startsWith("a1 OK") && ok.contains("Logged in"));
        return c;
    }

    @Test
    public void consoleCommandsShowALiveSessionAndKillIt() throws Exception {
        try (LineClient c = loginAlice()) {
            String servers = executeCommand("mail:servers");
            System.out.println(servers);
            assertLine(servers, imapServer(), "imap", "127.0.0.1:" + port("imap"), "active");

            String sessions = executeCommand("mail:sessions --user alice");
            System.out.println(sessions);
            String line = assertLine(sessions, imapServer(), "imap", "alice", "relay",
                    "127.0.0.1:" + MailBackends.imapPort());
            assertFalse(executeCommand("mail:sessions --protocol pop3").contains("alice"));
            assertTrue(executeCommand("mail:sessions --server " + imapServer()).contains("alice"));
            assertFalse(executeCommand("mail:sessions --user bob").contains("alice"));

            String stats = executeCommand("mail:stats");
            System.out.println(stats);
            assertLine(stats, imapServer());
            assertTrue(stats, stats.contains("auth_http: requests"));
            assertTrue(stats, stats.contains("latency mean"));

            String config = executeCommand("mail:config " + imapServer());
            System.out.println(config);
            assertLine(config, "imap_capabilities", "IMAP4rev1 UIDPLUS IDLE LITERAL+ QUOTA", "mail ");
            assertLine(config, "protocol", "imap", "server ");
            assertLine(config, "proxy_timeout", "default");

            String check = executeCommand("mail:check");
            assertTrue(check, check.contains("test is successful"));
            String reload = executeCommand("mail:reload");
            assertTrue(reload, reload.contains("loaded"));

            long id = Long.parseLong(line.trim().split("\\s+")[0]);
            String kill = executeCommand("mail:kill " + id);
            assertTrue(kill, kill.contains("session " + id + " closed"));
            assertClosed(c);
            await("session gone", () -> !executeCommand("mail:sessions").contains("alice"));
        }
        Path log = Paths.get(System.getProperty("karaf.log", "data/log"), "mail-sessions.log");
        await("a session log line for alice in " + log, () -> read(log).contains("user=alice"));
        String entry = read(log).lines().filter(l -> l.contains("user=alice") && l.contains("ended=killed"))
                .findFirst().orElseThrow(() -> new AssertionError(read(log)));
        System.out.println(entry);
        assertTrue(entry, entry.matches("^\\d{4}-\\d\\d-\\d\\dT\\S+ id=\\d+ server=\"imap 127\\.0\\.0\\.1:" + port("imap")
                + "\" protocol=imap client=127\\.0\\.0\\.1:\\d+ user=alice backend=127\\.0\\.0\\.1:" + MailBackends.imapPort()
                + " from_client=\\d+ from_backend=[1-9]\\d* duration=\\d+\\.\\d{3} ended=killed$"));
        assertFalse("no password in the session log", read(log).contains(MailBackends.ALICE_PASSWORD));
    }

    @Test
    public void mbeansThroughKarafsJmxConnector() throws Exception {
        // The registry port as Karaf uses it: etc/org.apache.karaf.management.cfg can differ from
        // port("rmi_registry") (seen in suite runs; cause not found yet).
        Object registryPort = configAdmin.getConfiguration("org.apache.karaf.management", null).getProperties()
                .get("rmiRegistryPort");
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + registryPort
                + "/karaf-" + System.getProperty("karaf.name", "root"));
        try (LineClient c = loginAlice(); JMXConnector connector = connect(url)) {
            MBeanServerConnection jmx = connector.getMBeanServerConnection();
            ObjectName proxy = new ObjectName("org.mailproxy:type=Proxy");
            ObjectName server = new ObjectName("org.mailproxy:type=Server,name=" + imapServer());
            ObjectName imap = new ObjectName("org.mailproxy:type=Protocol,name=imap");
            ObjectName authHttp = new ObjectName("org.mailproxy:type=AuthHttp");
            await("the MBeans registered", () -> jmx.isRegistered(proxy) && jmx.isRegistered(server)
                    && jmx.isRegistered(imap) && jmx.isRegistered(authHttp));
            assertTrue((Long) jmx.getAttribute(proxy, "CurrentSessions") >= 1);
            assertEquals(Boolean.TRUE, jmx.getAttribute(server, "Active"));
            assertEquals("imap", jmx.getAttribute(server, "Protocol"));
            assertTrue((Long) jmx.getAttribute(server, "CurrentConnections") >= 1);
            assertTrue((Long) jmx.getAttribute(server, "AuthOk") >= 1);
            assertTrue((Long) jmx.getAttribute(imap, "TotalConnections") >= 1);
            assertTrue((Long) jmx.getAttribute(authHttp, "Ok") >= 1);
            assertTrue((Long) jmx.getAttribute(authHttp, "LatencyMaxMicros") > 0);
            String description = jmx.getMBeanInfo(server).getAttributes()[0].getDescription();
            assertFalse(description.isEmpty());
            String check = (String) jmx.invoke(proxy, "check", new Object[] {""}, new String[] {String.class.getName()});
            assertTrue(check, check.contains("test is successful"));
            String[] sessions = (String[]) jmx.getAttribute(proxy, "Sessions");
            String mine = java.util.Arrays.stream(sessions).filter(s -> s.contains(" alice relay "))
                    .findFirst().orElseThrow(() -> new AssertionError(String.join("\n", sessions)));
            long id = Long.parseLong(mine.split(" ")[0]);
            assertEquals(Boolean.TRUE, jmx.invoke(proxy, "killSession", new Object[] {id}, new String[] {"long"}));
            assertClosed(c);
        }
    }

    @Test
    public void stoppingTheImapBundleMakesItsServerInactive() throws Exception {
        Bundle imap = bundle(IMAP_BUNDLE);
        imap.stop();
        try {
            await("imap server inactive", () -> {
                String out = executeCommand("mail:servers");
                return lineWith(out, imapServer()).contains("inactive: protocol module \"imap\" is not active");
            });
            System.out.println(executeCommand("mail:servers"));
            assertLine(executeCommand("mail:servers"), "127.0.0.1_" + port("pop3"), "pop3", "active");
        } finally {
            imap.start();
        }
        await("imap server active again", () -> {
            String line = lineWith(executeCommand("mail:servers"), imapServer());
            return line.contains("active") && !line.contains("inactive");
        });
        try (LineClient c = loginAlice()) {
            c.command("a2 LOGOUT");
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Karaf's JMX connector server starts with the management bundle, possibly after the tests: retry. */
    private static JMXConnector connect(JMXServiceURL url) throws Exception {
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

    private static void assertClosed(LineClient c) throws Exception {
        c.socket().setSoTimeout(10_000);
        try {
            while (true) {
                c.readLine();
            }
        } catch (EOFException | SocketException e) {
            // closed by the proxy
        }
    }

    private static String lineWith(String output, String text) {
        return output.lines().filter(l -> l.contains(text)).findFirst().orElse("");
    }

    /** The first line holding every text; fails when none does. */
    /**
     * The ssh console of the distribution (boot feature ssh; MailProxyTestSupport moves sshPort to
     * a free port), logged into with a real SSH client as the distribution's user karaf/karaf:
     * mail:servers lists every server of etc/mail.conf as active, and a wrong password is refused.
     */
    @Test
    public void sshConsoleListsTheConfiguredServers() throws Exception {
        String servers = sshCommand("karaf", "karaf", "mail:servers");
        System.out.println(servers);
        Map<String, String> protocols = Map.of("smtp", "smtp", "pop3", "pop3", "imap", "imap", "submission", "smtp");
        for (Map.Entry<String, String> server : protocols.entrySet()) {
            int port = port(server.getKey());
            assertLine(servers, "127.0.0.1_" + port, server.getValue(), "127.0.0.1:" + port, "active");
        }
        try {
            sshCommand("karaf", "not-the-password", "mail:servers");
            fail("ssh login with a wrong password succeeded");
        } catch (org.apache.sshd.common.SshException refused) {
            // authentication failed
        }
    }

    /** Runs {@code command} in Karaf's ssh console (an exec channel) and returns its output. */
    private String sshCommand(String user, String password, String command) throws Exception {
        org.apache.sshd.client.SshClient client = org.apache.sshd.client.SshClient.setUpDefaultClient();
        client.setServerKeyVerifier(org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier.INSTANCE);
        client.start();
        try {
            org.apache.sshd.client.session.ClientSession session = connectSsh(client, user);
            try {
                session.addPasswordIdentity(password);
                session.auth().verify(DEFAULT_TIMEOUT);
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                try (org.apache.sshd.client.channel.ChannelExec exec = session.createExecChannel(command)) {
                    exec.setOut(out);
                    exec.setErr(out);
                    exec.open().verify(DEFAULT_TIMEOUT);
                    exec.waitFor(java.util.EnumSet.of(org.apache.sshd.client.channel.ClientChannelEvent.CLOSED),
                            DEFAULT_TIMEOUT);
                }
                return out.toString(StandardCharsets.UTF_8);
            } finally {
                session.close();
            }
        } finally {
            client.stop();
        }
    }

    /** A session to Karaf's sshd at 127.0.0.1, which may start a little after the tests. */
    private org.apache.sshd.client.session.ClientSession connectSsh(org.apache.sshd.client.SshClient client, String user)
            throws Exception {
        long end = System.nanoTime() + DEFAULT_TIMEOUT.toNanos();
        while (true) {
            try {
                return client.connect(user, "127.0.0.1", port("ssh")).verify(DEFAULT_TIMEOUT).getSession();
            } catch (IOException e) {
                if (System.nanoTime() > end) {
                    throw new AssertionError("no ssh server on 127.0.0.1:" + port("ssh"), e);
                }
                Thread.sleep(500);
            }
        }
    }

    private static String assertLine(String output, String... texts) {
        for (String line : output.split("\n")) {
            boolean all = true;
            for (String t : texts) {
                all &= line.contains(t);
            }
            if (all) {
                return line;
            }
        }
        fail("no line with " + String.join(", ", texts) + " in:\n" + output);
        return null;
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static void await(String what, Callable<Boolean> condition) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.call()) {
            if (System.nanoTime() > end) {
                fail(what + ": not within 20 s");
            }
            Thread.sleep(200);
        }
    }
}
