package org.mailproxy.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.mailproxy.core.spi.MailModule;

class DirectiveRegistryTest {

    @Test
    void coreModules() {
        DirectiveRegistry r = DirectiveRegistry.withCoreModules();
        assertEquals(List.of("core", "proxy", "ssl", "realip", "proxy_ssl"), r.modules().stream().map(MailModule::name).toList());
        for (String name : List.of("mail", "server", "listen", "protocol", "server_name", "timeout", "max_errors",
                "max_commands", "error_log", "proxy", "proxy_buffer", "proxy_timeout", "proxy_pass_error_message",
                "proxy_protocol", "proxy_smtp_auth", "xclient")) {
            assertTrue(r.find(name).isPresent(), name);
        }
        assertEquals(Optional.empty(), r.find("resolver"));
        assertEquals(Optional.empty(), r.find("resolver_timeout"));
        assertEquals(Optional.of("proxy"), r.moduleOf("xclient"));
        assertEquals(Optional.of("proxy_ssl"), r.moduleOf("proxy_ssl"));
        assertEquals(Optional.of("proxy_ssl"), r.moduleOf("proxy_ssl_trusted_certificate"));
        assertTrue(r.find("listen").orElseThrow().isRepeatable());
        assertEquals(DirectiveSpec.Inheritance.SERVER_ONLY, r.find("listen").orElseThrow().inheritance());
        assertTrue(r.find("mail").orElseThrow().isBlock());
    }

    @Test
    void addAndRemove() {
        DirectiveRegistry r = DirectiveRegistry.withCoreModules();
        MailModule imap = TestFiles.imap();
        r.add(imap);
        assertTrue(r.isActive("imap"));
        assertEquals(Optional.of("imap"), r.moduleOf("imap_auth"));
        assertThrows(IllegalArgumentException.class, () -> r.add(TestFiles.imap()));
        assertFalse(r.remove(TestFiles.imap()));
        assertTrue(r.remove(imap));
        assertFalse(r.isActive("imap"));
        assertTrue(r.find("imap_auth").isEmpty());
        assertFalse(r.remove(imap));
    }

    @Test
    void aDirectiveBelongsToOneModule() {
        DirectiveRegistry r = DirectiveRegistry.withCoreModules();
        MailModule clash = TestFiles.module("other",
                DirectiveSpec.builder("other_x").context(Context.MAIL).build(),
                DirectiveSpec.builder("timeout").context(Context.MAIL).build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.add(clash));
        assertEquals("directive \"timeout\" of module \"other\" is already declared by module \"core\"", e.getMessage());
        assertFalse(r.isActive("other"));
        assertTrue(r.find("other_x").isEmpty());
    }

    @Test
    void specBuilderChecks() {
        assertThrows(IllegalStateException.class, () -> DirectiveSpec.builder("x").build());
        assertThrows(IllegalArgumentException.class, () -> DirectiveSpec.builder(""));
        assertThrows(IllegalArgumentException.class, () -> DirectiveSpec.builder("x").args(2, 1));
        DirectiveSpec any = DirectiveSpec.builder("x").context(Context.SERVER).anyArgs().build();
        assertEquals(0, any.minArgs());
        assertEquals(Integer.MAX_VALUE, any.maxArgs());
        assertEquals(List.of(), DirectiveSpec.builder("y").context(Context.MAIL).words().repeatable().build()
                .defaultValue());
        assertFalse(DirectiveSpec.builder("z").context(Context.MAIL).build().hasDefault());
    }

    @Test
    void concurrentChangesNeverBreakABuild() throws Exception {
        DirectiveRegistry r = DirectiveRegistry.withCoreModules();
        List<Directive> top = ConfigParser.parse("mail { imap_auth plain; server { listen 143; } }", "t.conf");
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<?>> jobs = new ArrayList<>();
            jobs.add(pool.submit(() -> {
                for (int i = 0; i < 500; i++) {
                    MailModule imap = TestFiles.imap();
                    r.add(imap);
                    r.remove(imap);
                }
            }));
            for (int t = 0; t < 2; t++) {
                jobs.add(pool.submit(() -> {
                    for (int i = 0; i < 500; i++) {
                        MailConfiguration c = ConfigBuilder.build(top, r);
                        assertEquals("imap", c.servers().get(0).protocol());
                    }
                    return null;
                }));
            }
            for (Future<?> job : jobs) {
                job.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
