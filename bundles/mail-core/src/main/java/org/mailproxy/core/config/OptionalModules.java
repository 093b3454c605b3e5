package org.mailproxy.core.config;

import java.util.List;
import java.util.Optional;

/**
 * The modules the core knows by name although their code lives in other bundles: the three
 * protocols, auth_http and the resolver.
 *
 * <p>Why this table is in the core. In nginx the protocols are compiled in, so the core's
 * {@code protocol} directive and its port guess ({@code listen 143} means imap) look at the
 * protocol modules present. Here a protocol is switched on and off at runtime by starting and
 * stopping its bundle, and a configuration must mean the same thing either way: a server with
 * {@code listen 143} is an imap server (inactive while the imap bundle is stopped), not a
 * configuration error, and {@code imap_capabilities} stays a valid directive that is merely not
 * checked yet. So the value domain of {@code protocol}, the well-known ports, and which directive
 * names belong to which optional module are fixed facts kept here, and the registry only says
 * which of these modules currently run.
 */
public final class OptionalModules {

    /**
     * One optional module.
     *
     * @param name     the module name its bundle registers ({@link org.mailproxy.core.spi.MailModule#name()})
     * @param prefix   the start of every directive name it owns ({@code "imap_"}; {@code "auth_http"}
     *                 covers {@code auth_http} and {@code auth_http_header})
     * @param protocol whether it is a mail protocol, a value of the {@code protocol} directive
     * @param ports    its well-known ports, from which a server's protocol is guessed
     */
    public record Entry(String name, String prefix, boolean protocol, List<Integer> ports) {
        public Entry {
            ports = List.copyOf(ports);
        }

        /** Whether a directive name belongs to this module. */
        public boolean owns(String directive) {
            return directive.startsWith(prefix);
        }
    }

    private static final List<Entry> ALL = List.of(
            new Entry("imap", "imap_", true, List.of(143, 993)),
            new Entry("pop3", "pop3_", true, List.of(110, 995)),
            new Entry("smtp", "smtp_", true, List.of(25, 587, 465)),
            new Entry("auth_http", "auth_http", false, List.of()),
            new Entry("resolver", "resolver", false, List.of()));

    private OptionalModules() {
    }

    /** All entries, protocols first. */
    public static List<Entry> all() {
        return ALL;
    }

    /** The protocol entries: imap, pop3, smtp. */
    public static List<Entry> protocols() {
        return ALL.stream().filter(Entry::protocol).toList();
    }

    /** The entry of that name. */
    public static Optional<Entry> named(String name) {
        return ALL.stream().filter(e -> e.name().equals(name)).findFirst();
    }

    /** The protocol of that name ({@code imap}, {@code pop3}, {@code smtp}; case matters as in nginx). */
    public static Optional<Entry> protocol(String name) {
        return named(name).filter(Entry::protocol);
    }

    /** The protocol whose well-known ports include this one. */
    public static Optional<String> protocolForPort(int port) {
        return ALL.stream().filter(e -> e.ports().contains(port)).map(Entry::name).findFirst();
    }

    /** The module a directive name belongs to by its prefix. */
    public static Optional<Entry> ownerOf(String directive) {
        return ALL.stream().filter(e -> e.owns(directive)).findFirst();
    }
}
