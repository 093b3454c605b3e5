package org.mailproxy.core.admin;

/**
 * Counters of a server, a protocol or the whole proxy.
 *
 * @param name               server name, protocol name, or {@code total}
 * @param currentConnections sessions open now
 * @param totalConnections   sessions since the counters started
 * @param authOk             logins accepted by the authenticator
 * @param authFailed         logins refused (or abandoned while the authenticator was asked)
 * @param authTimeouts       logins the authenticator did not answer within its time limit
 *                           ({@code auth_http_timeout}); the client got a temporary error
 * @param errors             invalid commands and backend connect/login failures
 * @param bytesFromClients   bytes relayed client to backend (ended and running sessions)
 * @param bytesFromBackends  bytes relayed backend to client (ended and running sessions)
 */
public record TrafficStats(String name, long currentConnections, long totalConnections, long authOk, long authFailed,
                           long authTimeouts, long errors, long bytesFromClients, long bytesFromBackends) {
}
