package org.mailproxy.core.config;

import java.util.ArrayList;
import java.util.List;

/**
 * The tokenizer of nginx's {@code ngx_conf_read_token()}: reads the words of one directive up to
 * its {@code ;} or <code>&#123;</code>, or one <code>&#125;</code>, with nginx's quoting, escapes and error words.
 *
 * <p>Behaviour kept from nginx, quirks included: a word ends at white space, {@code ;} or
 * <code>&#123;</code>; {@code #} starts a comment only at the start of a word; a closing quote must be
 * followed by white space, {@code ;}, <code>&#123;</code> or {@code )}; inside a word <code>&#123;</code> right after
 * {@code $} belongs to the word ({@code "${var}"}); a backslash keeps the next character inside
 * the word, and when the word is built {@code \" \' \\ \t \r \n} are unescaped while any other
 * {@code \x} stays as written.
 */
final class ConfigLexer {

    /** nginx reads a configuration through a 4096-byte buffer; a longer word is an error. */
    static final int MAX_WORD = 4096;

    /** What ended a token. */
    enum Kind {
        /** Words ended by {@code ;}. */
        DIRECTIVE,
        /** Words ended by <code>&#123;</code>. */
        BLOCK_START,
        /** A <code>&#125;</code>. */
        BLOCK_END,
        /** End of the text; with {@link ConfigLexer#eofEndsWords} it may carry the last words. */
        EOF
    }

    /** The words read and the line of the character that ended them. */
    record Token(Kind kind, List<String> words, int line) {
    }

    private final String text;
    private final String file;
    private final boolean parameter;
    private boolean eofEndsWords;
    private int pos;
    private int line = 1;

    /**
     * @param text      the configuration text
     * @param file      its file name for messages, or null
     * @param parameter true when the text is a parameter rather than a file (nginx {@code -g}):
     *                  only the end-of-text message differs
     */
    ConfigLexer(String text, String file, boolean parameter) {
        this.text = text;
        this.file = file;
        this.parameter = parameter;
    }

    /** Lets the end of the text end the current words (used to split one directive's arguments). */
    ConfigLexer eofEndsWords() {
        this.eofEndsWords = true;
        return this;
    }

    int position() {
        return pos;
    }

    String file() {
        return file;
    }

    Token next() throws ConfigException {
        List<String> words = new ArrayList<>();
        boolean needSpace = false;
        boolean lastSpace = true;
        boolean sharpComment = false;
        boolean variable = false;
        boolean quoted = false;
        boolean sQuoted = false;
        boolean dQuoted = false;
        int start = pos;
        int startLine = line;

        for (;;) {
            if (pos >= text.length()) {
                return endOfText(words, lastSpace, needSpace, quoted || sQuoted || dQuoted, start);
            }

            if (!lastSpace && !needSpace && pos - start >= MAX_WORD) {
                throw tooLong(start, startLine, dQuoted, sQuoted);
            }

            char ch = text.charAt(pos++);

            if (ch == '\n') {
                line++;
                sharpComment = false;
            }

            if (sharpComment) {
                continue;
            }

            if (quoted) {
                quoted = false;
                continue;
            }

            if (needSpace) {
                if (isSpace(ch)) {
                    lastSpace = true;
                    needSpace = false;
                    continue;
                }
                if (ch == ';') {
                    return token(Kind.DIRECTIVE, words);
                }
                if (ch == '{') {
                    return token(Kind.BLOCK_START, words);
                }
                if (ch != ')') {
                    throw error("unexpected \"" + ch + "\"");
                }
                /* "if ($a = "b")": the ")" starts the next word */
                lastSpace = true;
                needSpace = false;
            }

            if (lastSpace) {
                if (isSpace(ch)) {
                    continue;
                }

                start = pos - 1;
                startLine = line;

                switch (ch) {
                case ';':
                case '{':
                    if (words.isEmpty()) {
                        throw error("unexpected \"" + ch + "\"");
                    }
                    return token(ch == '{' ? Kind.BLOCK_START : Kind.DIRECTIVE, words);

                case '}':
                    if (!words.isEmpty()) {
                        throw error("unexpected \"}\"");
                    }
                    return token(Kind.BLOCK_END, words);

                case '#':
                    sharpComment = true;
                    continue;

                case '\\':
                    quoted = true;
                    lastSpace = false;
                    continue;

                case '"':
                    start++;
                    dQuoted = true;
                    lastSpace = false;
                    continue;

                case '\'':
                    start++;
                    sQuoted = true;
                    lastSpace = false;
                    continue;

                default:
                    lastSpace = false;
                    continue;
                }
            }

            if (ch == '{' && variable) {
                continue;
            }
            variable = false;

            if (ch == '\\') {
                quoted = true;
                continue;
            }
            if (ch == '$') {
                variable = true;
                continue;
            }

            boolean found = false;
            if (dQuoted) {
                if (ch == '"') {
                    dQuoted = false;
                    needSpace = true;
                    found = true;
                }
            } else if (sQuoted) {
                if (ch == '\'') {
                    sQuoted = false;
                    needSpace = true;
                    found = true;
                }
            } else if (isSpace(ch) || ch == ';' || ch == '{') {
                lastSpace = true;
                found = true;
            }

            if (found) {
                words.add(unescape(text, start, pos - 1));
                if (ch == ';') {
                    return token(Kind.DIRECTIVE, words);
                }
                if (ch == '{') {
                    return token(Kind.BLOCK_START, words);
                }
            }
        }
    }

    private Token endOfText(List<String> words, boolean lastSpace, boolean needSpace, boolean inQuote,
                            int start) throws ConfigException {
        if (eofEndsWords && !inQuote) {
            if (!lastSpace && !needSpace) {
                words.add(unescape(text, start, pos));
            }
            return token(Kind.EOF, words);
        }
        if (!words.isEmpty() || !lastSpace) {
            if (parameter) {
                throw error("unexpected end of parameter, expecting \";\"");
            }
            throw error("unexpected end of file, expecting \";\" or \"}\"");
        }
        return token(Kind.EOF, words);
    }

    private ConfigException tooLong(int start, int startLine, boolean dQuoted, boolean sQuoted) {
        line = startLine;
        if (dQuoted || sQuoted) {
            return error("too long parameter, probably missing terminating \"" + (dQuoted ? '"' : '\'')
                    + "\" character");
        }
        return error("too long parameter \"" + text.substring(start, start + 10) + "...\" started");
    }

    private Token token(Kind kind, List<String> words) {
        return new Token(kind, List.copyOf(words), line);
    }

    ConfigException error(String reason) {
        return new ConfigException(reason, file, line);
    }

    private static boolean isSpace(char ch) {
        return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
    }

    /** Builds a word from its raw characters as nginx does: only six escapes are special. */
    static String unescape(String text, int from, int to) {
        StringBuilder word = new StringBuilder(to - from);
        int i = from;
        while (i < to) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length()) {
                char n = text.charAt(i + 1);
                switch (n) {
                case '"':
                case '\'':
                case '\\':
                    word.append(n);
                    i += 2;
                    continue;
                case 't':
                    word.append('\t');
                    i += 2;
                    continue;
                case 'r':
                    word.append('\r');
                    i += 2;
                    continue;
                case 'n':
                    word.append('\n');
                    i += 2;
                    continue;
                default:
                    break;
                }
            }
            word.append(c);
            i++;
        }
        return word.toString();
    }
}
