package org.mailproxy.auth.http;

/**
 * Counters of the auth_http module since its component was activated.
 *
 * <p>One {@code authenticate} call makes one or more HTTP requests (more when the auth server
 * answers {@code WAIT}) and ends in exactly one of {@code ok}, {@code failed} or
 * {@code temporaryErrors}; {@code timeouts} is the part of {@code temporaryErrors} caused by
 * {@code auth_http_timeout}. Latency is measured per HTTP request, from connect (or from taking a
 * kept-alive connection) to the end of the response headers (or the failure).
 *
 * <p>Each HTTP request goes on a new connection or on a kept-alive one ({@code auth_http_keepalive}):
 * {@code newConnections + reusedConnections} is {@code requests} plus {@code staleRetries}, once
 * nothing is under way (less when a connect failed, or a request ended before it had a connection).
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
 * @param newConnections    connections opened to auth servers (TCP and unix), retries included
 * @param reusedConnections requests sent on a kept-alive connection instead of a new one
 * @param staleRetries      requests sent again on a new connection because the kept-alive one they
 *                          were sent on turned out closed by the server before any answer
 * @param idleConnections   kept-alive connections idle now, all auth servers together
 */
public record AuthHttpStats(long requests, long ok, long failed, long waits, long temporaryErrors,
                            long timeouts, long inFlight, long latencyCount, long latencyTotalMicros,
                            long latencyMaxMicros, long newConnections, long reusedConnections,
                            long staleRetries, long idleConnections) {

    /** Mean duration of a finished HTTP request in microseconds, 0 before the first one. */
    public long latencyMeanMicros() {
        return latencyCount == 0 ? 0 : latencyTotalMicros / latencyCount;
    }
}
