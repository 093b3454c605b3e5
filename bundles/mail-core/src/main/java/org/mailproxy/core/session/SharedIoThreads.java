package org.mailproxy.core.session;

import java.net.InetSocketAddress;
import org.apache.mina.core.future.ConnectFuture;
import org.apache.mina.core.session.IoSessionInitializer;
import org.apache.mina.transport.socket.nio.NioProcessor;
import org.apache.mina.transport.socket.SocketConnector;
import org.mailproxy.core.spi.IoThreads;

/** {@link IoThreads} over the {@link IoThreadPool} of a {@link SessionManager}. */
final class SharedIoThreads implements IoThreads {

    private final IoThreadPool pool;

    SharedIoThreads(IoThreadPool pool) {
        this.pool = pool;
    }

    @Override
    public SocketConnector newConnector() {
        SocketConnector connector = new PromptConnector(pool);
        connector.getStatistics().getConfig().setStatisticsCalcEnabled(false);
        return connector;
    }

    @Override
    public ConnectFuture connect(SocketConnector connector, InetSocketAddress address,
                                 IoSessionInitializer<ConnectFuture> initializer) {
        NioProcessor here = IoThreadPool.current(); // the initializer may run on the connector thread
        return connector.connect(address, (connection, future) -> {
            if (here != null) {
                connection.setAttribute(IoThreadPool.ON_PROCESSOR, here);
            }
            if (initializer != null) {
                initializer.initializeSession(connection, future);
            }
        });
    }

    @Override
    public int count() {
        return pool.size();
    }

    @Override
    public int current() {
        return pool.currentIndex();
    }
}
