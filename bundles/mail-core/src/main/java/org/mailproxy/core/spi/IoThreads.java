package org.mailproxy.core.spi;

import java.net.InetSocketAddress;
import org.apache.mina.core.future.ConnectFuture;
import org.apache.mina.core.session.IoSessionInitializer;
import org.apache.mina.transport.socket.SocketConnector;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The proxy's I/O threads, for a module that opens connections of its own (auth_http): a
 * connection asked for while a session's event is handled runs on that session's thread, as an
 * nginx worker handles a session's client, backend and auth_http connections in one event loop.
 * Its reply then reaches the session without a hand-off between threads. Registered as an OSGi
 * service by the core while it runs.
 */
@ProviderType
public interface IoThreads {

    /**
     * A new MINA connector on these threads. The caller sets its handler, connects through
     * {@link #connect} and disposes it when done; the threads stay the core's.
     */
    SocketConnector newConnector();

    /**
     * Connects {@code connector} (from {@link #newConnector()}) to {@code address}. Called on one of
     * these threads, the connection runs on that thread; called on any other, on the next thread in
     * turn.
     */
    ConnectFuture connect(SocketConnector connector, InetSocketAddress address,
                          IoSessionInitializer<ConnectFuture> initializer);

    /** How many I/O threads there are. */
    int count();

    /** The number ({@code 0 .. count()-1}) of the I/O thread running the caller, or -1 on any other thread. */
    int current();
}
