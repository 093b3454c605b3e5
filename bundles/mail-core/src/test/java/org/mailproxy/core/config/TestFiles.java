package org.mailproxy.core.config;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.mailproxy.core.spi.MailModule;

/** Helpers shared by the config tests: files in a temporary directory, fake optional modules. */
final class TestFiles {

    /** The example configuration of Angie's core mail module page, as printed there. */
    static final String SEED = """
            worker_processes auto;

            error_log /var/log/angie/error.log info;

            events {
                worker_connections  1024;
            }

            mail {
                server_name       mail.example.com;
                auth_http         localhost:9000/cgi-bin/auth.cgi;

                imap_capabilities IMAP4rev1 UIDPLUS IDLE LITERAL+ QUOTA;

                pop3_auth         plain apop cram-md5;
                pop3_capabilities LAST TOP USER PIPELINING UIDL;

                smtp_auth         login plain cram-md5;
                smtp_capabilities "SIZE 10485760" ENHANCEDSTATUSCODES 8BITMIME DSN;
                xclient           off;

                server {
                    listen   25;
                    protocol smtp;
                }
                server {
                    listen   110;
                    protocol pop3;
                    proxy_pass_error_message on;
                }
                server {
                    listen   143;
                    protocol imap;
                }
                server {
                    listen   587;
                    protocol smtp;
                }
            }
            """;

    private TestFiles() {
    }

    static Path write(Path dir, String name, String text) {
        try {
            Path file = dir.resolve(name);
            Files.createDirectories(file.getParent());
            Files.writeString(file, text, StandardCharsets.UTF_8);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses and builds with the core modules, failing the test on an error. */
    static MailConfiguration build(Path file, DirectiveRegistry registry) {
        try {
            return ConfigBuilder.load(file, registry);
        } catch (ConfigException e) {
            throw new AssertionError("unexpected: " + e.getMessage(), e);
        }
    }

    /** The error of building a file. */
    static ConfigException error(Path file, DirectiveRegistry registry) {
        return assertThrows(ConfigException.class, () -> ConfigBuilder.load(file, registry));
    }

    /** A module with the given name and directives. */
    static MailModule module(String name, DirectiveSpec... specs) {
        List<DirectiveSpec> list = List.of(specs);
        return new MailModule() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public List<DirectiveSpec> directives() {
                return list;
            }
        };
    }

    /** A stand-in for the imap bundle's module. */
    static MailModule imap() {
        return module("imap",
                DirectiveSpec.builder("imap_capabilities").context(Context.MAIL, Context.SERVER).words()
                        .accumulating().defaultValue(List.of("IMAP4", "IMAP4rev1", "UIDPLUS")).build(),
                DirectiveSpec.builder("imap_auth").context(Context.MAIL, Context.SERVER)
                        .wordsOf("plain", "login", "cram-md5", "external").defaultValue(List.of("plain")).build(),
                DirectiveSpec.builder("imap_client_buffer").context(Context.MAIL, Context.SERVER).size()
                        .defaultValue(4096L).build());
    }

    /** A stand-in for the pop3 bundle's module. */
    static MailModule pop3() {
        return module("pop3",
                DirectiveSpec.builder("pop3_capabilities").context(Context.MAIL, Context.SERVER).words()
                        .accumulating().build(),
                DirectiveSpec.builder("pop3_auth").context(Context.MAIL, Context.SERVER)
                        .wordsOf("plain", "apop", "cram-md5", "external").build());
    }

    /** A stand-in for the smtp bundle's module. */
    static MailModule smtp() {
        return module("smtp",
                DirectiveSpec.builder("smtp_capabilities").context(Context.MAIL, Context.SERVER).words()
                        .accumulating().build(),
                DirectiveSpec.builder("smtp_auth").context(Context.MAIL, Context.SERVER)
                        .wordsOf("plain", "login", "cram-md5", "external", "none").build());
    }

    /** A stand-in for the auth_http bundle's module. */
    static MailModule authHttp() {
        return module("auth_http",
                DirectiveSpec.builder("auth_http").context(Context.MAIL, Context.SERVER).string().build(),
                DirectiveSpec.builder("auth_http_header").context(Context.MAIL, Context.SERVER).takes(2)
                        .repeatable().parser(Directive::args).build());
    }
}
