package org.mailproxy.core.errorlog;

import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;
import org.mailproxy.core.session.MailLog;
import org.mailproxy.core.session.MailSession;

/**
 * Turns a logged event into a {@link LogEntry}: the nginx level (from the logging context, else
 * from the platform level), the session number of an {@code *N } prefix, the action and system
 * error that {@link MailLog} appended to the text and put into the logging context, and the
 * session's server, tags and context, looked up by the session number.
 */
public final class EntryFactory {

    private final long pid = ProcessHandle.current().pid();
    private final LongFunction<SessionFacts> sessions;

    public EntryFactory(LongFunction<SessionFacts> sessions) {
        this.sessions = sessions;
    }

    /**
     * @param platformLevel the SLF4J/Log4j level name ({@code ERROR WARN INFO DEBUG TRACE})
     * @param mdc           the event's logging context
     * @param throwable     the event's throwable as text lines, or null
     */
    public LogEntry entry(long timeMillis, String platformLevel, String text, Map<String, ?> mdc, String[] throwable,
                          long tid) {
        Severity level = Severity.of(string(mdc, MailLog.LEVEL));
        if (level == null) {
            level = fromPlatform(platformLevel);
        }
        String message = text == null ? "" : text;
        long connection = 0;
        if (message.startsWith("*")) {
            int space = message.indexOf(' ');
            if (space > 1 && message.substring(1, space).chars().allMatch(Character::isDigit)) {
                connection = Long.parseLong(message.substring(1, space));
                message = message.substring(space + 1);
            }
        }
        String action = string(mdc, MailLog.ACTION);
        if (action != null && message.endsWith(" while " + action)) {
            message = message.substring(0, message.length() - " while ".length() - action.length());
        }
        int errno = 0;
        String errtext = string(mdc, MailLog.ERRTEXT);
        String errnoText = string(mdc, MailLog.ERRNO);
        if (errnoText != null && errtext != null) {
            String suffix = " (" + errnoText + ": " + errtext + ")";
            if (message.endsWith(suffix)) {
                message = message.substring(0, message.length() - suffix.length());
                errno = Integer.parseInt(errnoText);
            }
        }
        if (throwable != null && throwable.length > 0 && !message.contains(throwable[0])) {
            message = message + " (" + throwable[0] + ")";
        }
        SessionFacts facts = connection == 0 ? null : sessions.apply(connection);
        String server = facts != null ? facts.server() : string(mdc, MailSession.MDC_SERVER);
        LogContext context = facts == null ? null : facts.context().withAction(action);
        List<String> tags = facts == null ? List.of() : facts.tags();
        return new LogEntry(timeMillis, level, pid, tid, connection, message, errno, errno == 0 ? null : errtext,
                context, tags, server);
    }

    static Severity fromPlatform(String level) {
        if (level == null) {
            return Severity.INFO;
        }
        return switch (level.toUpperCase(java.util.Locale.ROOT)) {
            case "FATAL" -> Severity.EMERG;
            case "ERROR" -> Severity.ERROR;
            case "WARN", "WARNING" -> Severity.WARN;
            case "DEBUG", "TRACE" -> Severity.DEBUG;
            default -> Severity.INFO;
        };
    }

    private static String string(Map<String, ?> mdc, String key) {
        Object value = mdc == null ? null : mdc.get(key);
        return value == null ? null : value.toString();
    }
}
