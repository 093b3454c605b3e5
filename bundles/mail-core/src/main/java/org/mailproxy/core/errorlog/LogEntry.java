package org.mailproxy.core.errorlog;

import java.util.List;

/**
 * One message on its way to the error logs, split the way nginx keeps it apart while it builds a
 * line: the message itself, the system error, and the session's context and tags.
 *
 * @param connection the session number ({@code *42}), 0 for a message outside of sessions
 * @param errorCode  nginx's errno (110 for a timeout), 0 when none
 * @param errorText  the text of that error ({@code Connection timed out}), or null
 * @param context    the session context, or null outside of sessions
 * @param tags       {@code mail} and the server's {@code error_log_user_tag}s; empty outside of sessions
 * @param server     the name of the server whose session logged it, for routing; null outside of sessions
 */
public record LogEntry(long timeMillis, Severity level, long pid, long tid, long connection, String message,
                       int errorCode, String errorText, LogContext context, List<String> tags, String server) {

    public LogEntry {
        tags = List.copyOf(tags);
    }

    /** Whether the context is written: nginx's handler runs for every level but debug. */
    public boolean writesContext() {
        return context != null && level != Severity.DEBUG;
    }
}
