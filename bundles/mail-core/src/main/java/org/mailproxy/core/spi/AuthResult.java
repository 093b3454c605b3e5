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

    /** Successful authentication. */
    record Ok(InetSocketAddress backend, String user, String password) implements AuthResult {
        public Ok {
            Objects.requireNonNull(backend, "backend");
        }

        @Override
        public String toString() {
            return "Ok[backend=" + backend + ", user=" + user + "]";
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
