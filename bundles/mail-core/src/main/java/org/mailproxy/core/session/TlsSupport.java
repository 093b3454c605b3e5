package org.mailproxy.core.session;

import org.apache.mina.core.session.IoSession;
import org.mailproxy.core.spi.AuthRequest;

/**
 * A server's TLS, as the core's TLS code provides it (nginx: the server's {@code ngx_ssl_t}):
 * built at configuration time from the {@code ssl_*} directives and set on the {@link MailServer}
 * ({@link MailServer#setTls}). The session uses it for {@code listen ... ssl} and STARTTLS.
 */
public interface TlsSupport {

    /**
     * Puts TLS first in the connection's filter chain; the handshake starts with the client's
     * hello. With {@code holdOpen} (implicit TLS) the session's start, and so the greeting, waits
     * for the handshake; a client whose certificate fails {@code ssl_verify_client} then gets the
     * protocol's certificate error instead, as with nginx.
     */
    void secure(IoSession connection, boolean holdOpen);

    /** Whether TLS is in the connection's chain (handshake done or running). */
    boolean isSecure(IoSession connection);

    /** The Auth-SSL-* details of a connection whose handshake is done, else null. */
    AuthRequest.TlsInfo info(IoSession connection);

    /**
     * The host name the client asked for with SNI on a connection whose handshake is done, else
     * null (no TLS, no SNI). Shown with the session ({@code mail:sessions}); not sent to the auth
     * server, as nginx sends no such header.
     */
    default String serverName(IoSession connection) {
        return null;
    }

    /** Handshakes that failed since this server's TLS was built. */
    long failedHandshakes();
}
