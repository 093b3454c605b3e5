package org.mailproxy.core.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.mina.core.service.IoHandler;
import org.apache.mina.core.service.IoProcessor;
import org.apache.mina.transport.socket.SocketSessionConfig;
import org.apache.mina.transport.socket.nio.NioSession;

/**
 * One bound listening socket and its MINA acceptor. Connections it accepted live on in the shared
 * I/O processors after it is closed ({@code closeOnDeactivation} is off), so a reload that removes
 * a listen does not cut the sessions that came through it.
 */
final class ListeningSocket {

    private final SocketPlan.Key key;
    private final String text;
    private final ServerSocketChannel channel;
    private final PreboundAcceptor acceptor;
    private volatile Routes routes;

    private ListeningSocket(SocketPlan plan, ServerSocketChannel channel, PreboundAcceptor acceptor) {
        this.key = plan.key();
        this.text = plan.owner().addressText();
        this.channel = channel;
        this.acceptor = acceptor;
        this.routes = plan.routes();
    }

    /**
     * Binds the socket of {@code plan} and starts accepting.
     *
     * @throws IOException when bind() fails
     */
    static ListeningSocket open(SocketPlan plan, IoProcessor<NioSession> processor, Executor acceptThreads,
                                IoHandler handler, Function<Object, ServerConnections> connections) throws IOException {
        SocketOptions options = plan.key().options();
        ServerSocketChannel channel = SocketBinder.bind(plan.key().address(), options);
        PreboundAcceptor acceptor = null;
        try {
            acceptor = new PreboundAcceptor(acceptThreads, processor, channel);
            ListeningSocket socket = new ListeningSocket(plan, channel, acceptor);
            acceptor.setHandler(new RoutingIoHandler(socket, handler, connections));
            acceptor.setCloseOnDeactivation(false);
            // The core counts what it needs; MINA's per-service statistics take a lock on every read and write.
            acceptor.getStatistics().getConfig().setStatisticsCalcEnabled(false);
            configureAccepted(acceptor.getSessionConfig(), options);
            acceptor.bind(channel.getLocalAddress());
            return socket;
        } catch (IOException | RuntimeException e) {
            if (acceptor != null) {
                acceptor.dispose();
            }
            channel.close();
            throw e;
        }
    }

    /**
     * Options of every accepted socket: SO_SNDBUF and SO_KEEPALIVE (not settable on a listening
     * channel in the JDK), and TCP_NODELAY, on by default in nginx's stream and http proxies: the
     * relay writes what it reads at once, and Nagle would only delay interactive replies.
     */
    private static void configureAccepted(SocketSessionConfig config, SocketOptions options) {
        config.setTcpNoDelay(true);
        if (options.sndbuf() > 0) {
            config.setSendBufferSize(options.sndbuf());
        }
        if (options.keepalive() != null) {
            config.setKeepAlive(options.keepalive().enabled());
        }
    }

    SocketPlan.Key key() {
        return key;
    }

    Routes routes() {
        return routes;
    }

    /** New connections follow the new routes; open ones keep the listen they came in on. */
    void setRoutes(Routes routes) {
        this.routes = routes;
    }

    /** The address as nginx writes it: {@code 0.0.0.0:143}, {@code [::]:143}. */
    @Override
    public String toString() {
        return text;
    }

    InetSocketAddress localAddress() {
        return acceptor.getLocalAddress();
    }

    /** The listening channel, for reading its options back. */
    ServerSocketChannel channel() {
        return channel;
    }

    /** Stops listening; accepted connections stay open. */
    void close() {
        acceptor.unbind();
        acceptor.dispose();
    }
}
