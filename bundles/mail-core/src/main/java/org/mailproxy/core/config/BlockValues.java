package org.mailproxy.core.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The directives one block sets itself (the {@code mail} block, or one {@code server}), with their
 * typed values. Nothing here is inherited or defaulted; see {@link ServerConfig} for effective
 * values.
 */
public final class BlockValues {

    /** One directive set in the block: its spec, value and first occurrence. */
    record Entry(DirectiveSpec spec, Object value, Directive first) {
    }

    private static final BlockValues EMPTY = new BlockValues(null, 0, Map.of(), List.of(), List.of());

    private final String file;
    private final int line;
    private final Map<String, Entry> entries;
    private final List<Directive> raw;
    private final List<Directive> unvalidated;

    BlockValues(String file, int line, Map<String, Entry> entries, List<Directive> raw, List<Directive> unvalidated) {
        this.file = file;
        this.line = line;
        this.entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
        this.raw = List.copyOf(raw);
        this.unvalidated = List.copyOf(unvalidated);
    }

    /** The values of a configuration that has no {@code mail} block. */
    static BlockValues empty() {
        return EMPTY;
    }

    /** The file of the block, null when there is none. */
    public String file() {
        return file;
    }

    /** The line of the block's <code>&#123;</code>. */
    public int line() {
        return line;
    }

    /** Whether the block sets the directive. */
    public boolean isSet(String directive) {
        return entries.containsKey(directive);
    }

    /**
     * The value the block sets, or null: a List for repeatable directives.
     *
     * @param <T> the value type the directive's parser produces
     */
    @SuppressWarnings("unchecked")
    public <T> T get(String directive) {
        Entry e = entries.get(directive);
        return e == null ? null : (T) e.value();
    }

    /** The first occurrence of a directive in the block. */
    public Optional<Directive> directive(String directive) {
        return Optional.ofNullable(entries.get(directive)).map(Entry::first);
    }

    /** The names of the validated directives the block sets, in order of first appearance. */
    public Set<String> names() {
        return entries.keySet();
    }

    /**
     * The block's directives as written, in order, without the nested {@code server} blocks of
     * {@code mail}: what Config Admin stores for the block.
     */
    public List<Directive> rawDirectives() {
        return raw;
    }

    /** The directives kept without validation because their module is not active. */
    public List<Directive> unvalidated() {
        return unvalidated;
    }

    Entry entry(String directive) {
        return entries.get(directive);
    }

    private Map<String, Object> content() {
        Map<String, Object> values = new LinkedHashMap<>();
        entries.forEach((k, e) -> values.put(k, e.value()));
        return Positions.strip(values);
    }

    private List<Object> unvalidatedContent() {
        List<Object> out = new ArrayList<>();
        for (Directive d : unvalidated) {
            out.add(d.withoutPosition());
        }
        return out;
    }

    /** Equal when the same directives are set to the same values, wherever they are written. */
    @Override
    public boolean equals(Object o) {
        return o instanceof BlockValues b && content().equals(b.content())
                && unvalidatedContent().equals(b.unvalidatedContent());
    }

    @Override
    public int hashCode() {
        return Objects.hash(content(), unvalidatedContent());
    }

    @Override
    public String toString() {
        return "BlockValues" + content() + (unvalidated.isEmpty() ? "" : " unvalidated " + unvalidatedContent());
    }
}
