package org.mailproxy.auth.http.internal;

import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.future.ConnectFuture;
import org.apache.mina.core.service.IoHandlerAdapter;
import org.apache.mina.core.session.AttributeKey;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.transport.socket.nio.NioSocketConnector;

/**
 * TCP to the auth server through this module's own MINA {@link NioSocketConnector}: one new
 * connection per request, as nginx. Nothing here blocks; the connector's I/O threads feed the
 * {@link Attempt}. No filters: the request is written as bytes and the response read as bytes.
 */
final class MinaTransport implements Transport {

    private static final AttributeKey ATTEMPT = new AttributeKey(MinaTransport.class, "attempt");

    private final NioSocketConnector connector;

    MinaTransport() {
        connector = new NioSocketConnector(2);
        // auth_http_timeout is enforced by each Attempt for the whole exchange, connect included
        connector.setConnectTimeoutMillis(Integer.MAX_VALUE);
        connector.getSessionConfig().setTcpNoDelay(true);
        connector.setHandler(new Handler());
    }

    @Override
    public void open(Attempt attempt) {
        ConnectFuture future;
        try {
            future = connector.connect(attempt.url().address(),
                    (session, f) -> session.setAttribute(ATTEMPT, attempt));
        } catch (RuntimeException e) {
            attempt.connectFailed(e);
            return;
        }
        if (!attempt.attachIfNone(future::cancel)) {
            future.cancel();
            return;
        }
        future.addListener(f -> {
            ConnectFuture cf = (ConnectFuture) f;
            if (!cf.isConnected() && !cf.isCanceled()) {
                attempt.connectFailed(cf.getException());
            }
        });
    }

    @Override
    public void close() {
        connector.dispose(true);
    }

    private static final class Handler extends IoHandlerAdapter {

        private static Attempt attempt(IoSession session) {
            return (Attempt) session.getAttribute(ATTEMPT);
        }

        @Override
        public void sessionCreated(IoSession session) {
            Attempt a = attempt(session);
            if (a == null || !a.attach(session::closeNow)) {
                session.closeNow();
            }
        }

        @Override
        public void sessionOpened(IoSession session) {
            Attempt a = attempt(session);
            if (a == null || a.isFinished()) {
                session.closeNow();
                return;
            }
            session.write(IoBuffer.wrap(a.request()));
        }

        @Override
        public void messageReceived(IoSession session, Object message) {
            Attempt a = attempt(session);
            if (a != null) {
                a.received(((IoBuffer) message).buf());
            }
        }

        @Override
        public void sessionClosed(IoSession session) {
            Attempt a = attempt(session);
            if (a != null) {
                a.closed();
            }
        }

        @Override
        public void exceptionCaught(IoSession session, Throwable cause) {
            Attempt a = attempt(session);
            if (a != null) {
                a.failed("recv()", cause);
            }
            session.closeNow();
        }
    }
}
