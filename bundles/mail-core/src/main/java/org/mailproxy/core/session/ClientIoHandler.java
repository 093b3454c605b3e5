package org.mailproxy.core.session;

import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.service.IoHandlerAdapter;
import org.apache.mina.core.session.IoSession;
import org.mailproxy.core.net.ListenBinding;
import org.mailproxy.core.net.ListenerSet;
import org.mailproxy.core.net.PooledReads;

/** MINA events of client connections, passed to their {@link MailSession}. */
final class ClientIoHandler extends IoHandlerAdapter {

    private final SessionManager manager;

    ClientIoHandler(SessionManager manager) {
        this.manager = manager;
    }

    @Override
    public void sessionCreated(IoSession connection) {
        ListenBinding binding = ListenerSet.bindingOf(connection);
        if (binding == null || !(binding.serverKey() instanceof MailServer server)) {
            throw new IllegalStateException("connection " + connection + " was not accepted for a MailServer");
        }
        manager.sessionCreated(connection, binding.spec(), server);
    }

    @Override
    public void sessionOpened(IoSession connection) {
        MailSession session = SessionManager.sessionOf(connection);
        if (session != null) {
            session.opened();
        }
    }

    @Override
    public void messageReceived(IoSession connection, Object message) {
        MailSession session = SessionManager.sessionOf(connection);
        if (session != null) {
            session.clientReceived((IoBuffer) message);
        }
    }

    @Override
    public void messageSent(IoSession connection, Object message) {
        MailSession session = SessionManager.sessionOf(connection);
        if (session != null) {
            session.clientSent();
        }
        PooledReads.written(message);
    }

    @Override
    public void inputClosed(IoSession connection) {
        MailSession session = SessionManager.sessionOf(connection);
        if (session != null) {
            session.clientInputClosed();
        } else {
            connection.closeNow();
        }
    }

    @Override
    public void sessionClosed(IoSession connection) {
        MailSession session = SessionManager.sessionOf(connection);
        if (session != null) {
            session.clientClosed();
        }
    }

    @Override
    public void exceptionCaught(IoSession connection, Throwable cause) {
        IoErrors.log(connection.getId(), "client", cause);
        connection.closeNow();
    }
}
