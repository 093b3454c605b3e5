package org.mailproxy.core.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * One {@code server} of the {@code mail} block after merging: its protocol, its listens, and the
 * effective value of every server directive of the modules that were active when it was built
 * (its own value, else the mail-level one, else the default, as nginx's merge functions do).
 *
 * <p>Two ServerConfigs are {@link #equals equal} when they mean the same thing: same protocol,
 * same listens, same effective values, same unvalidated directives, whatever their position in
 * the files. A caller compares the servers of two builds to see which ones changed.
 */
public final class ServerConfig {

    private final String protocol;
    private final List<ListenSpec> listens;
    private final String file;
    private final int line;
    private final Map<String, Object> values;
    private final Map<String, ValueOrigin> origins;
    private final BlockValues own;
    private final Object content;
    /** The content's hash, computed once: protocols look their settings up by ServerConfig per session. */
    private final int hash;

    ServerConfig(String protocol, List<ListenSpec> listens, String file, int line, Map<String, Object> values,
                 Map<String, ValueOrigin> origins, BlockValues own) {
        this.protocol = protocol;
        this.listens = List.copyOf(listens);
        this.file = file;
        this.line = line;
        this.values = Collections.unmodifiableMap(new HashMap<>(values));
        this.origins = Map.copyOf(origins);
        this.own = own;
        List<Object> key = new ArrayList<>();
        key.add(protocol);
        key.add(Positions.strip(this.listens));
        key.add(Positions.strip(this.values));
        key.add(own.unvalidated().stream().map(Directive::withoutPosition).toList());
        this.content = key;
        this.hash = key.hashCode();
    }

    /** {@code imap}, {@code pop3} or {@code smtp}. */
    public String protocol() {
        return protocol;
    }

    /** Every address the server listens on, in the order written. */
    public List<ListenSpec> listens() {
        return listens;
    }

    /** The file of the {@code server} block. */
    public String file() {
        return file;
    }

    /** The line of the {@code server} block's <code>&#123;</code>. */
    public int line() {
        return line;
    }

    /**
     * The effective value of a directive: a List for repeatable directives, null when nothing sets
     * it and it has no default.
     *
     * @param <T> the type the directive's parser produces (Duration, Long, Integer, Boolean, String...)
     * @throws IllegalArgumentException when no active module declared the directive for servers
     */
    @SuppressWarnings("unchecked")
    public <T> T get(String directive) {
        if (!values.containsKey(directive)) {
            throw new IllegalArgumentException("\"" + directive
                    + "\" is not a server directive of a module that was active when the configuration was built");
        }
        return (T) values.get(directive);
    }

    /** A time value ({@code timeout}, {@code proxy_timeout}). */
    public Duration time(String directive) {
        return required(directive);
    }

    /** A size value in bytes ({@code proxy_buffer}). */
    public long size(String directive) {
        return this.<Number>required(directive).longValue();
    }

    /** A number value ({@code max_errors}). */
    public int number(String directive) {
        return this.<Number>required(directive).intValue();
    }

    /** An on|off value ({@code xclient}). */
    public boolean flag(String directive) {
        return this.<Boolean>required(directive);
    }

    /** A string value ({@code server_name}, {@code protocol}). */
    public String string(String directive) {
        return required(directive);
    }

    private <T> T required(String directive) {
        T value = get(directive);
        if (value == null) {
            throw new NoSuchElementException("\"" + directive + "\" has no value in server at " + file + ":" + line);
        }
        return value;
    }

    /** Where the effective value of a directive comes from. */
    public ValueOrigin origin(String directive) {
        ValueOrigin origin = origins.get(directive);
        if (origin == null) {
            get(directive);
        }
        return origin;
    }

    /** The names of all directives with an effective value here. */
    public Set<String> directiveNames() {
        return values.keySet();
    }

    /** What the server block itself sets, with typed values. */
    public BlockValues own() {
        return own;
    }

    /** The server's own directives as written, in order (unvalidated ones included). */
    public List<Directive> rawDirectives() {
        return own.rawDirectives();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ServerConfig s && content.equals(s.content);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("server ").append(protocol);
        for (ListenSpec l : listens) {
            out.append(' ').append(l.addressText());
        }
        return out.append(" at ").append(file).append(':').append(line).toString();
    }
}
