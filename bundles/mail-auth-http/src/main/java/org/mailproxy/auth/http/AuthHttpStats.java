package org.mailproxy.auth.http;

/**
 * Counters of the auth_http module since its component was activated.
 *
 * <p>One {@code authenticate} call makes one or more HTTP requests (more when the auth server
 * answers {@code WAIT}) and ends in exactly one of {@code ok}, {@code failed} or
 * {@code temporaryErrors}; {@code timeouts} is the part of {@code temporaryErrors} caused by
 * {@code auth_http_timeout}. Latency is measured per HTTP request, from connect to the end of the
 * response headers (or the failure).
 *
 * @param requests          HTTP requests started (WAIT re-sends included)
 * @param ok                logins accepted ({@code Auth-Status: OK} with a usable backend)
 * @param failed            logins refused (any other {@code Auth-Status} text)
 * @param waits             {@code Auth-Status: WAIT} answers
 * @param temporaryErrors   auth server unreachable, timed out or answering nonsense
 * @param timeouts          of which timed out
 * @param inFlight          authentications under way now
 * @param latencyCount      HTTP requests finished (with any outcome), the base of the two below
 * @param latencyTotalMicros sum of their durations, in microseconds
 * @param latencyMaxMicros  the longest, in microseconds
 */
public record AuthHttpStats(long requests, long ok, long failed, long waits, long temporaryErrors,
                            long timeouts, long inFlight, long latencyCount, long latencyTotalMicros,
                            long latencyMaxMicros) {

    /** Mean duration of a finished HTTP request in microseconds, 0 before the first one. */
    public long latencyMeanMicros() {
        return latencyCount == 0 ? 0 : latencyTotalMicros / latencyCount;
    }
}
