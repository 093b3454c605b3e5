package org.mailproxy.core.session;

import org.apache.mina.core.session.IoSession;
import org.mailproxy.core.spi.BackendTlsMode;

/**
 * A server's TLS toward its backends, as the core's TLS code provides it from the
 * {@code proxy_ssl*} directives, set on the {@link MailServer} ({@link MailServer#setUpstreamTls}).
 * The session uses it for {@code proxy_ssl on} right after connect, and for STARTTLS when the
 * protocol's {@link BackendLogin} asks ({@link Backend#startTls}).
 */
public interface UpstreamTls {

    /** {@code proxy_ssl}: the server's mode when the auth server does not choose one. */
    BackendTlsMode mode();

    /** Puts TLS (client mode) first in the backend connection's chain; the handshake starts at once. */
    void secure(IoSession backend);

    /** {@code TLSv1.3 TLS_AES_128_GCM_SHA256} once the backend handshake is done, else null. */
    String describe(IoSession backend);
}
