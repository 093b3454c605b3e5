package org.mailproxy.core.config;

import java.util.ArrayList;
import java.util.List;

/**
 * The value of one {@code error_log} directive, in {@code main}, {@code mail} or {@code server}
 * context, as Angie reads it ({@code ngx_log_set_log()} and {@code ngx_log_set_params()}):
 * {@code error_log file|stderr|syslog:... [level] [format=json|default] [filter=...]...}.
 *
 * @param target  the file, {@code stderr} or {@code syslog:...} as written
 * @param level   {@code emerg alert crit error warn notice info debug}; {@code error} when not
 *                given, {@code debug} when only {@code debug_*} facilities are given. A log takes
 *                messages of its level and of every more severe level
 * @param json    {@code format=json}: Angie's JSON lines instead of nginx's text lines
 * @param filters the {@code filter=} rules; a message is written only when all of them match
 * @param syslog  the parsed {@code syslog:} parameters, or null for a file or stderr
 */
public record ErrorLog(String target, String level, boolean json, List<LogFilter> filters, SyslogTarget syslog) {

    /** The levels from the most to the least severe, as nginx's {@code err_levels[]}. */
    public static final List<String> LEVELS = List.of("emerg", "alert", "crit", "error", "warn", "notice", "info",
            "debug");

    /** The debug facilities nginx accepts instead of plain {@code debug}. */
    public static final List<String> DEBUG_LEVELS = List.of("debug_core", "debug_alloc", "debug_mutex",
            "debug_event", "debug_http", "debug_mail", "debug_stream");

    public ErrorLog {
        filters = List.copyOf(filters);
    }

    /** A plain-text log to a file or stderr without filters. */
    public ErrorLog(String target, String level) {
        this(target, level, false, List.of(), null);
    }

    /** Parses {@code error_log} as Angie reads its target and parameters. */
    static ErrorLog parse(Directive d) throws ConfigException {
        String target = d.arg(0);
        SyslogTarget syslog = null;
        if (target.startsWith("syslog:")) {
            syslog = SyslogTarget.parse(target.substring("syslog:".length()), d);
        } else if (target.startsWith("memory:")) {
            // nginx and Angie build the cyclic memory buffer only with --with-debug
            throw d.error("memory error logs are not supported by this build (use a file, stderr or syslog:)");
        }
        String level = null;
        boolean debug = false;
        Boolean json = null;
        List<LogFilter> filters = new ArrayList<>();
        for (String word : d.args().subList(1, d.args().size())) {
            if (word.startsWith("filter=")) {
                filters.add(LogFilter.parse(word.substring("filter=".length()), d));
            } else if (word.startsWith("format=")) {
                if (json != null) {
                    throw d.error("duplicate format= parameter (\"" + word.substring("format=".length()) + "\")");
                }
                json = format(word.substring("format=".length()), d);
            } else if (LEVELS.contains(word)) {
                if (level != null || debug) {
                    throw d.error("duplicate log level \"" + word + "\"");
                }
                level = word;
            } else if (DEBUG_LEVELS.contains(word)) {
                if (level != null) {
                    throw d.error("invalid log level \"" + word + "\"");
                }
                debug = true;
            } else if (word.startsWith("rate=")) {
                throw d.error("\"rate=\" of \"error_log\" is not supported by this build");
            } else if (level != null || debug) {
                throw d.error("invalid parameter \"" + word + "\"");
            } else {
                throw d.error("invalid log level \"" + word + "\"");
            }
        }
        return new ErrorLog(target, level != null ? level : debug ? "debug" : "error", json != null && json,
                filters, syslog);
    }

    private static boolean format(String name, Directive d) throws ConfigException {
        return switch (name) {
            case "json" -> true;
            case "default" -> false;
            default -> throw d.error("unknown log format \"" + name + "\"");
        };
    }
}
