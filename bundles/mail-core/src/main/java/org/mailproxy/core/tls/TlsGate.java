package org.mailproxy.core.tls;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import org.apache.mina.core.filterchain.IoFilterAdapter;
import org.apache.mina.core.session.AttributeKey;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.filter.FilterEvent;
import org.apache.mina.filter.ssl.SslEvent;
import org.apache.mina.filter.ssl.SslFilter;
import org.mailproxy.core.session.MailLog;
import org.mailproxy.core.session.MailSession;
import org.mailproxy.core.session.SessionManager;
import org.mailproxy.core.spi.MailProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Sits right after the SslFilter of a connection (nginx: {@code ngx_mail_ssl_handshake_handler}
 * and {@code ngx_mail_verify_cert}):
 * <ul>
 * <li>with implicit TLS, holds back sessionOpened, and so the greeting, until the handshake is
 *     done;</li>
 * <li>after the handshake checks the client certificate against {@code ssl_verify_client}: a
 *     refused one gets the protocol's certificate error and the connection closes, without
 *     reading anything more; application data waits for that check;</li>
 * <li>a failed handshake (garbage, wrong ALPN, no common protocol or cipher, plaintext after
 *     STARTTLS) is logged once at info, without a stack trace, counted, and the connection
 *     closed; later TLS errors are logged at debug.</li>
 * </ul>
 */
final class TlsGate extends IoFilterAdapter {

    /** nginx's action while the TLS handshake runs. */
    private static final String HANDSHAKING = "SSL handshaking";
    private static final Logger LOG = LoggerFactory.getLogger(MailSession.class);
    private static final AttributeKey HELD = new AttributeKey(TlsGate.class, "held");
    private static final AttributeKey FAILED = new AttributeKey(TlsGate.class, "failed");
    private static final AttributeKey LINGERING = new AttributeKey(TlsGate.class, "lingering");
    /** How long a connection whose handshake failed waits for the client to close first. */
    private static final java.time.Duration LINGER = java.time.Duration.ofSeconds(2);

    private final ServerTls tls;
    private final boolean holdOpen;
    /** Application data that came before the handshake's SECURED event was handled (guarded by this). */
    private final List<Object> early = new ArrayList<>();
    /** SECURED handled and the certificate accepted: data passes (guarded by this, read without it). */
    private volatile boolean open;
    /** The certificate was refused: nothing more is read (guarded by this). */
    private boolean refused;

    TlsGate(ServerTls tls, boolean holdOpen) {
        this.tls = tls;
        this.holdOpen = holdOpen;
    }

    @Override
    public void sessionOpened(NextFilter next, IoSession connection) {
        if (holdOpen && connection.getAttribute(SslFilter.SSL_SECURED) == null) {
            connection.setAttribute(HELD, Boolean.TRUE);
            return;
        }
        next.sessionOpened(connection);
    }

    @Override
    public void event(NextFilter next, IoSession connection, FilterEvent event) {
        if (event == SslEvent.SECURED) {
            boolean held = connection.removeAttribute(HELD) != null;
            if (!certificateAccepted(connection)) {
                synchronized (this) {
                    refused = true;
                    early.clear();
                }
                return;
            }
            if (held) {
                next.sessionOpened(connection);
            }
            next.event(connection, event);
            synchronized (this) {
                for (Object message : early) {
                    next.messageReceived(connection, message);
                }
                early.clear();
                open = true;
            }
            return;
        }
        next.event(connection, event);
    }

    /**
     * Application data goes on only once the handshake's SECURED event has been handled: MINA
     * forwards data that came in the same read as the end of the handshake (a TLS 1.3 client's
     * first command right behind its Finished, as after STARTTLS) before that event, so without
     * this a command would run before the client certificate is checked. After a refused
     * certificate nothing the client sent is read any more (nginx sets {@code s->quit}).
     */
    @Override
    public void messageReceived(NextFilter next, IoSession connection, Object message) {
        if (!open) {
            synchronized (this) {
                if (refused) {
                    return;
                }
                if (!open) {
                    early.add(message);
                    return;
                }
            }
        }
        next.messageReceived(connection, message);
    }

