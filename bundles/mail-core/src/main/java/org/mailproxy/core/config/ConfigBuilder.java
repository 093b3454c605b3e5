package org.mailproxy.core.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.mailproxy.core.spi.MailModule;

/**
 * Validates parsed directives against the registry and merges {@code mail} into each
 * {@code server}, as nginx's {@code ngx_mail_block()}, {@code ngx_conf_handler()} and the modules'
 * merge functions do, with the same error words and in the same order: directives are checked as
 * they come in the file ({@code unknown directive}, {@code is not allowed here}, arguments,
 * duplicates, values, {@code duplicate ... address and port pair}, {@code no "listen"} at the end
 * of each server); then servers are merged in order ({@code unknown mail protocol for server});
 * then each module may {@link MailModule#validate} each server.
 *
 * <p>Top-level directives other than {@code mail} ({@code worker_processes}, {@code events},
 * {@code http}...) are kept out, with a note, so whole nginx files load. A directive unknown to
 * the registry that belongs by its prefix to an {@link OptionalModules optional module} that is
 * not registered is kept unvalidated, with a note.
 */
public final class ConfigBuilder {

    private final DirectiveRegistry.Snapshot registry;
    private final List<String> notes = new ArrayList<>();
    private final List<ListenSpec> listens = new ArrayList<>();
    private final Map<String, Object> defaults = new HashMap<>();

    private ConfigBuilder(DirectiveRegistry.Snapshot registry) {
        this.registry = registry;
    }

    /**
     * Builds the mail configuration from the top-level directives of a file (includes expanded).
     *
     * @throws ConfigException the first error, as nginx reports it
     */
    public static MailConfiguration build(List<Directive> topLevel, DirectiveRegistry registry)
            throws ConfigException {
        return new ConfigBuilder(registry.snapshot()).top(topLevel);
    }

    /** Parses a file and builds it: {@link ConfigParser#parse(Path)} then {@link #build}. */
    public static MailConfiguration load(Path file, DirectiveRegistry registry) throws ConfigException {
        return build(ConfigParser.parse(file), registry);
    }

    private MailConfiguration top(List<Directive> topLevel) throws ConfigException {
        DirectiveSpec mailSpec = registry.find("mail");
        if (mailSpec == null) {
            throw new IllegalArgumentException("the directive registry has no core module");
        }
        MailConfiguration result = null;
        List<ErrorLog> mainLogs = new ArrayList<>();
        for (Directive d : topLevel) {
            if (d.name().equals("mail")) {
                checkForm(d, mailSpec);
                if (result != null) {
                    throw d.invalid("is duplicate");
                }
                result = mail(d);
                continue;
            }
            DirectiveSpec spec = registry.find(d.name());
            if (spec != null && !spec.allowedIn(Context.MAIN)) {
                throw notAllowed(d);
            }
            if (spec != null) {
                // a mail directive that nginx also knows at top level (error_log): checked like
                // any other; the mail block inherits it
                spec.checkArgs(d);
                Object value = spec.parse(d);
                if (value instanceof ErrorLog log) {
                    mainLogs.add(log);
                }
                continue;
            }
            notes.add(at("\"" + d.name() + "\" directive is outside of \"mail\", ignored", d));
        }
        if (result == null) {
            notes.add("no \"mail\" block is defined, no mail server to run");
            return new MailConfiguration(List.of(), BlockValues.empty(), notes, mainLogs);
        }
        return new MailConfiguration(result.servers(), result.mail(), notes, mainLogs);
    }

    private MailConfiguration mail(Directive mail) throws ConfigException {
        Scope scope = new Scope();
        List<ServerBlock> blocks = new ArrayList<>();
        for (Directive d : mail.block()) {
            DirectiveSpec spec = resolve(d, Context.MAIL);
            if (spec == null) {
                scope.keepRaw(d);
            } else if (d.name().equals("server")) {
                blocks.add(server(d));
            } else {
                scope.set(spec, d);
            }
        }
        BlockValues mailValues = scope.freeze(mail);

        List<ServerConfig> servers = new ArrayList<>();
        for (ServerBlock block : blocks) {
            servers.add(merge(block, mailValues));
        }
        for (MailModule module : registry.modules()) {
            for (ServerConfig server : servers) {
                module.validate(server);
            }
        }
        return new MailConfiguration(servers, mailValues, List.of());
    }

    /** A parsed server block waiting for the merge, with the protocol its listens suggest. */
    private record ServerBlock(Directive block, BlockValues own, String guessed, Directive guessedFrom) {
    }

    @SuppressWarnings("unchecked")
    private ServerBlock server(Directive server) throws ConfigException {
        Scope scope = new Scope();
        String guessed = null;
        Directive guessedFrom = null;
        for (Directive d : server.block()) {
            DirectiveSpec spec = resolve(d, Context.SERVER);
            if (spec == null) {
                scope.keepRaw(d);
                continue;
            }
            Object value = scope.set(spec, d);
            if (!d.name().equals("listen")) {
                continue;
            }
            List<ListenSpec> added = (List<ListenSpec>) value;
            for (ListenSpec l : added) {
                for (ListenSpec previous : listens) {
                    if (ListenParser.sameSocket(previous, l)) {
                        throw d.error("duplicate \"" + l.addressText() + "\" address and port pair");
                    }
                }
                listens.add(l);
            }
            if (guessed == null && !added.isEmpty()) {
                guessed = OptionalModules.protocolForPort(added.get(0).port()).orElse(null);
                guessedFrom = guessed == null ? null : d;
            }
        }
        BlockValues own = scope.freeze(server);
        if (!own.isSet("listen")) {
            throw new ConfigException("no \"listen\" is defined for server", server.file(), server.line());
        }
        return new ServerBlock(server, own, guessed, guessedFrom);
    }

