package org.mailproxy.core.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Hashtable;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mailproxy.core.config.ConfigBuilder;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.ConfigParser;
import org.mailproxy.core.config.Directive;
import org.mailproxy.core.config.DirectiveRegistry;
import org.mailproxy.core.config.MailConfiguration;

/** A block survives the trip through Config Admin properties: values, quoting, order and file:line. */
class BlockPropertiesTest {

    private static final String CONF = """
            mail {
                server_name mail.example.com;
                smtp_capabilities "SIZE 10485760" 'ENHANCED STATUS' 8BITMIME;
                server {
                    listen 127.0.0.1:1025;
                    listen [::1]:1025 bind;
                    protocol smtp;
                    timeout 1h30m;
                }
            }
            """;

    @Test
    void serverBlockRoundTripsWithItsPositions() throws ConfigException {
        Directive mail = ConfigParser.parse(CONF, "/etc/mail.conf").get(0);
        Directive server = mail.block().get(2);
        Hashtable<String, Object> props = BlockProperties.toProperties(server.block(), "mail.conf",
                server.file(), server.line());

        assertArrayEquals(new String[] {"127.0.0.1:1025", "[::1]:1025 bind"}, (String[]) props.get("listen"));
        assertArrayEquals(new String[] {"/etc/mail.conf:5", "/etc/mail.conf:6"}, (String[]) props.get("mailproxy.at.listen"));
        assertEquals("mail.conf", props.get(BlockProperties.SOURCE));
        assertEquals("/etc/mail.conf:4", props.get(BlockProperties.BLOCK_AT));

        List<Directive> back = BlockProperties.toDirectives(props, "pid");
        assertEquals(List.of("listen", "listen", "protocol", "timeout"), back.stream().map(Directive::name).toList());
        assertEquals(List.of("[::1]:1025", "bind"), back.get(1).args());
        assertEquals(6, back.get(1).line());
        assertEquals("/etc/mail.conf", back.get(1).file());
        assertEquals(List.of("1h30m"), back.get(3).args());
        assertEquals(8, back.get(3).line());
    }

    @Test
    void quotedArgumentsKeepTheirSpaces() throws ConfigException {
        Directive mail = ConfigParser.parse(CONF, "/etc/mail.conf").get(0);
        Hashtable<String, Object> props = BlockProperties.toProperties(List.of(mail.block().get(1)), "mail.conf",
                mail.file(), mail.line());
        List<Directive> back = BlockProperties.toDirectives(props, "pid");
        assertEquals(List.of("SIZE 10485760", "ENHANCED STATUS", "8BITMIME"), back.get(0).args());
    }

    @Test
    void operatorPropertiesWithoutPositionsNameTheirConfiguration() throws ConfigException {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("listen", "2525");
        props.put("protocol", "smtp");
        props.put("service.pid", "org.mailproxy.server~extra");
        props.put("service.factoryPid", "org.mailproxy.server");
        props.put("felix.fileinstall.filename", "file:/opt/etc/org.mailproxy.server-extra.cfg");
        List<Directive> back = BlockProperties.toDirectives(props, "org.mailproxy.server~extra");
        assertEquals(2, back.size());
        assertEquals("org.mailproxy.server~extra", back.get(0).file());
        assertEquals(0, back.get(0).line());
    }

    @Test
    void frameworkAndProjectPropertiesAreNotDirectives() {
        assertFalse(BlockProperties.isDirective("service.pid"));
        assertFalse(BlockProperties.isDirective("felix.fileinstall.filename"));
        assertFalse(BlockProperties.isDirective("mailproxy.at.listen"));
        assertFalse(BlockProperties.isDirective("component.name"));
        assertTrue(BlockProperties.isDirective("listen"));
    }

    @Test
    void anInvalidValueFromConfigAdminIsReportedWithItsOriginalLine() throws ConfigException {
        Directive mail = ConfigParser.parse(CONF, "/etc/mail.conf").get(0);
        Directive server = mail.block().get(2);
        Hashtable<String, Object> props = BlockProperties.toProperties(server.block(), "mail.conf",
                server.file(), server.line());
        props.put("timeout", new String[] {"soon"});
        List<Directive> body = BlockProperties.toDirectives(props, "pid");
        Directive rebuilt = new Directive("mail", List.of(), List.of(new Directive("server", List.of(), body,
                server.file(), server.line())), "/etc/mail.conf", 1);
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> ConfigBuilder.build(List.of(rebuilt), DirectiveRegistry.withCoreModules()));
        assertEquals("\"timeout\" directive invalid value in /etc/mail.conf:8", e.getMessage());
    }

    @Test
    void serverNamesComeFromTheFirstListen() throws ConfigException {
        Directive mail = ConfigParser.parse(CONF, "/etc/mail.conf").get(0);
        assertEquals("127.0.0.1_1025", ConfFileSource.serverName(mail.block().get(2), 0));
        MailConfiguration config = ConfigBuilder.build(List.of(mail), DirectiveRegistry.withCoreModules());
        assertEquals("smtp 127.0.0.1:1025", MailRuntime.describe(config.servers().get(0)));
    }

    @Test
    void mainContextErrorLogsTravelInTheMailConfiguration() throws Exception {
        java.util.List<org.mailproxy.core.config.Directive> main = org.mailproxy.core.config.ConfigParser.parse(
                "error_log main.log info;\nerror_log stderr format=json 'filter=tag:srv 1';\n", "/etc/mail.conf");
        java.util.Hashtable<String, Object> props = BlockProperties.toProperties(java.util.List.of(), "file",
                "/etc/mail.conf", 3);
        BlockProperties.putMain(props, main);
        java.util.List<org.mailproxy.core.config.Directive> back = BlockProperties.mainDirectives(props, "pid");
        org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of(java.util.List.of("main.log", "info"),
                java.util.List.of("stderr", "format=json", "filter=tag:srv 1")),
                back.stream().map(org.mailproxy.core.config.Directive::args).toList());
        org.junit.jupiter.api.Assertions.assertEquals(2, back.get(1).line());
        org.junit.jupiter.api.Assertions.assertTrue(BlockProperties.toDirectives(props, "pid").isEmpty(),
                "not directives of the mail block");
    }
}
