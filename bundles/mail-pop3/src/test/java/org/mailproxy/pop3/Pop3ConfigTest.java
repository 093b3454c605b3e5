package org.mailproxy.pop3;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mailproxy.core.config.ConfigBuilder;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.ConfigParser;
import org.mailproxy.core.config.Context;
import org.mailproxy.core.config.DirectiveRegistry;
import org.mailproxy.core.config.DirectiveSpec;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.spi.MailModule;

/** The pop3_* directives and the replies precomputed from them, as ngx_mail_pop3_merge_srv_conf builds them. */
class Pop3ConfigTest {

    static List<ServerConfig> servers(String conf, MailModule... more) throws ConfigException {
        DirectiveRegistry registry = DirectiveRegistry.withCoreModules();
        if (more.length > 0) {
            // the core's ssl module would want certificates for starttls: a stand-in declares it
            registry = new DirectiveRegistry();
            registry.add(new org.mailproxy.core.config.CoreModule());
            registry.add(new org.mailproxy.core.config.ProxyModule());
        }
        registry.add(new Pop3Protocol(null));
        for (MailModule m : more) {
            registry.add(m);
        }
        return ConfigBuilder.build(ConfigParser.parse(conf, "test.conf"), registry).servers();
    }

    static Pop3Config config(String mailLevel, String serverLevel) throws ConfigException {
        return Pop3Config.of(servers("mail { server_name mx.example; " + mailLevel
                + " server { listen 127.0.0.1:8110; protocol pop3; " + serverLevel + " } }").get(0));
    }

    private static String text(byte[] b) {
        return new String(b, UTF_8);
    }

    @Test
    void defaults() throws Exception {
        Pop3Config c = config("", "");
        assertEquals("+OK Capability list follows\r\nTOP\r\nUSER\r\nUIDL\r\nSASL PLAIN LOGIN\r\n.\r\n",
                text(c.capability(true)));
        assertEquals("+OK methods supported:\r\nPLAIN\r\nLOGIN\r\n.\r\n", text(c.authCapability()));
        assertFalse(c.salted());
        assertEquals(4096, c.clientBuffer());
        assertFalse(c.passErrorMessage());
        assertEquals(Pop3Config.Starttls.OFF, c.starttls());
        assertEquals("mx.example", c.serverName());
    }

    /*
     * APOP is no SASL mechanism, and it is left out of the SASL line and the AUTH list. nginx's
     * ngx_mail_pop3_merge_srv_conf writes ' ' and the name of each enabled method, APOP's name
     * being the null string: nginx sends "SASL PLAIN LOGIN  CRAM-MD5" (two spaces) and an empty
     * line in the AUTH list for the seed example, and "SASL " for apop alone. This difference is
     * deliberate (README, "Differences from nginx").
     */
    @Test
    void theSeedExample() throws Exception {
        Pop3Config c = config("pop3_auth plain apop cram-md5; pop3_capabilities LAST TOP USER PIPELINING UIDL;",
                "proxy_pass_error_message on;");
        assertEquals("+OK Capability list follows\r\nLAST\r\nTOP\r\nUSER\r\nPIPELINING\r\nUIDL\r\n"
                + "SASL PLAIN LOGIN CRAM-MD5\r\n.\r\n", text(c.capability(true)));
        assertEquals("+OK methods supported:\r\nPLAIN\r\nLOGIN\r\nCRAM-MD5\r\n.\r\n", text(c.authCapability()));
        assertTrue(c.salted());
        assertTrue(c.passErrorMessage());
    }

    @Test
    void everyMechanismInNginxOrder() throws Exception {
        Pop3Config c = config("", "pop3_auth oauthbearer xoauth2 external cram-md5 apop plain;");
        assertEquals("+OK methods supported:\r\nPLAIN\r\nLOGIN\r\nCRAM-MD5\r\nEXTERNAL\r\nXOAUTH2\r\nOAUTHBEARER\r\n.\r\n",
                text(c.authCapability()));
        assertTrue(text(c.capability(true)).contains("SASL PLAIN LOGIN CRAM-MD5 EXTERNAL XOAUTH2 OAUTHBEARER\r\n"));
    }

    @Test
    void apopOnlyHasAnEmptySaslLine() throws Exception {
        Pop3Config c = config("pop3_auth apop;", "");
        assertEquals("+OK Capability list follows\r\nTOP\r\nUSER\r\nUIDL\r\nSASL\r\n.\r\n", text(c.capability(true)));
        assertEquals("+OK methods supported:\r\n.\r\n", text(c.authCapability()));
        assertTrue(c.salted());
    }

