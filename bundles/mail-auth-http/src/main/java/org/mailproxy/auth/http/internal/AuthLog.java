package org.mailproxy.auth.http.internal;

import org.mailproxy.core.spi.AuthRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The module's log lines, worded as nginx's error log words them:
 * {@code *12 auth http server 127.0.0.1:9000 timed out while in http auth state, client:
 * 192.0.2.1, server: 0.0.0.0:143, login: "alice"}.
 *
 * <p>Only the login appears, escaped like Auth-User so that it cannot forge log lines; never a
 * password, an Auth-Pass, a salt or digest, or the request bytes. Tests replace the sink.
 */
class AuthLog {

    private static final Logger LOG = LoggerFactory.getLogger(AuthHttpModule.class);

    /** An error about the auth server (nginx {@code NGX_LOG_ERR}). */
    void error(String line) {
        LOG.error(line);
    }

    /** A refused login (nginx {@code NGX_LOG_INFO}). */
    void info(String line) {
        LOG.info(line);
    }

    /** {@code *id message while in http auth state, client: ..., server: ..., login: "..."}. */
    static String line(AuthRequest r, String message) {
        StringBuilder out = new StringBuilder(128);
        if (r.sessionId() > 0) {
            out.append('*').append(r.sessionId()).append(' ');
        }
        out.append(message).append(" while in http auth state, client: ").append(InetText.host(r.client()));
        if (r.local() != null) {
            out.append(", server: ").append(InetText.hostPort(r.local()));
        }
        if (!r.user().isEmpty()) {
            out.append(", login: \"").append(Escape.forLog(r.user())).append('"');
        }
        return out.toString();
    }
}
