package org.mailproxy.core.config;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One {@code filter=} rule of an {@code error_log}, as Angie's {@code ngx_log_add_filter()} and
 * {@code ngx_log_filter_set_rule()} read it: {@code PART:PATTERN} where PART is
 * {@code logline}, {@code message}, {@code tag} or a property name ({@link #FIELDS}), and
 * PATTERN is a substring, {@code =exact} or {@code ~regex} (searched, not anchored).
 */
public final class LogFilter {

    /** What a rule looks at. */
    public enum Part {
        /** The text line from the message on: message, error, action and context. */
        LOGLINE,
        /** The message as the log's format writes it (JSON: the escaped {@code "message":"..."}). */
        MESSAGE,
        /** Any one of the message's tags ({@code mail} and the server's {@code error_log_user_tag}). */
        TAG,
        /** One property of the message's context, raw (unescaped). */
        FIELD
    }

    /** How the pattern matches. */
    public enum Match { SUBSTRING, EXACT, REGEX }

    /** The properties a mail message can carry, by the names of the plain and JSON lines. */
    public static final List<String> FIELDS = List.of("client", "server", "login", "upstream");

    private final Part part;
    private final String field;
    private final Match match;
    private final String pattern;
    private final Pattern regex;

    private LogFilter(Part part, String field, Match match, String pattern) {
        this.part = part;
        this.field = field;
        this.match = match;
        this.pattern = pattern;
        this.regex = match == Match.REGEX ? Pattern.compile(pattern) : null;
    }

    public Part part() {
        return part;
    }

    /** The property name of a {@link Part#FIELD} rule, else null. */
    public String field() {
        return field;
    }

    public Match match() {
        return match;
    }

    public String pattern() {
        return pattern;
    }

    /** Whether {@code text} matches this rule's pattern. */
    public boolean matches(String text) {
        if (text == null) {
            return false;
        }
        return switch (match) {
            case SUBSTRING -> text.contains(pattern);
            case EXACT -> text.equals(pattern);
            case REGEX -> regex.matcher(text).find();
        };
    }

    /** Parses the value of {@code filter=} (without the prefix). */
    static LogFilter parse(String value, Directive d) throws ConfigException {
        int colon = value.indexOf(':');
        if (colon < 0) {
            throw d.error("missing filter type in \"" + value + "\"");
        }
        Part part;
        String field = null;
        String name = value.substring(0, colon);
        switch (name) {
            case "logline" -> part = Part.LOGLINE;
            case "message" -> part = Part.MESSAGE;
            case "tag" -> part = Part.TAG;
            case "sourcefile" -> throw d.error("source file filtering requires debug build");
            default -> {
                if (!FIELDS.contains(name)) {
                    throw d.error("error_log filter with unknown property \"" + name + "\" (known: logline, message, "
                            + "tag, " + String.join(", ", FIELDS) + ")");
                }
                part = Part.FIELD;
                field = name;
            }
        }
        String pattern = value.substring(colon + 1);
        Match match = Match.SUBSTRING;
        if (pattern.startsWith("=")) {
            match = Match.EXACT;
            pattern = pattern.substring(1);
        } else if (pattern.startsWith("~")) {
            match = Match.REGEX;
            pattern = pattern.substring(1);
        }
        if (pattern.isEmpty()) {
            throw d.error("empty filter pattern \"" + value + "\"");
        }
        try {
            return new LogFilter(part, field, match, pattern);
        } catch (PatternSyntaxException e) {
            throw d.error("invalid filter regex \"" + pattern + "\": " + e.getDescription());
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LogFilter f && part == f.part && Objects.equals(field, f.field) && match == f.match
                && pattern.equals(f.pattern);
    }

    @Override
    public int hashCode() {
        return Objects.hash(part, field, match, pattern);
    }

    @Override
    public String toString() {
        String prefix = switch (match) {
            case SUBSTRING -> "";
            case EXACT -> "=";
            case REGEX -> "~";
        };
        return "filter=" + (part == Part.FIELD ? field : part.name().toLowerCase(java.util.Locale.ROOT)) + ":" + prefix
                + pattern;
    }
}
