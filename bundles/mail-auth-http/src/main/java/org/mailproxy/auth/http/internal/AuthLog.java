package org.mailproxy.auth.http.internal;

import java.nio.charset.StandardCharsets;
import org.mailproxy.core.session.MailLog;
import org.mailproxy.core.spi.AuthRequest;
import org.mailproxy.core.util.InetText;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The module's log lines, worded as nginx's error log words them:
 * {@code *12 auth http server 127.0.0.1:9000 timed out while in http auth state, client:
 * 192.0.2.1, server: 0.0.0.0:143, login: "alice"}.
 *
 * <p>The message goes out through the core's {@link MailLog} with the action {@value #ACTION}: the
 * core's error logs add the client, server and login of the session (plain or JSON), as nginx's
 * mail log handler does. Only the login appears, escaped like Auth-User so that it cannot forge
 * log lines; never a password, an Auth-Pass, a salt or digest, or the request bytes. Tests
 * replace {@link #write} and read {@link #line}.
 */
class AuthLog {

    /** nginx's {@code log->action} while the auth_http request runs. */
    static final String ACTION = "in http auth state";
    private static final Logger LOG = LoggerFactory.getLogger(AuthHttpModule.class);

    /** An error about the auth server (nginx {@code NGX_LOG_ERR}). */
    final void error(AuthRequest r, String message) {
        write("error", r, 0, message);
    }

    /** The auth server did not answer in time (nginx {@code NGX_LOG_ERR} with {@code NGX_ETIMEDOUT}). */
    final void timedOut(AuthRequest r, String message) {
        write("error", r, MailLog.ETIMEDOUT, message);
    }

    /** A refused login (nginx {@code NGX_LOG_INFO}). */
    final void info(AuthRequest r, String message) {
        write("info", r, 0, message);
    }

    void write(String level, AuthRequest r, int errno, String message) {
        MailLog.log(LOG, level, r.sessionId(), ACTION, errno, errno == 0 ? null : MailLog.ETIMEDOUT_TEXT, message);
    }

    /** {@code *id message while in http auth state, client: ..., server: ..., login: "..."}. */
    static String line(AuthRequest r, String message) {
        return line(r, 0, message);
    }

    /** The same with nginx's {@code (110: Connection timed out)} after the message when errno is ETIMEDOUT. */
    static String line(AuthRequest r, int errno, String message) {
        StringBuilder out = new StringBuilder(128);
        if (r.sessionId() > 0) {
            out.append('*').append(r.sessionId()).append(' ');
        }
        out.append(message);
        if (errno != 0) {
            out.append(" (").append(errno).append(": ").append(MailLog.ETIMEDOUT_TEXT).append(')');
        }
        out.append(" while ").append(ACTION).append(", client: ").append(InetText.host(r.client()));
        if (r.local() != null) {
            out.append(", server: ").append(InetText.hostPort(r.local()));
        }
        if (!r.user().isEmpty()) {
            // the login's bytes (one char per byte in the request) shown as UTF-8, control bytes escaped
            String login = new String(r.user().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            out.append(", login: \"").append(Escape.forLog(login)).append('"');
        }
        return out.toString();
    }
}
