package org.mailproxy.core.session;

import org.apache.mina.core.session.IoSession;
import org.mailproxy.core.config.ListenSpec;

/**
 * Prepares each accepted connection before its session starts: the place for the filters a listen
 * asks for, such as an SslFilter for {@code listen ... ssl} or a PROXY protocol reader for
 * {@code proxy_protocol}. Called on the connection's I/O thread from MINA's sessionCreated. A
 * filter that must read something first may hold back sessionOpened; the protocol's greeting
 * waits for it. A PROXY protocol reader sets the real client address with
 * {@link MailSession#setClientAddress} ({@link SessionManager#sessionOf} finds the session).
 */
@FunctionalInterface
public interface ConnectionInitializer {

    /**
     * @param connection the accepted connection
     * @param listen     the listen it came in on
     * @param server     the server that will serve it
     */
    void initialize(IoSession connection, ListenSpec listen, MailServer server);

    /**
     * One initializer that runs {@code initializers} in this order. Each one that puts its filter
     * first in the chain puts it before those of the earlier ones: list the one that must see the
     * bytes first (the PROXY protocol reader) last.
     */
    static ConnectionInitializer inOrder(ConnectionInitializer... initializers) {
        ConnectionInitializer[] all = initializers.clone();
        return (connection, listen, server) -> {
            for (ConnectionInitializer initializer : all) {
                if (connection.isClosing()) {
                    return;
                }
                initializer.initialize(connection, listen, server);
            }
        };
    }
}
