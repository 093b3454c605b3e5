package org.mailproxy.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigCheckTest {

    @TempDir
    Path dir;

    @Test
    void successPrintsNginxWordsAfterTheNotes() {
        Path f = TestFiles.write(dir, "mail.conf", "events {}\nmail { server { listen 25; } }\n");
        ConfigCheck.Result r = ConfigCheck.run("-t", "-c", f.toString());
        assertEquals(0, r.status());
        assertEquals(List.of(
                "mailproxy: [info] \"events\" directive is outside of \"mail\", ignored in " + f + ":1",
                "mailproxy: the configuration file " + f + " syntax is ok",
                "mailproxy: configuration file " + f + " test is successful"), r.lines());
    }

    @Test
    void failurePrintsTheErrorAndExitsWithOne() {
        Path f = TestFiles.write(dir, "mail.conf", "mail {\n    foo;\n}\n");
        ConfigCheck.Result r = ConfigCheck.run("-t", "-c", f.toString());
        assertEquals(1, r.status());
        assertEquals(List.of(
                "mailproxy: [emerg] unknown directive \"foo\" in " + f + ":2",
                "mailproxy: configuration file " + f + " test failed"), r.lines());
    }

    @Test
    void aListenTheProxyWouldRefuseFailsTheCheck() {
        Path f = TestFiles.write(dir, "mail.conf", "mail {\n    server {\n        listen 25;\n        listen unix:/x;\n    }\n}\n");
        ConfigCheck.Result r = ConfigCheck.run("-t", "-c", f.toString());
        assertEquals(1, r.status());
        assertEquals(List.of(
                "mailproxy: [emerg] unix domain sockets are not supported: \"listen unix:/x\" "
                        + "(Apache MINA has no unix-socket acceptor) in " + f + ":4",
                "mailproxy: configuration file " + f + " test failed"), r.lines());
    }

    @Test
    void socketParametersThatCannotBeHonouredFailTheCheckAtTheirLine() {
        Path f = TestFiles.write(dir, "mail.conf", "mail {\n    server {\n        listen [::]:143;\n"
                + "        listen 127.0.0.1:143 rcvbuf=64k;\n    }\n}\n");
        ConfigCheck.Result r = ConfigCheck.run("-t", "-c", f.toString());
        assertEquals(1, r.status());
        assertEquals(List.of(
                "mailproxy: [emerg] the \"rcvbuf=\" parameter of \"listen 127.0.0.1:143\" cannot be honoured: "
                        + "\"listen [::]:143\" is one dual-stack socket that also serves IPv4 on port 143 "
                        + "(Java has no IPV6_V6ONLY), so an IPv4 listen of that port cannot have a socket or socket "
                        + "options of its own in " + f + ":4",
                "mailproxy: configuration file " + f + " test failed"), r.lines());
    }

    @Test
    void missingFile() {
        Path f = dir.resolve("none.conf");
        ConfigCheck.Result r = ConfigCheck.run("-t", "-c", f.toString());
        assertEquals(1, r.status());
        assertEquals("mailproxy: [emerg] open() \"" + f + "\" failed (2: No such file or directory)", r.lines().get(0));
    }

    @Test
    void quietPrintsOnlyErrors() {
        Path f = TestFiles.write(dir, "mail.conf", TestFiles.SEED);
        assertEquals(new ConfigCheck.Result(0, List.of()), ConfigCheck.run("-q", "-t", "-c", f.toString()));
        ConfigCheck.Result loud = ConfigCheck.run("-t", "-c", f.toString());
        assertEquals(0, loud.status());
        assertEquals(10, loud.lines().size(), loud.lines().toString());
    }

    @Test
    void options() {
        assertEquals(new ConfigCheck.Result(1, List.of("mailproxy: invalid option: \"-x\"")), ConfigCheck.run("-x"));
        assertEquals(new ConfigCheck.Result(1, List.of("mailproxy: option \"-c\" requires file name")),
                ConfigCheck.run("-t", "-c"));
        ConfigCheck.Result help = ConfigCheck.run("-h");
        assertEquals(0, help.status());
        assertTrue(help.lines().get(0).startsWith("Usage:"));
    }

    @Test
    void modulesComeFromTheServiceLoader() {
        DirectiveRegistry registry = ConfigCheck.discover(getClass().getClassLoader());
        List<String> names = registry.modules().stream().map(m -> m.name()).toList();
        assertTrue(names.containsAll(List.of("core", "proxy")), names.toString());
        assertTrue(registry.find("xclient").isPresent());
    }
}
