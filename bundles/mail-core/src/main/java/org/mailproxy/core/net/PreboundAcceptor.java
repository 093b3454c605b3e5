package org.mailproxy.core.net;

import java.net.SocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.util.concurrent.Executor;
import org.apache.mina.core.service.IoProcessor;
import org.apache.mina.transport.socket.nio.NioSession;
import org.apache.mina.transport.socket.nio.NioSocketAcceptor;

/**
 * A MINA acceptor for a channel that {@link SocketBinder} has already bound with all its options.
 * NioSocketAcceptor opens its channels itself in {@code open(SocketAddress)} and only knows
 * SO_REUSEADDR, SO_RCVBUF and the backlog; handing it a bound channel keeps option handling and
 * bind errors in our code.
 */
final class PreboundAcceptor extends NioSocketAcceptor {

    private final ServerSocketChannel channel;

    PreboundAcceptor(Executor executor, IoProcessor<NioSession> processor, ServerSocketChannel channel) {
        super(executor, processor);
        this.channel = channel;
    }

    @Override
    protected ServerSocketChannel open(SocketAddress localAddress) throws Exception {
        if (!localAddress.equals(channel.getLocalAddress())) {
            throw new IllegalArgumentException(localAddress + " is not the address of the prebound socket "
                    + channel.getLocalAddress());
        }
        channel.configureBlocking(false);
        channel.register(selector, SelectionKey.OP_ACCEPT);
        return channel;
    }
}
