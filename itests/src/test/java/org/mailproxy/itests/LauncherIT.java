package org.mailproxy.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.mailproxy.itests.MailProxyTestSupport.accepts;
import static org.mailproxy.itests.MailProxyTestSupport.awaitTrue;
import static org.mailproxy.itests.MailProxyTestSupport.freePort;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.mailproxy.itests.fixtures.LineClient;

/**
 * {@code bin/mailproxy} of the built distribution, run as an operator runs it: {@code -t} (outside
 * Karaf) with nginx's words and exit codes, with the directive tables of every module bundle in the
 * distribution (found through ServiceLoader), so protocol directives are checked too; and the start
 * mode, which runs Karaf in the foreground until SIGTERM.
 */
public class LauncherIT {

    private static final Path DISTRO = Path.of(System.getProperty("mailproxy.assembly",
            "../karaf-distro/target/assembly"));

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void defaultConfigurationPassesTheTest() throws Exception {
        Path conf = DISTRO.resolve("etc/mail.conf").toAbsolutePath();
        Result r = run("-t", "-c", conf.toString());
        assertEquals(r.output, 0, r.status);
        assertTrue(r.output, r.output.contains("mailproxy: the configuration file " + conf + " syntax is ok"));
        assertTrue(r.output, r.output.contains("mailproxy: configuration file " + conf + " test is successful"));
    }

    @Test
    public void aProtocolDirectiveErrorNamesFileAndLineAndFails() throws Exception {
        File conf = tmp.newFile("mail.conf");
        Files.writeString(conf.toPath(), """
                mail {
                    auth_http 127.0.0.1:9000/auth;
                    imap_auth plain bogus;
                    server { listen 127.0.0.1:1143; protocol imap; }
                }
                """, StandardCharsets.UTF_8);
        Result r = run("-t", "-c", conf.getPath());
        assertEquals(r.output, 1, r.status);
        assertTrue(r.output, r.output.contains("mailproxy: [emerg] invalid value \"bogus\" in " + conf.getPath() + ":3"));
        assertTrue(r.output, r.output.contains("mailproxy: configuration file " + conf.getPath() + " test failed"));
    }

    @Test
    public void aServerWithoutAuthHttpIsRefusedAsNginxRefusesIt() throws Exception {
        File conf = tmp.newFile("noauth.conf");
        Files.writeString(conf.toPath(), "mail {\n    server {\n        listen 127.0.0.1:1110;\n        protocol pop3;\n    }\n}\n",
                StandardCharsets.UTF_8);
        Result r = run("-t", "-c", conf.getPath());
        assertEquals(r.output, 1, r.status);
        assertTrue(r.output, r.output.contains("no \"auth_http\" is defined for server in " + conf.getPath() + ":"));
    }

    @Test
    public void aListenTheProxyWouldRefuseFailsTheTest() throws Exception {
        File conf = tmp.newFile("unix.conf");
        Files.writeString(conf.toPath(), """
                mail {
                    auth_http 127.0.0.1:9000/auth;
                    server {
                        listen unix:/tmp/mailproxy-imap.sock;
                        protocol imap;
                    }
                }
                """, StandardCharsets.UTF_8);
        Result r = run("-t", "-c", conf.getPath());
        assertEquals(r.output, 1, r.status);
        assertTrue(r.output, r.output.contains("mailproxy: [emerg] unix domain sockets are not supported: "
                + "\"listen unix:/tmp/mailproxy-imap.sock\" (Apache MINA has no unix-socket acceptor) in "
                + conf.getPath() + ":4"));
        assertTrue(r.output, r.output.contains("mailproxy: configuration file " + conf.getPath() + " test failed"));
    }

    /** nginx: {@code nginx: [emerg] open() "/x.conf" failed (2: No such file or directory)}, exit status 1. */
    @Test
    public void startingWithAMissingFileFailsInNginxWords() throws Exception {
        Path missing = tmp.getRoot().toPath().resolve("none.conf");
        Result r = run("-c", missing.toString());
        assertEquals(r.output, 1, r.status);
        assertEquals("mailproxy: [emerg] open() \"" + missing + "\" failed (2: No such file or directory)\n", r.output);
    }

    @Test
    public void startingWithADirectoryFailsInNginxWords() throws Exception {
        Path dir = tmp.newFolder("conf.d").toPath();
        Result r = run("-c", dir.toString());
        assertEquals(r.output, 1, r.status);
        assertEquals("mailproxy: [crit] pread() \"" + dir + "\" failed (21: Is a directory)\n", r.output);
    }

