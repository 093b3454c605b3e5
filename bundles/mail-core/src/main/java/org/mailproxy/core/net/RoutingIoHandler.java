package org.mailproxy.core.net;

import java.net.InetSocketAddress;
import java.util.function.Function;
import org.apache.mina.core.service.IoHandler;
import org.apache.mina.core.session.AttributeKey;
import org.apache.mina.core.session.IdleStatus;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.filter.FilterEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handler of one listening socket: picks the listen (and so the server) of each new
 * connection by its local address, counts it, refuses it when nothing listens for it, and passes
 * every event on to the session layer. Refused connections never reach the session layer.
 */
final class RoutingIoHandler implements IoHandler {

    private static final Logger LOG = LoggerFactory.getLogger(RoutingIoHandler.class);

    /** The routing decision, stored on the connection. */
    static final AttributeKey ACCEPTED = new AttributeKey(RoutingIoHandler.class, "accepted");

    record Accepted(ListenBinding binding, ServerConnections connections) {
    }

    private final ListeningSocket socket;
    private final IoHandler next;
    private final Function<Object, ServerConnections> connections;

    RoutingIoHandler(ListeningSocket socket, IoHandler next, Function<Object, ServerConnections> connections) {
        this.socket = socket;
        this.next = next;
        this.connections = connections;
    }

    @Override
    public void sessionCreated(IoSession session) throws Exception {
        InetSocketAddress local = (InetSocketAddress) session.getLocalAddress();
        ListenBinding binding = local == null ? null : socket.routes().route(local.getAddress());
        if (binding == null) {
            // The emulated ipv6only=on: an IPv4 connection on the dual-stack socket with no IPv4 listen.
            LOG.debug("*{} connection from {} to {} closed: no listen for this address", session.getId(),
                    session.getRemoteAddress(), local);
            session.closeNow();
            return;
        }
        ServerConnections counter = connections.apply(binding.serverKey());
        counter.opened();
        session.setAttribute(ACCEPTED, new Accepted(binding, counter));
        next.sessionCreated(session);
    }

    @Override
    public void sessionOpened(IoSession session) throws Exception {
        if (session.containsAttribute(ACCEPTED)) {
            next.sessionOpened(session);
        }
    }

    @Override
    public void sessionClosed(IoSession session) throws Exception {
        Accepted accepted = (Accepted) session.getAttribute(ACCEPTED);
        if (accepted != null) {
            accepted.connections().closed();
            next.sessionClosed(session);
        }
    }

    @Override
    public void messageReceived(IoSession session, Object message) throws Exception {
        next.messageReceived(session, message);
    }

    @Override
    public void messageSent(IoSession session, Object message) throws Exception {
        next.messageSent(session, message);
    }

    @Override
    public void inputClosed(IoSession session) throws Exception {
        next.inputClosed(session);
    }

    @Override
    public void sessionIdle(IoSession session, IdleStatus status) throws Exception {
        next.sessionIdle(session, status);
    }

    @Override
    public void exceptionCaught(IoSession session, Throwable cause) throws Exception {
        next.exceptionCaught(session, cause);
    }

    @Override
    public void event(IoSession session, FilterEvent event) throws Exception {
        next.event(session, event);
    }
}
