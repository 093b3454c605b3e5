package org.mailproxy.core.session;

import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.MDC;

/**
 * Logs a session's message the way nginx's mail module does ({@code ngx_log_error(level, c->log,
 * err, ...)} with the session's {@code log->action}), so that the error logs can write it as
 * nginx and Angie do: {@code *7 client timed out (110: Connection timed out) while in auth state}
 * goes to the platform log as that text, and the parts (nginx level, action, system error) travel
 * in the logging context for the core's error logs, which add the client, server and login and
 * write plain or JSON lines. Not for the relay's per-packet path: it is meant for events.
 *
 * <p>Never pass a password, an AUTH payload or an Auth-Pass in {@code message}.
 */
public final class MailLog {

    /** Logging-context key: nginx's level when SLF4J has none for it (notice, crit, alert, emerg). */
    public static final String LEVEL = "mail.level";
    /** Logging-context key: nginx's {@code log->action} ("in http auth state"). */
    public static final String ACTION = "mail.action";
    /** Logging-context key: the system error number nginx adds ({@code 110}). */
    public static final String ERRNO = "mail.errno";
    /** Logging-context key: that error's text ({@code Connection timed out}). */
    public static final String ERRTEXT = "mail.errtext";

    /** nginx's actions of the mail module, as its error lines name them after "while". */
    public static final String AUTH_STATE = "in auth state";
    public static final String HTTP_AUTH_STATE = "in http auth state";
    public static final String CONNECTING_UPSTREAM = "connecting to upstream";
    public static final String READING_UPSTREAM = "reading response from upstream";
    public static final String PROXYING = "proxying";

    /** Linux's ETIMEDOUT, which nginx logs with its timeouts. */
    public static final int ETIMEDOUT = 110;
    public static final String ETIMEDOUT_TEXT = "Connection timed out";
    /** Linux's ECONNREFUSED, which nginx logs when a backend refuses the connection. */
    public static final int ECONNREFUSED = 111;
    public static final String ECONNREFUSED_TEXT = "Connection refused";

    private MailLog() {
    }

    /** Logs {@code *session message while action} at nginx's {@code level}. */
    public static void log(Logger log, String level, long session, String action, String message) {
        log(log, level, session, action, 0, null, message);
    }

    /** nginx's {@code ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT, "<who> timed out")}. */
    public static void timedOut(Logger log, long session, String who, String action) {
        log(log, "info", session, action, ETIMEDOUT, ETIMEDOUT_TEXT, who + " timed out");
    }

    /**
     * Logs {@code *session message (errno: errtext) while action} at nginx's {@code level}
     * ({@code debug info notice warn error crit alert emerg}).
     */
    public static void log(Logger log, String level, long session, String action, int errno, String errtext,
                           String message) {
        if (!enabled(log, level)) {
            return;
        }
        StringBuilder text = new StringBuilder(message.length() + 64);
        if (session > 0) {
            text.append('*').append(session).append(' ');
        }
        text.append(message);
        Map<String, String> context = new HashMap<>();
        if (errno != 0) {
            text.append(" (").append(errno).append(": ").append(errtext).append(')');
            context.put(ERRNO, Integer.toString(errno));
            context.put(ERRTEXT, errtext);
        }
        if (action != null) {
            text.append(" while ").append(action);
            context.put(ACTION, action);
        }
        context.put(LEVEL, level);
        Map<String, String> previous = new HashMap<>();
        for (Map.Entry<String, String> e : context.entrySet()) {
            previous.put(e.getKey(), MDC.get(e.getKey()));
            MDC.put(e.getKey(), e.getValue());
        }
        try {
            emit(log, level, text.toString());
        } finally {
            for (Map.Entry<String, String> e : previous.entrySet()) {
                if (e.getValue() == null) {
                    MDC.remove(e.getKey());
                } else {
                    MDC.put(e.getKey(), e.getValue());
                }
            }
        }
    }

    private static boolean enabled(Logger log, String level) {
        return switch (level) {
            case "debug" -> log.isDebugEnabled();
            case "info", "notice" -> log.isInfoEnabled();
            case "warn" -> log.isWarnEnabled();
            default -> log.isErrorEnabled();
        };
    }

    /** SLF4J's level for nginx's: notice is INFO, crit, alert and emerg are ERROR. */
    private static void emit(Logger log, String level, String text) {
        switch (level) {
            case "debug" -> log.debug(text);
            case "info", "notice" -> log.info(text);
            case "warn" -> log.warn(text);
            case "error", "crit", "alert", "emerg" -> log.error(text);
            default -> throw new IllegalArgumentException("not an nginx level: " + level);
        }
    }
}
