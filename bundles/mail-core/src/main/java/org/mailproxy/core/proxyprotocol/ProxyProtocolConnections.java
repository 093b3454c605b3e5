package org.mailproxy.core.proxyprotocol;

import org.apache.mina.core.session.IoSession;
import org.mailproxy.core.config.ListenSpec;
import org.mailproxy.core.session.ConnectionInitializer;
import org.mailproxy.core.session.MailServer;

/**
 * The {@link ConnectionInitializer} for {@code listen ... proxy_protocol}: puts a
 * {@link ProxyProtocolReader} first in the connection's chain. It must run after the initializers
 * that add their own first filters (TLS), so that the PROXY header is read before anything else
 * sees the bytes, as nginx reads it before the TLS handshake:
 * {@code ConnectionInitializer.inOrder(new TlsConnections(), new ProxyProtocolConnections())}.
 */
public final class ProxyProtocolConnections implements ConnectionInitializer {

    @Override
    public void initialize(IoSession connection, ListenSpec listen, MailServer server) {
        if (listen.proxyProtocol()) {
            connection.getFilterChain().addFirst(ProxyProtocolReader.NAME, new ProxyProtocolReader());
        }
    }
}
