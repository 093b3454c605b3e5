package org.mailproxy.core.errorlog;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Angie's {@code format=json} line ({@code ngx_log_create_json_message()}), one object a line:
 * <pre>
 * {"time":"2026-11-26T00:02:03.123Z","level":"info","pid":4242,"tid":57,"connection":7,
 *  "message":"client login failed: \"Invalid login\"","mail":{"action":"in http auth state",
 *  "client":"127.0.0.1:54321","server":"127.0.0.1:1143","login":"alice"},"tags":["mail","srv1"]}
 * </pre>
 * {@code connection} only for a session's message, {@code error} only with a system error,
 * {@code mail} only with a session's context (not for debug messages, as in Angie), {@code tags}
 * only when there are some. A line longer than {@value PlainLayout#MAX} characters gets its
 * message cut and {@code "truncated":true}, and stays valid JSON.
 */
public final class JsonLayout {

    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss")
            .withZone(ZoneOffset.UTC);

    private JsonLayout() {
    }

    /** The whole line, without the newline. */
    public static String line(LogEntry e) {
        String message = e.message();
        String line = build(e, message, false);
        if (line.length() <= PlainLayout.MAX) {
            return line;
        }
        do {
            int excess = Math.max(1, line.length() - PlainLayout.MAX);
            message = message.substring(0, Math.max(0, message.length() - excess));
            line = build(e, message, true);
        } while (line.length() > PlainLayout.MAX && !message.isEmpty());
        return line;
    }

    /** What {@code filter=message:} looks at in a JSON log: the escaped {@code "message":"..."}. */
    public static String messageKeyValue(LogEntry e) {
        StringBuilder out = new StringBuilder(e.message().length() + 16).append("\"message\":");
        Json.string(out, e.message());
        return out.toString();
    }

    private static String build(LogEntry e, String message, boolean truncated) {
        StringBuilder out = new StringBuilder(256).append('{');
        out.append("\"time\":\"").append(time(e.timeMillis())).append('"');
        out.append(",\"level\":\"").append(e.level().word()).append('"');
        out.append(",\"pid\":").append(e.pid());
        out.append(",\"tid\":").append(e.tid());
        if (e.connection() != 0) {
            out.append(",\"connection\":").append(e.connection());
        }
        out.append(",\"message\":");
        Json.string(out, message);
        if (e.errorCode() != 0) {
            out.append(",\"error\":{\"code\":").append(e.errorCode()).append(",\"message\":");
            Json.string(out, e.errorText());
            out.append('}');
        }
        if (e.writesContext()) {
            LogContext c = e.context();
            out.append(",\"mail\":{");
            int start = out.length();
            field(out, start, "action", c.action());
            field(out, start, "client", c.clientWithPort());
            field(out, start, "server", c.server());
            field(out, start, "login", c.login() == null || c.login().isEmpty() ? null : c.login());
            field(out, start, "upstream", c.upstream());
            out.append('}');
        }
        if (!e.tags().isEmpty()) {
            out.append(",\"tags\":[");
            for (int i = 0; i < e.tags().size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                Json.string(out, e.tags().get(i));
            }
            out.append(']');
        }
        if (truncated) {
            out.append(",\"truncated\":true");
        }
        return out.append('}').toString();
    }

    private static void field(StringBuilder out, int start, String key, String value) {
        if (value == null) {
            return;
        }
        if (out.length() > start) {
            out.append(',');
        }
        out.append('"').append(key).append("\":");
        Json.string(out, value);
    }

    /** ISO 8601 in UTC with milliseconds, which Angie leaves out when they are 0. */
    static String time(long millis) {
        String seconds = SECONDS.format(Instant.ofEpochMilli(millis));
        long ms = Math.floorMod(millis, 1000L);
        return ms == 0 ? seconds + "Z" : seconds + String.format(java.util.Locale.ROOT, ".%03dZ", ms);
    }
}
