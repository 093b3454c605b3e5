package org.mailproxy.core.proxyprotocol;

import java.net.InetSocketAddress;
import java.util.Arrays;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.filterchain.IoFilterAdapter;
import org.apache.mina.core.filterchain.IoFilterChain;
import org.apache.mina.core.session.IoSession;
import org.mailproxy.core.config.CidrRange;
import org.mailproxy.core.session.MailLog;
import org.mailproxy.core.session.MailSession;
import org.mailproxy.core.session.SessionManager;
import org.mailproxy.core.spi.AuthRequest.ProxyProtocolInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * First filter of a {@code listen ... proxy_protocol} connection (nginx:
 * {@code ngx_mail_proxy_protocol_handler} and {@code ngx_mail_realip_handler}). It holds back
 * sessionOpened, so the greeting (and, on an {@code ssl} listen, the TLS filters after it) wait,
 * and collects the first bytes until they make a PROXY protocol header:
 *
 * <ul>
 * <li>complete: the session gets the announced addresses ({@link MailSession#setProxyProtocol});
 *     when the connection's real peer is in {@code set_real_ip_from}, the source becomes the
 *     client address. Then sessionOpened goes on, then the bytes that followed the header in the
 *     same read (a pipelined command, a TLS ClientHello), and the filter leaves the chain;</li>
 * <li>broken (bad bytes, a v1 line over 107 bytes, a v2 header over 4096 bytes, an unknown
 *     version), or the client closed before the end: nginx's line is logged at error
 *     ({@code broken header: "..." while reading PROXY protocol, client: ..., server: ...}) and the
 *     connection is closed without a word;</li>
 * <li>not complete within the server's {@code timeout} from the accept: the session's timer
 *     closes it ({@code client timed out}).</li>
 * </ul>
 * Events of one connection come on its I/O thread one at a time, so the state needs no lock.
 */
final class ProxyProtocolReader extends IoFilterAdapter {

    static final String NAME = "proxy-protocol";
    private static final Logger LOG = LoggerFactory.getLogger(MailSession.class);

    private byte[] buf = new byte[128];
    private int len;
    private boolean opened;
    /** The header was read (or refused): everything passes on (or is dropped). */
    private boolean done;
    private boolean refused;

    @Override
    public void sessionOpened(NextFilter next, IoSession connection) {
        if (done) {
            next.sessionOpened(connection);
        } else {
            opened = true; // passed on once the header is read
        }
    }

    @Override
    public void messageReceived(NextFilter next, IoSession connection, Object message) {
        if (refused) {
            return; // closing: nothing more reaches the protocol
        }
        if (done || !(message instanceof IoBuffer data)) {
            next.messageReceived(connection, message);
            return;
        }
        int room = ProxyHeaderParser.MAX_HEADER - len;
        int take = Math.min(room, data.remaining());
        if (len + take > buf.length) {
            buf = Arrays.copyOf(buf, Math.min(ProxyHeaderParser.MAX_HEADER, Math.max(buf.length * 2, len + take)));
        }
        int start = data.position();
        data.get(buf, len, take);
        len += take;
        ProxyHeaderParser.Result result = ProxyHeaderParser.parse(buf, len);
        if (result.broken()) {
            refuse(connection, result.error());
            return;
        }
        if (!result.complete()) {
            if (len >= ProxyHeaderParser.MAX_HEADER) {
                refuse(connection, "header is too large"); // cannot happen: both versions are bounded below this
            }
            return;
        }
        // the bytes after the header: what was collected beyond it, then the rest of this read
        int extra = len - result.length();
        data.position(start + take - extra);
        accept(connection, result.info());
        done = true;
        buf = null;
        if (opened) {
            next.sessionOpened(connection);
        }
        if (data.hasRemaining() && !connection.isClosing()) {
            next.messageReceived(connection, data);
        }
        leaveChain(connection);
    }

    @Override
    public void inputClosed(NextFilter next, IoSession connection) {
        if (refused) {
            return;
        }
        if (!done) {
            // nginx reads what came before the close and finds it broken: broken header: "PROXY TCP4 1."
            refuse(connection, ProxyHeaderParser.brokenHeader(buf, len).error());
            return;
        }
        next.inputClosed(connection);
    }

    private void accept(IoSession connection, ProxyProtocolInfo info) {
        MailSession session = SessionManager.sessionOf(connection);
        if (session == null) {
            return;
        }
        if (info == null) {
            LOG.debug("*{} PROXY protocol header without addresses (UNKNOWN, LOCAL or another family)", session.id());
            return;
        }
        session.setProxyProtocol(info);
        LOG.debug("*{} PROXY protocol src: {} {}, dst: {} {}", session.id(), host(info.source()),
                info.source().getPort(), host(info.destination()), info.destination().getPort());
        InetSocketAddress source = info.source();
        if (source.getAddress() == null) {
            return; // not an IP literal: nginx's ngx_parse_addr fails and the client address stays
        }
        for (CidrRange trusted : session.server().realIpFrom()) {
            if (trusted.matches(connection.getRemoteAddress())) {
                session.setClientAddress(source);
                LOG.debug("*{} set_real_ip_from: client address {}", session.id(), host(source));
                return;
            }
        }
    }

    private void refuse(IoSession connection, String error) {
        done = true;
        refused = true;
        buf = null;
        MailSession session = SessionManager.sessionOf(connection);
        String previous = MDC.get(MailSession.MDC_SERVER);
        if (session != null) {
            MDC.put(MailSession.MDC_SERVER, session.server().name());
        }
        try {
            if (session != null) {
                // the error logs add the session's client and server, as nginx's mail log handler
                MailLog.log(LOG, "error", connection.getId(), "reading PROXY protocol", error);
            } else {
                InetSocketAddress client = (InetSocketAddress) connection.getRemoteAddress();
                LOG.error("*{} {} while reading PROXY protocol, client: {}, server: {}", connection.getId(), error,
                        host(client), connection.getLocalAddress());
            }
        } finally {
            if (previous != null) {
                MDC.put(MailSession.MDC_SERVER, previous);
            } else {
                MDC.remove(MailSession.MDC_SERVER);
            }
        }
        if (session != null) {
            session.abort("broken PROXY protocol header");
        } else {
            connection.closeNow();
        }
    }

    private static void leaveChain(IoSession connection) {
        IoFilterChain chain = connection.getFilterChain();
        try {
            if (chain.contains(NAME)) {
                chain.remove(NAME);
            }
        } catch (RuntimeException e) {
            // staying in the chain is harmless: it passes everything on once done
        }
    }

    private static String host(InetSocketAddress address) {
        return address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
    }
}
