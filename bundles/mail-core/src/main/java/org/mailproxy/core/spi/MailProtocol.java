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
}
