package org.mailproxy.core.session;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.Executor;
import org.apache.mina.core.polling.AbstractPollingIoConnector;
import org.apache.mina.core.service.IoProcessor;
import org.apache.mina.core.service.TransportMetadata;
import org.apache.mina.transport.socket.DefaultSocketSessionConfig;
import org.apache.mina.transport.socket.SocketConnector;
import org.apache.mina.transport.socket.SocketSessionConfig;
import org.apache.mina.transport.socket.nio.NioSession;
import org.mailproxy.core.net.SocketSessions;

/**
 * A MINA socket connector that hands a connection to its I/O thread directly when the TCP
 * handshake is over by the time {@code connect()} returns.
 *
 * <p>A non-blocking {@code connect()} answers {@code EINPROGRESS} even to a server on the same
 * host, although the kernel completes a loopback handshake within the call. MINA's
 * NioSocketConnector then queues the channel to its connector thread, wakes that thread's
 * selector, waits there for OP_CONNECT and hands the new session to the I/O thread, waking that
 * thread's selector in turn: two wake-ups of other threads per backend or auth_http connection,
 * where nginx makes the same {@code connect()} and goes on with its event loop. Here one
 * {@code finishConnect()} (a zero-timeout poll) right after an unfinished {@code connect()} finds a
 * local or otherwise fast handshake done, and MINA takes its own path for a connection
 * established at once: the session goes straight to the I/O processor, from the calling thread
 * (which, for a session's backend, is that session's I/O thread: no wake-up at all). A handshake
 * still under way (a remote backend) goes to the connector thread as before; a refused one fails
 * the connect future at once with the {@code ConnectException} the connector thread would report.
 *
 * <p>Why a class of its own: MINA's NioSocketConnector is final, so its one-line
 * {@code connect(handle, address)} cannot be overridden. This is that class with that line
 * changed; the rest (selector, handles, registration) is MINA's code as it is, and its
 * sessions are MINA's own ({@link SocketSessions}).
 */
final class PromptConnector extends AbstractPollingIoConnector<NioSession, SocketChannel> implements SocketConnector {

    private volatile Selector selector;

    /** @param processor the I/O threads; MINA's default executor runs the connector thread */
    PromptConnector(IoProcessor<NioSession> processor) {
        super(new DefaultSocketSessionConfig(), processor);
        ((DefaultSocketSessionConfig) getSessionConfig()).init(this);
    }

    /** @param executor runs the connector thread (for handshakes that take a while) */
    PromptConnector(Executor executor, IoProcessor<NioSession> processor) {
        super(new DefaultSocketSessionConfig(), executor, processor);
        ((DefaultSocketSessionConfig) getSessionConfig()).init(this);
    }

    @Override
    protected boolean connect(SocketChannel handle, SocketAddress remoteAddress) throws Exception {
        return handle.connect(remoteAddress) || handle.finishConnect();
    }

    @Override
    protected NioSession newSession(IoProcessor<NioSession> processor, SocketChannel handle) throws Exception {
        return SocketSessions.newSession(this, processor, handle);
    }

    // ------------------------------------------------------------------ MINA's NioSocketConnector

    @Override
    protected void init() throws Exception {
        selector = Selector.open();
    }

    @Override
    protected void destroy() throws Exception {
        if (selector != null) {
            selector.close();
        }
    }

    @Override
    public TransportMetadata getTransportMetadata() {
        return SocketSessions.METADATA;
    }

    @Override
    public SocketSessionConfig getSessionConfig() {
        return (SocketSessionConfig) sessionConfig;
    }

    @Override
    public InetSocketAddress getDefaultRemoteAddress() {
        return (InetSocketAddress) super.getDefaultRemoteAddress();
    }

    @Override
    public void setDefaultRemoteAddress(InetSocketAddress defaultRemoteAddress) {
        super.setDefaultRemoteAddress(defaultRemoteAddress);
    }

    @Override
    protected Iterator<SocketChannel> allHandles() {
        return channels(selector.keys());
    }

    @Override
    protected Iterator<SocketChannel> selectedHandles() {
        return channels(selector.selectedKeys());
    }

    @Override
    protected ConnectionRequest getConnectionRequest(SocketChannel handle) {
        SelectionKey key = handle.keyFor(selector);
        return key == null || !key.isValid() ? null : (ConnectionRequest) key.attachment();
    }

    @Override
    protected void close(SocketChannel handle) throws Exception {
        SelectionKey key = handle.keyFor(selector);
        if (key != null) {
            key.cancel();
        }
        handle.close();
    }

    @Override
    protected boolean finishConnect(SocketChannel handle) throws Exception {
        if (handle.finishConnect()) {
            SelectionKey key = handle.keyFor(selector);
            if (key != null) {
                key.cancel();
            }
            return true;
        }
        return false;
    }

    @Override
    protected SocketChannel newHandle(SocketAddress localAddress) throws Exception {
        SocketChannel channel = SocketChannel.open();
        try {
            int receiveBufferSize = getSessionConfig().getReceiveBufferSize();
            if (receiveBufferSize > 0) {
                channel.socket().setReceiveBufferSize(receiveBufferSize);
            }
            if (localAddress != null) {
                channel.socket().bind(localAddress);
            }
            channel.configureBlocking(false);
            return channel;
        } catch (Exception e) {
            channel.close();
            throw e;
        }
    }

    @Override
    protected void register(SocketChannel handle, ConnectionRequest request) throws Exception {
        handle.register(selector, SelectionKey.OP_CONNECT, request);
    }

    @Override
    protected int select(int timeout) throws Exception {
        return selector.select(timeout);
    }

    @Override
    protected void wakeup() {
        selector.wakeup();
    }

    private static Iterator<SocketChannel> channels(Set<SelectionKey> keys) {
        Iterator<SelectionKey> i = keys.iterator();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return i.hasNext();
            }

            @Override
            public SocketChannel next() {
                return (SocketChannel) i.next().channel();
            }

            @Override
            public void remove() {
                i.remove();
            }
        };
    }
}
