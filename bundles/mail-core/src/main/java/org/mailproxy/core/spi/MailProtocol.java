package org.mailproxy.core.spi;

import org.mailproxy.core.session.MailSession;

/**
 * A mail protocol (imap, pop3, smtp), the Java form of nginx's {@code ngx_mail_protocol_t}: its
 * name, the ports that select it when a server has no {@code protocol} directive, its directives,
 * and a factory for the state machine that talks to one client. Each protocol bundle registers one
 * as a Declarative Services component; the core never switches on the protocol.
 *
 * <p>While a protocol's service is absent its servers are inactive; sessions it already handed
 * over to the relay ({@link MailSession#startRelay}) keep running without it.
 */
public interface MailProtocol extends MailModule {

    /** The protocol name as written in the {@code protocol} directive: {@code "imap"}, {@code "pop3"}, {@code "smtp"}. */
    @Override
    String name();

    /**
     * The ports that imply this protocol for a server without a {@code protocol} directive
     * (nginx: imap 143, 993; pop3 110, 995; smtp 25, 465, 587).
     */
    int[] defaultPorts();

    /**
     * Creates the handler for a new client connection. Called once per session on the session's
     * I/O thread, just before {@link ProtocolHandler#onStart()}.
     *
     * @param session the client session; the handler keeps it to reply, count errors and go on to
     *                authentication, the backend and the relay
     */
    ProtocolHandler newHandler(MailSession session);

    /**
     * The reply sent instead of the greeting (or after STARTTLS) when the client's certificate
     * fails {@code ssl_verify_client}, before the connection closes (nginx's {@code cert_error}:
     * IMAP {@code * BAD SSL certificate error}, POP3 {@code -ERR SSL certificate error}, SMTP
     * {@code 421 4.7.1 SSL certificate error}); null closes without a reply.
     */
    default byte[] certificateErrorReply() {
        return null;
    }

    /**
     * The reply when {@code ssl_verify_client on} and the client sent no certificate (nginx's
     * {@code no_cert}: {@code * BAD No required SSL certificate}, {@code -ERR No required SSL
     * certificate}, {@code 421 4.7.1 No required SSL certificate}); null closes without a reply.
     */
    default byte[] noCertificateReply() {
        return null;
    }

    /**
     * The reply to a session still talking to this protocol (greeted, not logged in) when the
     * protocol's service goes away (bundle stopped, feature uninstalled), just before the core
     * closes the connection; the protocols send nginx's internal error ({@code * BAD internal
     * server error}, {@code -ERR internal server error}, {@code 451 4.3.2 Internal server error}).
     * Called on the thread that unregisters the service, so it must not need the bundle's other
     * classes; null closes without a reply.
     */
    default byte[] stoppedReply() {
        return null;
    }
}