    @Override
    public void exceptionCaught(NextFilter next, IoSession connection, Throwable cause) {
        SSLException ssl = sslCause(cause);
        if (ssl == null && !(cause instanceof IllegalStateException && "closed".equals(cause.getMessage()))) {
            next.exceptionCaught(connection, cause);
            return;
        }
        boolean handshaking = connection.getAttribute(SslFilter.SSL_SECURED) == null;
        if (connection.setAttributeIfAbsent(FAILED, Boolean.TRUE) == null) {
            String reason = ssl != null ? ssl.getMessage() : "TLS closed by the client";
            if (handshaking) {
                tls.handshakeFailed();
                log(connection, "SSL handshake failed (" + reason + ")", HANDSHAKING, true);
                if (lingerBeforeClosing(connection)) {
                    return;
                }
            } else {
                log(connection, "SSL error (" + reason + ")", null, false);
            }
        } else if (handshaking && connection.getAttribute(LINGERING) != null) {
            return; // what the client still sends is dropped until the lingering close
        }
        connection.closeNow();
    }

    /**
     * A refused handshake often ends with ServerHello and a fatal alert in one flight; a TLS 1.3
     * client answers the ServerHello (ChangeCipherSpec, its own records) before it reads the
     * alert. Closing at once would leave those bytes unread, the kernel would answer them with a
     * RST, and the RST can overtake the alert in the client's receive queue: the client sees
     * "connection reset" instead of, say, {@code no_application_protocol}. So the connection
     * lingers: the alert is flushed, what arrives is dropped, and it closes when the client
     * closes or after {@link #LINGER} (nginx's lingering close, on a small scale).
     */
    private static boolean lingerBeforeClosing(IoSession connection) {
        MailSession mail = SessionManager.sessionOf(connection);
        if (mail == null) {
            return false;
        }
        connection.setAttribute(LINGERING, Boolean.TRUE);
        mail.schedule(LINGER, connection::closeNow);
        return true;
    }

    /** nginx's {@code ngx_mail_verify_cert}. */
    private boolean certificateAccepted(IoSession connection) {
        ClientCertVerifier verifier = tls.verifier();
        if (verifier.mode() == ClientCertVerifier.Mode.OFF) {
            return true;
        }
        SSLSession session = (SSLSession) connection.getAttribute(SslFilter.SSL_SECURED);
        ClientCertVerifier.Result result = verifier.verify(session);
        if (!result.reject()) {
            return true;
        }
        MailSession mail = SessionManager.sessionOf(connection);
        MailProtocol protocol = mail == null ? null : mail.server().protocol();
        byte[] reply;
        if (result.noCertificate()) {
            log(connection, "client sent no required SSL certificate", HANDSHAKING, true);
            reply = protocol == null ? null : protocol.noCertificateReply();
        } else {
            log(connection, "client SSL certificate verify error: (" + result.verify().substring("FAILED:".length())
                    + ")", HANDSHAKING, true);
            reply = protocol == null ? null : protocol.certificateErrorReply();
        }
        if (reply != null) {
            connection.write(org.apache.mina.core.buffer.IoBuffer.wrap(reply));
        }
        connection.closeOnFlush();
        return false;
    }

    private static SSLException sslCause(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof SSLException e) {
                return e;
            }
        }
        return null;
    }

    /**
     * Logs for the connection's session through {@link MailLog} (the error logs add client,
     * server and login); without a session yet, with the client in the text as nginx writes it.
     */
    private static void log(IoSession connection, String message, String action, boolean info) {
        MailSession session = SessionManager.sessionOf(connection);
        String previous = MDC.get(MailSession.MDC_SERVER);
        if (session != null) {
            MDC.put(MailSession.MDC_SERVER, session.server().name());
        }
        try {
            if (session != null) {
                MailLog.log(LOG, info ? "info" : "debug", connection.getId(), action, message);
                return;
            }
            InetSocketAddress client = (InetSocketAddress) connection.getRemoteAddress();
            String text = "*" + connection.getId() + " " + message + (action == null ? "" : " while " + action)
                    + ", client: " + client.getAddress().getHostAddress();
            if (info) {
                LOG.info(text);
            } else {
                LOG.debug(text);
            }
        } finally {
            if (previous != null) {
                MDC.put(MailSession.MDC_SERVER, previous);
            } else {
                MDC.remove(MailSession.MDC_SERVER);
            }
        }
    }
}