    /**
     * The start mode on a private copy of the distribution (its own data/ and Karaf ports, so no
     * other Karaf on the machine is disturbed) with the default etc/mail.conf, its ports replaced
     * by free ones: the listeners come up, IMAP greets, and SIGTERM ends the process.
     */
    @Test
    public void startsKarafInTheForegroundWithTheDefaultConfigurationAndStopsOnSigterm() throws Exception {
        Path home = tmp.newFolder("distro").toPath();
        copyDistribution(home);
        List<Integer> ports = new ArrayList<>();
        Path conf = tmp.getRoot().toPath().resolve("mail.conf");
        Files.writeString(conf, withFreeListenPorts(Files.readString(DISTRO.resolve("etc/mail.conf")), ports));
        assertEquals("the default configuration listens on smtp, pop3, imap and submission", 4, ports.size());
        int imap = ports.get(2);
        Path console = tmp.getRoot().toPath().resolve("console.log");

        Process karaf = new ProcessBuilder(home.resolve("bin/mailproxy").toString(), "-c", conf.toString())
                .redirectErrorStream(true).redirectOutput(console.toFile()).start();
        try {
            awaitTrue("the ports of " + conf + " accept connections: " + ports, Duration.ofMinutes(3),
                    () -> !karaf.isAlive() || ports.stream().allMatch(MailProxyTestSupport::accepts));
            assertTrue("bin/mailproxy ended: " + Files.readString(console), karaf.isAlive());
            try (LineClient client = new LineClient(imap)) {
                String greeting = client.readLine();
                assertTrue(greeting, greeting.startsWith("* OK"));
            }

            karaf.destroy(); // SIGTERM, as a supervisor stops it
            assertTrue("bin/mailproxy did not end on SIGTERM", karaf.waitFor(90, TimeUnit.SECONDS));
            assertFalse("the imap port still accepts after the process ended", accepts(imap));
        } finally {
            karaf.destroyForcibly();
            karaf.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** {@code cp -a} of the unpacked distribution, with free ports for ssh and JMX. */
    private static void copyDistribution(Path home) throws IOException, InterruptedException {
        Process cp = new ProcessBuilder("cp", "-a", DISTRO.toAbsolutePath() + "/.", home.toString())
                .redirectErrorStream(true).start();
        String out = new String(cp.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(out, cp.waitFor(60, TimeUnit.SECONDS) && cp.exitValue() == 0);
        replacePorts(home.resolve("etc/org.apache.karaf.shell.cfg"), "sshPort");
        replacePorts(home.resolve("etc/org.apache.karaf.management.cfg"), "rmiRegistryPort", "rmiServerPort", "jmxmpPort");
    }

    private static void replacePorts(Path cfg, String... keys) throws IOException {
        String text = Files.readString(cfg);
        for (String key : keys) {
            Matcher m = Pattern.compile("(?m)^(\\s*" + key + "\\s*=\\s*)\\d+\\s*$").matcher(text);
            assertTrue(key + " in " + cfg, m.find());
            text = m.replaceFirst("$1" + freePort());
        }
        Files.writeString(cfg, text);
    }

    /** The configuration with the port of every {@code listen host:port} replaced by a free one, in order. */
    private static String withFreeListenPorts(String conf, List<Integer> ports) throws IOException {
        Matcher m = Pattern.compile("(listen\\s+[^\\s;]+:)(\\d+)").matcher(conf);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            int port = freePort();
            ports.add(port);
            m.appendReplacement(out, m.group(1) + port);
        }
        m.appendTail(out);
        return out.toString();
    }

    @Test
    public void versionIsPrinted() throws Exception {
        Result r = run("-v");
        assertEquals(r.output, 0, r.status);
        assertTrue(r.output, r.output.startsWith("mailproxy version: "));
    }

    private record Result(int status, String output) {
    }

    private static Result run(String... args) throws IOException, InterruptedException {
        String[] command = new String[args.length + 1];
        command[0] = DISTRO.resolve("bin/mailproxy").toAbsolutePath().toString();
        System.arraycopy(args, 0, command, 1, args.length);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("bin/mailproxy " + String.join(" ", args) + " did not finish");
        }
        return new Result(p.exitValue(), out);
    }
}
