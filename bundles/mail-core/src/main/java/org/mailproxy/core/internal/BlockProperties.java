package org.mailproxy.core.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.Directive;

/**
 * How a {@code mail {}} or {@code server {}} block is stored as an OSGi Config Admin configuration.
 *
 * <p>Each directive name is a property whose value is a {@code String[]}: one element per occurrence,
 * holding that occurrence's arguments as written in nginx syntax (quoted where needed), e.g.
 * {@code listen = ["127.0.0.1:1143", "[::1]:1143 bind"]}, {@code smtp_capabilities =
 * ["\"SIZE 10485760\" 8BITMIME"]}. A plain {@code String} value is one occurrence, so an operator's
 * {@code etc/org.mailproxy.server-extra.cfg} reads naturally ({@code listen = 2525},
 * {@code protocol = smtp}). Where each occurrence came from is kept beside it in
 * {@code mailproxy.at.<name>} ({@code file:line} strings), so that errors found later still name
 * the line of etc/mail.conf. Properties of the framework ({@code service.*}, {@code felix.*},
 * {@code component.*}) and of this project ({@code mailproxy.*}) are not directives.
 */
final class BlockProperties {

    /** Marks configurations written from the configuration file (their owner). */
    static final String SOURCE = "mailproxy.source";
    /** Location of the block itself ({@code file:line}). */
    static final String BLOCK_AT = "mailproxy.block";
    private static final String AT = "mailproxy.at.";

    private BlockProperties() {
    }

    /** Properties for one block's directives (nested blocks are not allowed inside mail blocks). */
    static Hashtable<String, Object> toProperties(List<Directive> directives, String source,
                                                  String blockFile, int blockLine) {
        Map<String, List<String>> values = new LinkedHashMap<>();
        Map<String, List<String>> places = new LinkedHashMap<>();
        for (Directive d : directives) {
            values.computeIfAbsent(d.name(), k -> new ArrayList<>()).add(d.argsText());
            places.computeIfAbsent(d.name(), k -> new ArrayList<>()).add(d.file() + ":" + d.line());
        }
        Hashtable<String, Object> props = new Hashtable<>();
        values.forEach((name, v) -> props.put(name, v.toArray(String[]::new)));
        places.forEach((name, v) -> props.put(AT + name, v.toArray(String[]::new)));
        props.put(SOURCE, source);
        props.put(BLOCK_AT, blockFile + ":" + blockLine);
        return props;
    }

    /**
     * The directives stored in {@code props}, in a stable order (by name, occurrences in order).
     *
     * @param origin names the configuration in errors when a value carries no location of its own
     */
    static List<Directive> toDirectives(Dictionary<String, ?> props, String origin) throws ConfigException {
        Map<String, Object> sorted = new java.util.TreeMap<>();
        for (Enumeration<String> keys = props.keys(); keys.hasMoreElements(); ) {
            String key = keys.nextElement();
            if (isDirective(key)) {
                sorted.put(key, props.get(key));
            }
        }
        List<Directive> out = new ArrayList<>();
        for (Map.Entry<String, Object> e : sorted.entrySet()) {
            List<String> occurrences = strings(e.getValue());
            List<String> at = strings(props.get(AT + e.getKey()));
            for (int i = 0; i < occurrences.size(); i++) {
                String file = origin;
                int line = 0;
                if (i < at.size()) {
                    String loc = at.get(i);
                    int colon = loc.lastIndexOf(':');
                    if (colon > 0) {
                        file = loc.substring(0, colon);
                        line = parseLine(loc.substring(colon + 1));
                    }
                }
                List<String> args = Directive.splitArgs(occurrences.get(i));
                out.add(new Directive(e.getKey(), args, null, file, line));
            }
        }
        return out;
    }

    /** Prefix of the main context's directives kept in the {@code mail} configuration ({@code error_log}). */
    static final String MAIN = "mailproxy.main.";

    /** Adds the main context's {@code directives} to a block's properties, under {@value #MAIN}. */
    static void putMain(Hashtable<String, Object> props, List<Directive> directives) {
        Hashtable<String, Object> main = toProperties(directives, "", "", 0);
        for (Directive d : directives) {
            props.put(MAIN + d.name(), main.get(d.name()));
            props.put(MAIN + "at." + d.name(), main.get(AT + d.name()));
        }
    }

    /** The main context's directives that {@link #putMain} stored in {@code props}. */
    static List<Directive> mainDirectives(Dictionary<String, ?> props, String origin) throws ConfigException {
        Hashtable<String, Object> main = new Hashtable<>();
        for (Enumeration<String> keys = props.keys(); keys.hasMoreElements(); ) {
            String key = keys.nextElement();
            if (key.startsWith(MAIN + "at.")) {
                main.put(AT + key.substring(MAIN.length() + 3), props.get(key));
            } else if (key.startsWith(MAIN)) {
                main.put(key.substring(MAIN.length()), props.get(key));
            }
        }
        return toDirectives(main, origin);
    }

    /** {@code file:line} of the block, or {@code origin:0}. */
    static String[] blockLocation(Dictionary<String, ?> props, String origin) {
        Object at = props.get(BLOCK_AT);
        if (at instanceof String s) {
            int colon = s.lastIndexOf(':');
            if (colon > 0) {
                return new String[] {s.substring(0, colon), s.substring(colon + 1)};
            }
        }
        return new String[] {origin, "0"};
    }

    static boolean isDirective(String key) {
        return !(key.startsWith("service.") || key.startsWith("felix.") || key.startsWith("component.")
                || key.startsWith("mailproxy.") || key.startsWith("osgi.") || key.startsWith("objectClass"));
    }

    private static int parseLine(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static List<String> strings(Object v) {
        List<String> out = new ArrayList<>();
        if (v instanceof String s) {
            out.add(s);
        } else if (v instanceof String[] a) {
            out.addAll(List.of(a));
        } else if (v instanceof Collection<?> c) {
            c.forEach(x -> out.add(String.valueOf(x)));
        } else if (v != null) {
            out.add(String.valueOf(v));
        }
        return out;
    }
}
