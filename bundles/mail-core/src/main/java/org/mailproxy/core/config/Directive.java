package org.mailproxy.core.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One directive as written in the configuration: {@code listen 143 ssl;} or
 * {@code server { ... }}.
 *
 * @param name  the directive name
 * @param args  the arguments after the name, unquoted and unescaped
 * @param block the directives inside {@code { }}, or null when the directive ends with {@code ;}
 * @param file  the file it was read from, or null
 * @param line  the line of the {@code ;} or <code>&#123;</code> that ended it (the line nginx reports)
 */
public record Directive(String name, List<String> args, List<Directive> block, String file, int line) {

    public Directive {
        Objects.requireNonNull(name, "name");
        args = List.copyOf(args);
        block = block == null ? null : List.copyOf(block);
    }

    /** A {@code ;}-terminated directive. */
    public static Directive of(String name, List<String> args, String file, int line) {
        return new Directive(name, args, null, file, line);
    }

    /** Whether the directive has a {@code { }} block. */
    public boolean isBlock() {
        return block != null;
    }

    /** The i-th argument (0 is the first one after the name). */
    public String arg(int i) {
        return args.get(i);
    }

    /** The arguments joined by spaces, each quoted when it needs it: the inverse of {@link #splitArgs}. */
    public String argsText() {
        StringBuilder text = new StringBuilder();
        for (String arg : args) {
            if (text.length() > 0) {
                text.append(' ');
            }
            text.append(quote(arg));
        }
        return text.toString();
    }

    /** {@code FILE:LINE}, or {@code null} when the directive has no file. */
    public String position() {
        return file == null ? null : file + ":" + line;
    }

    /** An error about this directive: {@code reason in FILE:LINE}. */
    public ConfigException error(String reason) {
        return new ConfigException(reason, file, line);
    }

    /**
     * An error in the form nginx gives a handler's short answer:
     * {@code "timeout" directive invalid value}.
     */
    public ConfigException invalid(String shortReason) {
        return error("\"" + name + "\" directive " + shortReason);
    }

    /** The same directive with no file and line, recursively: for comparing content only. */
    public Directive withoutPosition() {
        if (file == null && line == 0 && block == null) {
            return this;
        }
        List<Directive> inner = null;
        if (block != null) {
            inner = new ArrayList<>(block.size());
            for (Directive d : block) {
                inner.add(d.withoutPosition());
            }
        }
        return new Directive(name, args, inner, null, 0);
    }

    /**
     * Quotes an argument when the lexer would otherwise split or alter it: an empty word, white
     * space, {@code ; { } # " ' \} and control characters. The result is a double-quoted string
     * with {@code \" \\ \t \r \n} escaped.
     */
    public static String quote(String arg) {
        if (!arg.isEmpty() && isPlain(arg)) {
            return arg;
        }
        StringBuilder q = new StringBuilder(arg.length() + 2).append('"');
        for (int i = 0; i < arg.length(); i++) {
            char c = arg.charAt(i);
            switch (c) {
            case '"':
                q.append("\\\"");
                break;
            case '\\':
                q.append("\\\\");
                break;
            case '\t':
                q.append("\\t");
                break;
            case '\r':
                q.append("\\r");
                break;
            case '\n':
                q.append("\\n");
                break;
            default:
                q.append(c);
            }
        }
        return q.append('"').toString();
    }

    private static boolean isPlain(String arg) {
        for (int i = 0; i < arg.length(); i++) {
            char c = arg.charAt(i);
            if (c <= ' ' || c == 0x7f || c == ';' || c == '{' || c == '}' || c == '#' || c == '"'
                    || c == '\'' || c == '\\') {
                return false;
            }
        }
        return true;
    }

    /**
     * Splits the text of a directive's arguments back into words, with nginx's quotes and escapes:
     * {@code splitArgs("\"SIZE 10485760\" 8BITMIME")} is {@code [SIZE 10485760, 8BITMIME]}.
     *
     * @throws IllegalArgumentException when the text is not a plain list of words (an open quote,
     *                                  a {@code ;}, a brace)
     */
    public static List<String> splitArgs(String text) {
        ConfigLexer lexer = new ConfigLexer(text, null, true).eofEndsWords();
        try {
            ConfigLexer.Token token = lexer.next();
            if (token.kind() != ConfigLexer.Kind.EOF) {
                throw new IllegalArgumentException("not a list of arguments: unexpected \""
                        + text.charAt(lexer.position() - 1) + "\" in " + text);
            }
            return token.words();
        } catch (ConfigException e) {
            throw new IllegalArgumentException("not a list of arguments: " + e.reason() + " in " + text, e);
        }
    }

    /** The directive in configuration syntax, blocks included, indented by four spaces. */
    public String toConfigText() {
        StringBuilder out = new StringBuilder();
        appendTo(out, "");
        return out.toString();
    }

    private void appendTo(StringBuilder out, String indent) {
        out.append(indent).append(name);
        if (!args.isEmpty()) {
            out.append(' ').append(argsText());
        }
        if (block == null) {
            out.append(";\n");
            return;
        }
        out.append(" {\n");
        for (Directive d : block) {
            d.appendTo(out, indent + "    ");
        }
        out.append(indent).append("}\n");
    }
}
