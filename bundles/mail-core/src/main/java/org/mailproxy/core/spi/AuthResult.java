package org.mailproxy.core.spi;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * The auth server's answer, as nginx's auth_http module interprets it.
 *
 * <p>Either {@link Ok} (log in to {@code backend}, optionally with another user name or password),
 * or {@link Failure} (show {@code message} to the client; with {@code retryAfter} the client may try
 * again after that delay, without it the connection is closed after the error), or
 * {@link TemporaryError} (the auth server could not be asked: the protocol sends its canned
 * "temporary authentication failure" reply and closes). {@code WAIT} responses are handled inside
 * the authenticator and never reach a protocol.
 */
public sealed interface AuthResult {

    /**
     * Successful authentication.
     *
     * @param backend    Auth-Server and Auth-Port
     * @param user       the login for the backend (Auth-User), or null for the client's; like the
     *                   client's, its bytes one char per byte (ISO-8859-1), for the backend as they are
     * @param password   the password for the backend (Auth-Pass), or null for the client's; bytes as
     *                   {@code user}
     * @param backendTls {@code Auth-SSL-Backend} (this project's own header): TLS toward the backend
     *                   for this login, overriding the server's {@code proxy_ssl}; null when the auth
     *                   server did not say (the server's setting applies)
     */
    record Ok(InetSocketAddress backend, String user, String password, BackendTlsMode backendTls)
            implements AuthResult {
        public Ok {
            Objects.requireNonNull(backend, "backend");
        }

        /** Without an {@code Auth-SSL-Backend} override (the server's {@code proxy_ssl} applies). */
        public Ok(InetSocketAddress backend, String user, String password) {
            this(backend, user, password, null);
        }

        @Override
        public String toString() {
            return "Ok[backend=" + backend + ", user=" + user + (backendTls == null ? "" : ", tls=" + backendTls.word())
                    + "]";
        }
    }

    /**
     * Authentication refused.
     *
     * @param message    text for the client (Auth-Status)
     * @param retryAfter Auth-Wait: delay before the error is sent and the client may retry; null = close
     * @param errorCode  SMTP Auth-Error-Code (for example "451 4.3.0"), or null
     * @param saslError  Auth-Error-SASL challenge for xoauth2/oauthbearer (base64), or null
     */
    record Failure(String message, Duration retryAfter, String errorCode, String saslError) implements AuthResult {
        public Failure {
            Objects.requireNonNull(message, "message");
        }
    }

    /**
     * The auth server failed (unreachable, timed out, malformed answer).
     *
     * @param reason   what went wrong, for the log (never credentials)
     * @param timedOut whether the authenticator's own time limit ended it ({@code auth_http_timeout}),
     *                 counted per server as an auth timeout
     */
    record TemporaryError(String reason, boolean timedOut) implements AuthResult {

        /** A temporary error that is not a timeout. */
        public TemporaryError(String reason) {
            this(reason, false);
        }
    }
}
