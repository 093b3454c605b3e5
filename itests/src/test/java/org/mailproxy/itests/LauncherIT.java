package org.mailproxy.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * {@code bin/mailproxy -t} of the built distribution, run as an operator runs it (outside Karaf):
 * nginx's words and exit codes, with the directive tables of every module bundle in the
 * distribution (found through ServiceLoader), so protocol directives are checked too.
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
