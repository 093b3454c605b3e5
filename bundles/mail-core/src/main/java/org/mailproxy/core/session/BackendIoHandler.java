package org.mailproxy.core.session;

import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.service.IoHandlerAdapter;
import org.apache.mina.core.session.AttributeKey;
import org.apache.mina.core.session.IoSession;
import org.mailproxy.core.net.PooledReads;

/** MINA events of backend connections, passed to the {@link MailSession} they serve. */
final class BackendIoHandler extends IoHandlerAdapter {

    /** The session a backend connection belongs to, set before the connection is added. */
    static final AttributeKey SESSION = new AttributeKey(BackendIoHandler.class, "session");

    private static MailSession sessionOf(IoSession connection) {
        return (MailSession) connection.getAttribute(SESSION);
    }

    @Override
    public void sessionOpened(IoSession connection) {
        MailSession session = sessionOf(connection);
        if (session == null) {
            connection.closeNow();
        } else {
            session.backendOpened(connection);
        }
    }

    @Override
    public void messageReceived(IoSession connection, Object message) {
        MailSession session = sessionOf(connection);
        if (session != null) {
            session.backendReceived((IoBuffer) message);
        }
    }

    @Override
    public void messageSent(IoSession connection, Object message) {
        MailSession session = sessionOf(connection);
        if (session != null) {
            session.backendSent();
        }
        PooledReads.written(message);
    }

    @Override
    public void inputClosed(IoSession connection) {
        MailSession session = sessionOf(connection);
        if (session != null) {
            session.backendInputClosed(connection);
        } else {
            connection.closeNow();
        }
    }

    @Override
    public void sessionClosed(IoSession connection) {
        MailSession session = sessionOf(connection);
        if (session != null) {
            session.backendClosed(connection);
        }
    }

    @Override
    public void exceptionCaught(IoSession connection, Throwable cause) {
        MailSession session = sessionOf(connection);
        if (session != null && session.backendTlsFailed(connection, cause)) {
            return; // logged once and the login failed; the connection is closed
        }
        IoErrors.log(session == null ? connection.getId() : session.id(), "upstream", cause);
        connection.closeNow();
    }
}