    private ServerConfig merge(ServerBlock s, BlockValues mail) throws ConfigException {
        Directive server = s.block();
        BlockValues own = s.own();
        Map<String, Object> values = new HashMap<>();
        Map<String, ValueOrigin> origins = new HashMap<>();

        for (DirectiveSpec spec : registry.specs().values()) {
            if (spec.isBlock() || !spec.allowedIn(Context.SERVER)) {
                continue;
            }
            String name = spec.name();
            if (own.isSet(name)) {
                values.put(name, own.get(name));
                origins.put(name, ValueOrigin.of(ValueOrigin.Source.SERVER, own.entry(name).first()));
            } else if (spec.inheritance() == DirectiveSpec.Inheritance.INHERIT && mail.isSet(name)) {
                values.put(name, mail.get(name));
                origins.put(name, ValueOrigin.of(ValueOrigin.Source.MAIL, mail.entry(name).first()));
            } else {
                values.put(name, defaultOf(spec));
                origins.put(name, ValueOrigin.DEFAULT);
            }
        }

        String protocol = own.get("protocol");
        if (protocol == null) {
            if (s.guessed() == null) {
                throw new ConfigException("unknown mail protocol for server", server.file(), server.line());
            }
            protocol = s.guessed();
            values.put("protocol", protocol);
            origins.put("protocol", new ValueOrigin(ValueOrigin.Source.DEFAULT, s.guessedFrom().file(),
                    s.guessedFrom().line()));
        }
        List<ListenSpec> serverListens = own.get("listen");
        return new ServerConfig(protocol, serverListens, server.file(), server.line(), values, origins, own);
    }

    private Object defaultOf(DirectiveSpec spec) {
        if (!defaults.containsKey(spec.name())) {
            defaults.put(spec.name(), spec.defaultValue());
        }
        return defaults.get(spec.name());
    }

    /**
     * Finds and checks the spec of a directive in a context, as {@code ngx_conf_handler()}; null
     * when the directive belongs to an optional module that is not active (it is then noted).
     */
    private DirectiveSpec resolve(Directive d, Context context) throws ConfigException {
        DirectiveSpec spec = registry.find(d.name());
        if (spec == null) {
            Optional<OptionalModules.Entry> owner = OptionalModules.ownerOf(d.name());
            if (owner.isPresent() && !registry.hasModule(owner.get().name())) {
                notes.add(at("\"" + d.name() + "\" directive belongs to the \"" + owner.get().name()
                        + "\" module, which is not active,", d));
                return null;
            }
            throw d.error("unknown directive \"" + d.name() + "\"");
        }
        if (!spec.allowedIn(context)) {
            throw notAllowed(d);
        }
        checkForm(d, spec);
        return spec;
    }

    private static void checkForm(Directive d, DirectiveSpec spec) throws ConfigException {
        if (!spec.isBlock() && d.isBlock()) {
            throw d.error("directive \"" + d.name() + "\" is not terminated by \";\"");
        }
        if (spec.isBlock() && !d.isBlock()) {
            throw d.error("directive \"" + d.name() + "\" has no opening \"{\"");
        }
        spec.checkArgs(d);
    }

    private static ConfigException notAllowed(Directive d) {
        return d.error("\"" + d.name() + "\" directive is not allowed here");
    }

    private static String at(String text, Directive d) {
        return d.file() == null ? text : text + " in " + d.position();
    }

    /** The directives of one block while it is read. */
    private static final class Scope {
        private final Map<String, BlockValues.Entry> entries = new LinkedHashMap<>();
        private final List<Directive> raw = new ArrayList<>();
        private final List<Directive> unvalidated = new ArrayList<>();

        void keepRaw(Directive d) {
            raw.add(d);
            unvalidated.add(d);
        }

        /** Records one occurrence and returns its own value. */
        Object set(DirectiveSpec spec, Directive d) throws ConfigException {
            BlockValues.Entry previous = entries.get(spec.name());
            if (previous != null && spec.repeat() == DirectiveSpec.Repeat.ONCE) {
                throw d.invalid("is duplicate");
            }
            Object value = spec.parse(d);
            raw.add(d);
            Object stored = switch (spec.repeat()) {
            case ONCE -> value;
            case LIST -> {
                List<Object> list = previous == null ? new ArrayList<>() : listOf(previous.value());
                list.add(value);
                yield list;
            }
            case CONCAT -> {
                List<Object> list = previous == null ? new ArrayList<>() : listOf(previous.value());
                if (!(value instanceof Collection<?> more)) {
                    throw new IllegalStateException("the parser of accumulating directive \"" + spec.name()
                            + "\" must return a List");
                }
                list.addAll(more);
                yield list;
            }
            };
            entries.put(spec.name(), new BlockValues.Entry(spec, stored,
                    previous == null ? d : previous.first()));
            return value;
        }

        @SuppressWarnings("unchecked")
        private static List<Object> listOf(Object value) {
            return (List<Object>) value;
        }

        BlockValues freeze(Directive block) {
            Map<String, BlockValues.Entry> frozen = new LinkedHashMap<>();
            entries.forEach((name, e) -> frozen.put(name, e.value() instanceof List<?> l
                    ? new BlockValues.Entry(e.spec(), Collections.unmodifiableList(new ArrayList<>(l)),
                            e.first())
                    : e));
            return new BlockValues(block.file(), block.line(), frozen, raw, unvalidated);
        }
    }
}