    @Test
    void repeatedLinesAddUpAndServersInheritOrOverride() throws Exception {
        List<ServerConfig> servers = servers("mail { pop3_auth plain; pop3_auth apop; pop3_capabilities TOP;"
                + " pop3_capabilities UIDL; pop3_client_buffer 16k;"
                + " server { listen 127.0.0.1:8110; protocol pop3; }"
                + " server { listen 127.0.0.1:8111; protocol pop3; pop3_capabilities USER; pop3_auth external; } }");
        Pop3Config inherited = Pop3Config.of(servers.get(0));
        assertTrue(inherited.enabled(Pop3Config.Mechanism.APOP) && inherited.enabled(Pop3Config.Mechanism.LOGIN));
        assertEquals("+OK Capability list follows\r\nTOP\r\nUIDL\r\nSASL PLAIN LOGIN\r\n.\r\n",
                text(inherited.capability(true)));
        assertEquals(16384, inherited.clientBuffer());
        Pop3Config own = Pop3Config.of(servers.get(1));
        assertEquals("+OK Capability list follows\r\nUSER\r\nSASL EXTERNAL\r\n.\r\n", text(own.capability(true)));
        assertFalse(own.enabled(Pop3Config.Mechanism.PLAIN));
        assertEquals(16384, own.clientBuffer());
    }

    @Test
    void starttlsVariantsWhenTheSslModuleIsThere() throws Exception {
        MailModule ssl = new MailModule() {
            @Override
            public String name() {
                return "ssl";
            }

            @Override
            public List<DirectiveSpec> directives() {
                return List.of(DirectiveSpec.builder("starttls").context(Context.MAIL, Context.SERVER)
                        .oneOf("on", "off", "only").defaultValue("off").build());
            }
        };
        List<ServerConfig> servers = servers("mail { pop3_capabilities TOP USER UIDL;"
                + " server { listen 127.0.0.1:8110; protocol pop3; starttls on; }"
                + " server { listen 127.0.0.1:8111; protocol pop3; starttls only; }"
                + " server { listen 127.0.0.1:8112; protocol pop3; } }", ssl);
        Pop3Config on = Pop3Config.of(servers.get(0));
        assertEquals(Pop3Config.Starttls.ON, on.starttls());
        assertEquals("+OK Capability list follows\r\nTOP\r\nUSER\r\nUIDL\r\nSASL PLAIN LOGIN\r\nSTLS\r\n.\r\n",
                text(on.capability(true)));
        assertEquals("+OK Capability list follows\r\nTOP\r\nUSER\r\nUIDL\r\nSASL PLAIN LOGIN\r\n.\r\n",
                text(on.capability(false)), "after TLS, and in the USER state");
        Pop3Config only = Pop3Config.of(servers.get(1));
        assertEquals("+OK Capability list follows\r\nTOP\r\nUIDL\r\nSTLS\r\n.\r\n", text(only.capability(true)),
                "starttls only: no USER, no SASL");
        assertEquals(Pop3Config.Starttls.OFF, Pop3Config.of(servers.get(2)).starttls());
    }

    @Test
    void badValuesAreRejectedWithNginxWords() {
        ConfigException e = assertThrows(ConfigException.class, () -> config("pop3_auth plain login;", ""));
        assertTrue(e.getMessage().startsWith("invalid value \"login\""), e.getMessage());
        e = assertThrows(ConfigException.class, () -> config("pop3_client_buffer 0;", ""));
        assertTrue(e.getMessage().startsWith("\"pop3_client_buffer\" directive invalid value"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> config("pop3_capabilities;", ""));
        assertTrue(e.getMessage().startsWith("invalid number of arguments in \"pop3_capabilities\" directive"),
                e.getMessage());
    }

    @Test
    void validatePrecomputesEachPop3Server() throws Exception {
        Pop3Protocol protocol = new Pop3Protocol(null);
        ServerConfig server = servers("mail { server { listen 127.0.0.1:8110; protocol pop3; } }").get(0);
        protocol.validate(server);
        assertSame(protocol.config(server), protocol.config(server));
        assertEquals("pop3", protocol.name());
        assertEquals(List.of(110, 995), java.util.Arrays.stream(protocol.defaultPorts()).boxed().toList());
    }
}
