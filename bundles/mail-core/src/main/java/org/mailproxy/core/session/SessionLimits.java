package org.mailproxy.core.session;

import java.time.Duration;
import java.util.Objects;
import org.mailproxy.core.config.ServerConfig;

/**
 * The limits the core enforces on every session of a server, whatever its protocol.
 *
 * @param timeout      {@code timeout}: idle time allowed before the relay starts, and for connecting
 *                     and logging in to the backend
 * @param maxErrors    {@code max_errors}: the session closes after this many protocol errors
 * @param maxCommands  {@code max_commands}: the session closes after a command beyond this many
 * @param proxyBuffer  {@code proxy_buffer}: bytes read at a time and queued at most per relay direction
 * @param proxyTimeout {@code proxy_timeout}: idle time allowed while relaying
 */
public record SessionLimits(Duration timeout, int maxErrors, int maxCommands, int proxyBuffer, Duration proxyTimeout) {

    /** nginx's defaults: 60s, 5, 1000 (Angie), 4k, 24h. */
    public static final SessionLimits DEFAULTS =
            new SessionLimits(Duration.ofSeconds(60), 5, 1000, 4096, Duration.ofHours(24));

    public SessionLimits {
        requirePositive(timeout, "timeout");
        requirePositive(proxyTimeout, "proxy_timeout");
        if (maxErrors < 0 || maxCommands < 0) {
            throw new IllegalArgumentException("max_errors and max_commands must not be negative");
        }
        if (proxyBuffer < 1) {
            throw new IllegalArgumentException("proxy_buffer must be positive");
        }
    }

    /** The limits of a configured server: its effective timeout, max_errors, max_commands, proxy_buffer and proxy_timeout. */
    public static SessionLimits of(ServerConfig server) {
        Number proxyBuffer = server.get("proxy_buffer");
        return new SessionLimits(server.get("timeout"), server.<Number>get("max_errors").intValue(),
                server.<Number>get("max_commands").intValue(), Math.toIntExact(proxyBuffer.longValue()),
                server.get("proxy_timeout"));
    }

    private static void requirePositive(Duration value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive");
        }
    }
}
