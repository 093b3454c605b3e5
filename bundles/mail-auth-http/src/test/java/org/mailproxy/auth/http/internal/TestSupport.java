package org.mailproxy.auth.http.internal;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.mailproxy.core.config.ConfigBuilder;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.ConfigParser;
import org.mailproxy.core.config.DirectiveRegistry;
import org.mailproxy.core.config.MailConfiguration;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.spi.AuthRequest;
import org.mailproxy.core.spi.AuthResult;

/** Configuration, requests and a recording log for the tests. */
final class TestSupport {

    static final String FILE = "test.conf";

    private TestSupport() {
    }

    /** A log that keeps its lines (and writes nothing). */
    static final class RecordingLog extends AuthLog {
        final List<String> errors = new CopyOnWriteArrayList<>();
        final List<String> infos = new CopyOnWriteArrayList<>();

        @Override
        void write(String level, org.mailproxy.core.spi.AuthRequest r, int errno, String message) {
            (level.equals("error") ? errors : infos).add(line(r, errno, message));
        }

        List<String> all() {
            List<String> out = new java.util.ArrayList<>(errors);
            out.addAll(infos);
            return out;
        }
    }

    static DirectiveRegistry registry(AuthHttpModule module) {
        DirectiveRegistry registry = DirectiveRegistry.withCoreModules();
        registry.add(module);
        return registry;
    }

    static MailConfiguration buildChecked(AuthHttpModule module, String text) throws ConfigException {
        return ConfigBuilder.build(ConfigParser.parse(text, FILE), registry(module));
    }

    /** Builds a configuration that must be accepted. */
    static MailConfiguration build(AuthHttpModule module, String text) {
        try {
            return buildChecked(module, text);
        } catch (ConfigException e) {
            throw new AssertionError("unexpected: " + e.getMessage(), e);
        }
    }

    /** The error message of a configuration that must fail. */
    static String error(AuthHttpModule module, String text) {
        try {
            buildChecked(module, text);
        } catch (ConfigException e) {
            return e.getMessage();
        }
        throw new AssertionError("configuration accepted: " + text);
    }

    /** One imap server on 127.0.0.1:1143 with these mail-level directives. */
    static ServerConfig server(AuthHttpModule module, String mailDirectives) {
        return server(module, mailDirectives, "imap");
    }

    static ServerConfig server(AuthHttpModule module, String mailDirectives, String protocol) {
        String text = "mail {\n" + mailDirectives + "\n    server {\n        listen 127.0.0.1:1143;\n"
                + "        protocol " + protocol + ";\n    }\n}\n";
        return build(module, text).servers().get(0);
    }

    static AuthRequest request(String method, String user, String password, String protocol) {
        return new AuthRequest(method, user, password, null, protocol, 1,
                new InetSocketAddress("192.0.2.7", 40000), null, null, null);
    }

    static AuthRequest plain(String protocol) {
        return request("plain", "alice", "secret", protocol);
    }

    static AuthResult await(CompletionStage<AuthResult> stage) {
        try {
            return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("no auth result: " + e, e);
        }
    }
}
