package org.mailproxy.core.config;

import java.util.List;

/**
 * The value of one {@code error_log file [level];} (Angie lets {@code mail} and each mail server
 * have their own error logs).
 *
 * @param target the file, {@code stderr}, {@code syslog:...} or {@code memory:size} as written
 * @param level  {@code emerg alert crit error warn notice info debug}; {@code error} when not given,
 *               {@code debug} when only {@code debug_*} facilities are given
 */
public record ErrorLog(String target, String level) {

    /** The levels from the most to the least severe, as nginx's {@code err_levels[]}. */
    public static final List<String> LEVELS = List.of("emerg", "alert", "crit", "error", "warn", "notice", "info",
            "debug");

    /** The debug facilities nginx accepts instead of plain {@code debug}. */
    public static final List<String> DEBUG_LEVELS = List.of("debug_core", "debug_alloc", "debug_mutex",
            "debug_event", "debug_http", "debug_mail", "debug_stream");

    /** Parses {@code error_log} as {@code ngx_log_set_log()} reads its target and levels. */
    static ErrorLog parse(Directive d) throws ConfigException {
        String level = null;
        boolean debug = false;
        for (String word : d.args().subList(1, d.args().size())) {
            if (LEVELS.contains(word)) {
                if (level != null || debug) {
                    throw d.error("duplicate log level \"" + word + "\"");
                }
                level = word;
            } else if (DEBUG_LEVELS.contains(word)) {
                if (level != null) {
                    throw d.error("invalid log level \"" + word + "\"");
                }
                debug = true;
            } else if (level != null || debug) {
                throw d.error("invalid parameter \"" + word + "\"");
            } else {
                throw d.error("invalid log level \"" + word + "\"");
            }
        }
        return new ErrorLog(d.arg(0), level != null ? level : debug ? "debug" : "error");
    }
}
