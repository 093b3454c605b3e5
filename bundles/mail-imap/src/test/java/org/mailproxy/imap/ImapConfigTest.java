package org.mailproxy.imap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
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

/** The imap_* directives and the replies precomputed from them. */
class ImapConfigTest {

    /** Stands in for the TLS module's {@code starttls} directive, which is not this bundle's. */
    private static final MailModule SSL = new MailModule() {
        @Override
        public String name() {
            return "ssl";
        }

        @Override
        public List<DirectiveSpec> directives() {
            return List.of(DirectiveSpec.builder("starttls").context(Context.MAIL, Context.SERVER)
                    .oneOf("off", "on", "only").defaultValue("off").build());
        }
    };

    static ServerConfig server(String mailBlock, MailModule... more) throws ConfigException {
        DirectiveRegistry registry = DirectiveRegistry.withCoreModules();
        if (more.length > 0) {
            // the core's ssl module would want certificates for starttls: a stand-in declares it
            registry = new DirectiveRegistry();
            registry.add(new org.mailproxy.core.config.CoreModule());
            registry.add(new org.mailproxy.core.config.ProxyModule());
        }
        registry.add(new ImapProtocol());
        for (MailModule m : more) {
            registry.add(m);
        }
        return ConfigBuilder.build(ConfigParser.parse("mail {\n" + mailBlock + "\n}\n", "test.conf"), registry)
                .servers().get(0);
    }

    private static String capability(ServerConfig server, boolean tls) {
        return new String(ImapSettings.of(server).capability(tls), StandardCharsets.UTF_8);
    }

    private static String error(String mailBlock) {
        return assertThrows(ConfigException.class, () -> server(mailBlock)).getMessage();
    }

    @Test
    void defaultsAreNginxs() throws Exception {
        ServerConfig s = server("server { listen 127.0.0.1:1143; protocol imap; }");
        assertEquals(List.of("plain"), s.get("imap_auth"));
        assertEquals(List.of("IMAP4", "IMAP4rev1", "UIDPLUS"), s.get("imap_capabilities"));
        assertEquals(4096L, s.size("imap_client_buffer"));
        assertNull(s.get("imap_id"));
        assertEquals("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN\r\n", capability(s, false));
        assertEquals("* ID NIL\r\n", new String(ImapSettings.of(s).idReply(), StandardCharsets.US_ASCII));
        assertEquals(4096, ImapSettings.of(s).clientBuffer());
    }

    @Test
    void authMethodsInNginxOrderWhateverTheWrittenOrder() throws Exception {
        ServerConfig s = server("imap_auth oauthbearer EXTERNAL login;\n imap_auth cram-md5 plain xoauth2 login;\n"
                + "server { listen 127.0.0.1:1143; protocol imap; }");
        assertEquals("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5 AUTH=EXTERNAL"
                + " AUTH=XOAUTH2 AUTH=OAUTHBEARER\r\n", capability(s, false));
    }

    @Test
    void aServersOwnListsReplaceTheMailLevelOnes() throws Exception {
        ServerConfig s = server("imap_capabilities IMAP4rev1 IDLE;\n imap_auth cram-md5;\n"
                + "server { listen 127.0.0.1:1143; protocol imap; imap_capabilities IMAP4rev1; imap_capabilities ID"
                + " SASL-IR; }");
        assertEquals("* CAPABILITY IMAP4rev1 ID SASL-IR AUTH=CRAM-MD5\r\n", capability(s, false));
        ServerConfig inherited = server("imap_capabilities IMAP4rev1 IDLE;\n"
                + "server { listen 127.0.0.1:1143; protocol imap; }");
        assertEquals("* CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN\r\n", capability(inherited, false));
    }

    @Test
    void starttlsVariantsAsNginxBuildsThem() throws Exception {
        String server = "server { listen 127.0.0.1:1143; protocol imap; imap_auth plain login; ";
        ServerConfig on = server(server + "starttls on; }", SSL);
        assertEquals("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN AUTH=LOGIN STARTTLS\r\n", capability(on, false));
        assertEquals("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN AUTH=LOGIN\r\n", capability(on, true));
        ServerConfig only = server(server + "starttls only; }", SSL);
        assertEquals("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS STARTTLS LOGINDISABLED\r\n", capability(only, false));
        assertEquals("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN AUTH=LOGIN\r\n", capability(only, true));
        ServerConfig off = server(server + "starttls off; }", SSL);
        assertEquals("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN AUTH=LOGIN\r\n", capability(off, false));
        assertEquals(ImapSettings.StartTls.OFF, ImapSettings.startTls(server(server + "}")),
                "without a module declaring starttls");
    }

    @Test
    void imapClientBufferIsASize() throws Exception {
        assertEquals(8192, ImapSettings.of(server("imap_client_buffer 8k;\n"
                + "server { listen 127.0.0.1:1143; protocol imap; }")).clientBuffer());
        assertEquals("\"imap_client_buffer\" directive invalid value in test.conf:2",
                error("imap_client_buffer 8x;\nserver { listen 127.0.0.1:1143; protocol imap; }"));
        assertEquals("\"imap_client_buffer\" directive is duplicate in test.conf:4",
                error("imap_client_buffer 8k;\nserver { listen 127.0.0.1:1143; protocol imap;\n"
                        + "imap_client_buffer 1k; imap_client_buffer 2k; }"));
    }

    @Test
    void imapAuthRefusesUnknownMethods() {
        assertEquals("invalid value \"apop\" in test.conf:2",
                error("imap_auth plain apop;\nserver { listen 127.0.0.1:1143; protocol imap; }"));
        assertEquals("invalid number of arguments in \"imap_auth\" directive in test.conf:2",
                error("imap_auth;\nserver { listen 127.0.0.1:1143; protocol imap; }"));
    }

    @Test
    void imapIdAnswers() throws Exception {
        ServerConfig s = server("imap_id name \"mail proxy\" vendor \"a\\\\b\\\"c\";\n"
                + "server { listen 127.0.0.1:1143; protocol imap; }");
        assertEquals("* ID (\"name\" \"mail proxy\" \"vendor\" \"a\\\\b\\\"c\")\r\n",
                new String(ImapSettings.of(s).idReply(), StandardCharsets.UTF_8));
        ServerConfig off = server("server { listen 127.0.0.1:1143; protocol imap; imap_id off; }");
        assertNull(ImapSettings.of(off).idReply());
        assertEquals("\"imap_id\" directive needs field and value pairs, or \"off\" in test.conf:2",
                error("imap_id name;\nserver { listen 127.0.0.1:1143; protocol imap; }"));
        assertEquals("invalid value \"" + "x".repeat(31) + "\" in \"imap_id\" directive, a field is 1 to 30"
                        + " characters and a value at most 1024 in test.conf:2",
                error("imap_id " + "x".repeat(31) + " v;\nserver { listen 127.0.0.1:1143; protocol imap; }"));
    }

    @Test
    void theProtocolDeclaresItself() {
        ImapProtocol imap = new ImapProtocol();
        assertEquals("imap", imap.name());
        assertArrayEquals(new int[] {143, 993}, imap.defaultPorts());
        assertEquals(List.of("imap_auth", "imap_capabilities", "imap_client_buffer", "imap_id"),
                imap.directives().stream().map(DirectiveSpec::name).toList());
    }

    @Test
    void port143MeansImap() throws Exception {
        assertEquals("imap", server("server { listen 127.0.0.1:143; }").protocol());
    }
}
