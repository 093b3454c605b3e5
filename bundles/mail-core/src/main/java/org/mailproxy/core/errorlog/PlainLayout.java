package org.mailproxy.core.errorlog;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * nginx's error log line ({@code ngx_log_create_message()} and {@code ngx_mail_log_error()}):
 * <pre>
 * 2026/11/26 01:02:03 [info] 4242#57: *7 client login failed: "Invalid login" while in http auth state, client: 127.0.0.1, server: 127.0.0.1:1143, login: "alice"
 * </pre>
 * The time is local, the line is cut at {@value #MAX} characters as nginx's buffer cuts it.
 */
public final class PlainLayout {

    /** nginx's {@code NGX_MAX_ERROR_STR}, the line without its newline. */
    public static final int MAX = 2047;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy/MM/dd HH:mm:ss");

    private PlainLayout() {
    }

    /** The whole line, without the newline. */
    public static String line(LogEntry e, ZoneId zone) {
        StringBuilder out = new StringBuilder(160);
        out.append(TIME.format(Instant.ofEpochMilli(e.timeMillis()).atZone(zone)));
        out.append(" [").append(e.level().word()).append("] ");
        out.append(e.pid()).append('#').append(e.tid()).append(": ");
        if (e.connection() != 0) {
            out.append('*').append(e.connection()).append(' ');
        }
        out.append(logline(e));
        return out.length() > MAX ? out.substring(0, MAX) : out.toString();
    }

    /** What Angie's {@code filter=logline:} looks at: the line from the message on. */
    public static String logline(LogEntry e) {
        StringBuilder out = new StringBuilder(e.message().length() + 80).append(e.message());
        if (e.errorCode() != 0) {
            out.append(" (").append(e.errorCode()).append(": ").append(e.errorText()).append(')');
        }
        if (e.writesContext()) {
            LogContext c = e.context();
            if (c.action() != null) {
                out.append(" while ").append(c.action());
            }
            if (c.client() != null) {
                out.append(", client: ").append(c.client());
            }
            if (c.server() != null) {
                out.append(", server: ").append(c.server());
                if (c.login() != null && !c.login().isEmpty()) {
                    out.append(", login: \"");
                    escape(out, c.login());
                    out.append('"');
                    if (c.upstream() != null) {
                        out.append(", upstream: ").append(c.upstream());
                    }
                }
            }
        }
        return out.toString();
    }

    /** A login as a quoted value: a quote, a backslash or a control character cannot forge the line. */
    private static void escape(StringBuilder out, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < ' ' || c == 0x7f || c == '"' || c == '\\') {
                out.append(String.format(java.util.Locale.ROOT, "\\x%02X", (int) c));
            } else {
                out.append(c);
            }
        }
    }
}
