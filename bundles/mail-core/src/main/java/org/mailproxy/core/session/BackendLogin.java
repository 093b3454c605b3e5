package org.mailproxy.core.session;

import org.apache.mina.core.buffer.IoBuffer;

/**
 * The protocol's conversation with the backend before the relay (nginx: the
 * {@code ngx_mail_proxy_*_handler}s): wait for the greeting, log in (LOGIN, USER/PASS,
 * EHLO/XCLIENT/AUTH...), then call {@link MailSession#startRelay} with the bytes the client must
 * see first. Given to {@link MailSession#connectBackend}.
 *
 * <p>Calls are serialized with the session's other callbacks, as for
 * {@link org.mailproxy.core.spi.ProtocolHandler}. After {@code startRelay} or {@link #onClose} no
 * more calls come.
 */
public interface BackendLogin {

    /** Why the backend connection ended before the relay started. */
    enum Failure {
        /** connect() failed (refused, unreachable...). */
        CONNECT_FAILED,
        /** Connecting and logging in took longer than the server's {@code timeout}. */
        TIMED_OUT,
        /** The backend closed the connection, or it broke, during the login. */
        CLOSED,
        /**
         * TLS to the backend failed ({@code proxy_ssl}, {@code Auth-SSL-Backend}): the handshake
         * or the certificate check, or TLS was wanted and this server has none.
         */
        TLS_FAILED
    }

    /** Connected. Write the first command now, or wait for the greeting in {@link #onData}. */
    void onConnected(Backend backend);

    /**
     * Bytes from the backend, with the same rules as
     * {@link org.mailproxy.core.spi.ProtocolHandler#onData}: consumed bytes are the ones before the
     * buffer's position; the rest comes back first on the next call. When the login is done, pass
     * the bytes the client must get (typically the backend's last reply and whatever follows it,
     * which may be this very buffer) to {@link MailSession#startRelay}; the core then ignores what
     * is left in the buffer.
     */
    void onData(IoBuffer data);

    /**
     * The backend connection failed or ended before the relay. Write the protocol's error reply to
     * the client (nginx: its internal server error line); the core closes the session once it is
     * sent.
     */
    void onClose(Failure failure);
}
