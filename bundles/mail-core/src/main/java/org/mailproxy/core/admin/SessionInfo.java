package org.mailproxy.core.admin;

/**
 * One open session.
 *
 * @param id               the session id ({@code *id} in log lines)
 * @param server           the {@link ServerInfo#name() name} of its server (its description when the
 *                         server's configuration changed since the session started)
 * @param protocol         {@code imap}, {@code pop3} or {@code smtp}
 * @param client           the client address, {@code 192.0.2.1:54321}
 * @param user             the login name given, or null before any login
 * @param state            {@code greeting}, {@code auth}, {@code backend login}, {@code relay} or {@code closed}
 * @param backend          the backend address once chosen, or null
 * @param bytesFromClient  bytes relayed from the client to the backend
 * @param bytesFromBackend bytes relayed from the backend to the client
 * @param ageMillis        milliseconds since the connection was accepted
 * @param tlsServerName    the host name the client asked for with TLS SNI, or null (no TLS, no SNI)
 */
public record SessionInfo(long id, String server, String protocol, String client, String user, String state,
                          String backend, long bytesFromClient, long bytesFromBackend, long ageMillis,
                          String tlsServerName) {

    /** A session without a TLS server name. */
    public SessionInfo(long id, String server, String protocol, String client, String user, String state,
                       String backend, long bytesFromClient, long bytesFromBackend, long ageMillis) {
        this(id, server, protocol, client, user, state, backend, bytesFromClient, bytesFromBackend, ageMillis, null);
    }
}
