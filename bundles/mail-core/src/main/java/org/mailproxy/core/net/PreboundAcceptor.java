package org.mailproxy.core.net;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Executor;
import org.apache.mina.core.service.IoProcessor;
import org.apache.mina.transport.socket.nio.NioSession;
import org.apache.mina.transport.socket.nio.NioSocketAcceptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A MINA acceptor for a channel that {@link SocketBinder} has already bound with all its options.
 * NioSocketAcceptor opens its channels itself in {@code open(SocketAddress)} and only knows
 * SO_REUSEADDR, SO_RCVBUF and the backlog; handing it a bound channel keeps option handling and
 * bind errors in our code.
 *
 * <p>On {@link AcceptingIoThreads} (the core's I/O threads) the connections are accepted in the
 * I/O threads' loops, not on MINA's acceptor thread, which then only binds and unbinds. The
 * sessions are MINA's, of this acceptor (its handler, filters and session settings), as if MINA
 * had accepted them.
 */
final class PreboundAcceptor extends NioSocketAcceptor {

    private static final Logger LOG = LoggerFactory.getLogger(PreboundAcceptor.class);

    private final ServerSocketChannel channel;
    private final IoProcessor<NioSession> processor;

    PreboundAcceptor(Executor executor, IoProcessor<NioSession> processor, ServerSocketChannel channel) {
        super(executor, processor);
        this.channel = channel;
        this.processor = processor;
    }

    @Override
    protected ServerSocketChannel open(SocketAddress localAddress) throws Exception {
        if (!localAddress.equals(channel.getLocalAddress())) {
            throw new IllegalArgumentException(localAddress + " is not the address of the prebound socket "
                    + channel.getLocalAddress());
        }
        channel.configureBlocking(false);
        if (processor instanceof AcceptingIoThreads threads) {
            threads.startAccepting(channel, this::accepted);
        } else {
            channel.register(selector, SelectionKey.OP_ACCEPT);
        }
        return channel;
    }

    @Override
    protected void close(ServerSocketChannel handle) throws Exception {
        if (processor instanceof AcceptingIoThreads threads) {
            threads.stopAccepting(handle);
        }
        super.close(handle);
    }

    /** A connection accepted by an I/O thread, on that thread: what MINA's acceptor does with one. */
    private void accepted(SocketChannel connection) {
        try {
            NioSession session = SocketSessions.newSession(this, processor, connection);
            initSession(session, null, null);
            session.getProcessor().add(session);
        } catch (Exception e) {
            LOG.debug("accepted connection dropped: {}", e.toString());
            try {
                connection.close();
            } catch (IOException ignored) {
                // closing what could not be set up
            }
        }
    }
}
