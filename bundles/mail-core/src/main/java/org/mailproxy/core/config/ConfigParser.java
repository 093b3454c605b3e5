package org.mailproxy.core.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads nginx configuration text into {@link Directive}s, as {@code ngx_conf_parse()}: the
 * {@link ConfigLexer} gives the words, this class nests blocks and expands {@code include}.
 *
 * <p>{@code include} is expanded in place, in any context: a relative path is taken from the
 * directory of the main file (nginx takes it from its configuration prefix, the directory of
 * {@code nginx.conf} in the usual layout); a path with {@code * ? [} is a glob whose matches are
 * read in sorted order, and a glob that matches nothing is fine; a plain path that cannot be read
 * is an error. A block cannot start in one file and end in another.
 *
 * <p>Syntax errors carry nginx's words: <code>unexpected "&#125;"</code>,
 * <code>unexpected end of file, expecting ";" or "&#125;"</code>, <code>unexpected end of file, expecting "&#125;"</code>,
 * <code>unexpected "&#123;"</code>, {@code unexpected ";"}, {@code unexpected "x"} after a quoted word.
 */
public final class ConfigParser {

    /** nginx has no limit and would run out of file descriptors; this stops include loops early. */
    static final int MAX_INCLUDE_DEPTH = 32;

    private final Path base;

    private ConfigParser(Path base) {
        this.base = base;
    }

    /**
     * Parses a configuration file and the files it includes.
     *
     * @throws ConfigException a syntax error, or {@code open() "FILE" failed (2: No such file or directory)}
     */
    public static List<Directive> parse(Path file) throws ConfigException {
        String text = read(file, null);
        Path dir = file.toAbsolutePath().getParent();
        return new ConfigParser(dir).parseText(text, file.toString(), 0);
    }

    /**
     * Parses configuration text. With a file name, the text is read as that file (messages name it,
     * includes are relative to its directory); with null, as a parameter such as a Config Admin
     * value: messages have no position and an unterminated last directive is
     * {@code unexpected end of parameter, expecting ";"}.
     */
    public static List<Directive> parse(String text, String fileName) throws ConfigException {
        Path dir = Path.of("").toAbsolutePath();
        if (fileName != null) {
            try {
                Path parent = Path.of(fileName).toAbsolutePath().getParent();
                dir = parent == null ? dir : parent;
            } catch (InvalidPathException e) {
                /* a name that is no path (a Config Admin PID): includes are relative to the working directory */
            }
        }
        return new ConfigParser(dir).parseText(text, fileName, 0);
    }

    private List<Directive> parseText(String text, String file, int depth) throws ConfigException {
        ConfigLexer lexer = new ConfigLexer(text, file, file == null);
        return block(lexer, false, depth);
    }

    private List<Directive> block(ConfigLexer lexer, boolean inBlock, int depth) throws ConfigException {
        List<Directive> out = new ArrayList<>();
        for (;;) {
            ConfigLexer.Token t = lexer.next();
            switch (t.kind()) {
            case EOF:
                if (inBlock) {
                    throw lexer.error("unexpected end of file, expecting \"}\"");
                }
                return out;
            case BLOCK_END:
                if (!inBlock) {
                    throw lexer.error("unexpected \"}\"");
                }
                return out;
            case DIRECTIVE: {
                Directive d = directive(t, null, lexer.file());
                if (d.name().equals("include")) {
                    out.addAll(include(d, depth));
                } else {
                    out.add(d);
                }
                break;
            }
            default: {
                String name = t.words().get(0);
                if (name.equals("include")) {
                    throw new ConfigException("directive \"include\" is not terminated by \";\"", lexer.file(),
                            t.line());
                }
                List<Directive> inner = block(lexer, true, depth);
                out.add(directive(t, inner, lexer.file()));
                break;
            }
            }
        }
    }

    private static Directive directive(ConfigLexer.Token t, List<Directive> inner, String file) {
        List<String> words = t.words();
        return new Directive(words.get(0), words.subList(1, words.size()), inner, file, t.line());
    }

    private List<Directive> include(Directive d, int depth) throws ConfigException {
        if (d.args().size() != 1) {
            throw d.error("invalid number of arguments in \"include\" directive");
        }
        if (depth >= MAX_INCLUDE_DEPTH) {
            throw d.error("too deep include nesting, more than " + MAX_INCLUDE_DEPTH + " levels");
        }
        String name = d.arg(0);
        Path path;
        try {
            path = base.resolve(name);
        } catch (InvalidPathException e) {
            throw d.error("open() \"" + name + "\" failed (22: Invalid argument)");
        }
        List<Path> files = IncludeGlob.isGlob(name) ? IncludeGlob.expand(path) : List.of(path);
        List<Directive> out = new ArrayList<>();
        for (Path p : files) {
            out.addAll(parseText(read(p, d), p.toString(), depth + 1));
        }
        return out;
    }

    /** Reads a file as nginx opens it, with nginx's error text; {@code at} is the include, or null. */
    private static String read(Path file, Directive at) throws ConfigException {
        String error;
        try {
            if (Files.isDirectory(file)) {
                error = "pread() \"" + file + "\" failed (21: Is a directory)";
            } else {
                return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
            }
        } catch (NoSuchFileException e) {
            error = "open() \"" + file + "\" failed (2: No such file or directory)";
        } catch (AccessDeniedException e) {
            error = "open() \"" + file + "\" failed (13: Permission denied)";
        } catch (IOException e) {
            error = "open() \"" + file + "\" failed (" + e.getMessage() + ")";
        }
        throw at == null ? new ConfigException(error) : at.error(error);
    }
}
