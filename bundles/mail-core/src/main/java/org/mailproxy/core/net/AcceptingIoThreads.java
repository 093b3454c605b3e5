package org.mailproxy.core.net;

import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;

/**
 * I/O threads that accept connections in their own event loops, as nginx's workers do: a new
 * connection is accepted, set up and served by one thread, with no hand-off from an acceptor
 * thread (MINA's acceptor accepts on a thread of its own and wakes an I/O thread for every
 * connection). Implemented by the core's I/O thread pool; a listener on any other MINA processor
 * keeps MINA's acceptor thread.
 */
public interface AcceptingIoThreads {

    /**
     * Watches a bound non-blocking listening channel in every I/O thread. A thread that finds a
     * connection waiting accepts it and passes it to {@code accepted} on that thread, which then
     * serves it.
     */
    void startAccepting(ServerSocketChannel listener, Consumer<SocketChannel> accepted);

    /** Stops watching the channel (before it is closed). */
    void stopAccepting(ServerSocketChannel listener);
}
