package org.mailproxy.core.session;

import java.net.InetSocketAddress;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.session.IoSession;

/** The backend connection during a {@link BackendLogin}: where it goes and how to write to it. */
public final class Backend {

    private final IoSession connection;
    private final MailSession session;

    Backend(IoSession connection, MailSession session) {
        this.connection = connection;
        this.session = session;
    }

    /**
     * Whether the login must switch this connection to TLS with the protocol's STARTTLS (IMAP,
     * SMTP) or STLS (POP3) before it logs in: {@code proxy_ssl starttls}, or the auth server's
     * {@code Auth-SSL-Backend: starttls}. Send the command after the greeting (SMTP: after EHLO),
     * and on the positive reply call {@link #startTls()}; a refusal fails the login as a backend
     * that cannot be reached does (nginx's internal server error for the client).
     */
    public boolean mustStartTls() {
        return session.backendTlsMode() == org.mailproxy.core.spi.BackendTlsMode.STARTTLS && !isSecure();
    }

    /** Whether TLS runs on this connection (implicit TLS, or after {@link #startTls()}). */
    public boolean isSecure() {
        return session.isBackendSecure(connection);
    }

    /**
     * Starts TLS on this connection, after the backend's positive reply to STARTTLS/STLS: the
     * handshake runs at once, and what is written from now on goes encrypted once it is done.
     * Bytes the backend sent after that reply, in clear, must be dropped by the caller (a
     * man in the middle could inject them). A failed handshake or certificate check ends the login
     * with {@link BackendLogin.Failure#TLS_FAILED}.
     */
    public void startTls() {
        session.startBackendTls(connection);
    }

    /** The backend's address. */
    public InetSocketAddress remoteAddress() {
        return (InetSocketAddress) connection.getRemoteAddress();
    }

    /** The proxy's side of the connection. */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) connection.getLocalAddress();
    }

    /** Sends bytes; the array is sent as it is later, so it must not change afterwards. */
    public void write(byte[] bytes) {
        Bytes.write(connection, bytes);
    }

    /** Sends text, UTF-8 encoded (ASCII for mail commands). */
    public void write(CharSequence text) {
        Bytes.write(connection, text);
    }

    /** Sends the remaining bytes of a buffer, which then belongs to the connection. */
    public void write(IoBuffer data) {
        Bytes.write(connection, data);
    }
}
