package org.mailproxy.resolver.internal;

import java.util.List;
import org.mailproxy.core.config.ConfigBuilder;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.ConfigParser;
import org.mailproxy.core.config.DirectiveRegistry;
import org.mailproxy.core.config.MailConfiguration;
import org.mailproxy.core.config.ServerConfig;

/** Configurations built as the core builds them, with the core modules and the resolver module. */
final class TestConfigs {

    static final String FILE = "/etc/mail.conf";

    private TestConfigs() {
    }

    static MailConfiguration build(ResolverComponent module, String text) throws ConfigException {
        DirectiveRegistry registry = DirectiveRegistry.withCoreModules();
        registry.add(module);
        return ConfigBuilder.build(ConfigParser.parse(text, FILE), registry);
    }

    /** One SMTP server; {@code mailLines} go into the mail block before it. */
    static ServerConfig server(ResolverComponent module, String... mailLines) {
        StringBuilder text = new StringBuilder("mail {\n");
        for (String line : mailLines) {
            text.append("    ").append(line).append('\n');
        }
        text.append("    server {\n        listen 127.0.0.1:2525;\n        protocol smtp;\n    }\n}\n");
        try {
            List<ServerConfig> servers = build(module, text.toString()).servers();
            return servers.get(0);
        } catch (ConfigException e) {
            throw new AssertionError("unexpected: " + e.getMessage(), e);
        }
    }
}
