package org.mailproxy.core.tls;

import org.apache.mina.core.session.IoSession;
import org.mailproxy.core.config.ListenSpec;
import org.mailproxy.core.session.ConnectionInitializer;
import org.mailproxy.core.session.MailServer;
import org.mailproxy.core.session.TlsSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link ConnectionInitializer} for TLS: on a {@code listen ... ssl} connection, TLS goes first
 * in the chain and the protocol's greeting waits for the handshake (nginx:
 * {@code ngx_mail_ssl_init_connection}).
 */
public final class TlsConnections implements ConnectionInitializer {

    private static final Logger LOG = LoggerFactory.getLogger(TlsConnections.class);

    @Override
    public void initialize(IoSession connection, ListenSpec listen, MailServer server) {
        if (!listen.ssl()) {
            return;
        }
        TlsSupport tls = server.tls();
        if (tls == null) {
            // a server with an ssl listen has TLS or is inactive; a server built by hand may lack it
            LOG.error("*{} no TLS for \"listen {} ssl\"; closing", connection.getId(), listen.addressText());
            connection.closeNow();
            return;
        }
        tls.secure(connection, true);
    }
}
