package org.mailproxy.core.net;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import org.mailproxy.core.config.ListenSpec;

/**
 * Opens and binds one listening socket with its options set before bind(), as nginx's
 * {@code ngx_open_listening_sockets} and {@code ngx_configure_listening_sockets} do.
 *
 * <p>The socket is opened in the family of its address: an IPv4 address gets an IPv4-only socket
 * (the JDK would otherwise open an IPv6 socket and bind {@code 0.0.0.0} as {@code [::]}), an IPv6
 * address a dual-stack IPv6 socket (see {@link SocketPlanner}).
 *
 * <p>{@code so_keepalive=idle:intvl:cnt} sets TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT on the
 * listening socket, exactly where nginx sets them; Linux copies them to every accepted socket.
 * MINA gives no access to an accepted socket's channel, and these three options are not in its
 * session config. SO_KEEPALIVE and SO_SNDBUF, which the JDK does not offer on a listening channel,
 * are set on each accepted socket through MINA's session config ({@link ListeningSocket}). The
 * extended options are looked up by name among the channel's supported options, so the bundle
 * does not import {@code jdk.net}, which an OSGi framework need not export.
 */
final class SocketBinder {

    private SocketBinder() {
    }

    /** A bound, listening, still blocking channel. */
    static ServerSocketChannel bind(InetSocketAddress address, SocketOptions options) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open(address.getAddress() instanceof Inet4Address
                ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6);
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (options.reuseport()) {
                channel.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            }
            if (options.rcvbuf() > 0) {
                channel.setOption(StandardSocketOptions.SO_RCVBUF, options.rcvbuf());
            }
            ListenSpec.KeepAlive keepalive = options.keepalive();
            if (keepalive != null && keepalive.enabled()) {
                setSeconds(channel, "TCP_KEEPIDLE", keepalive.idle());
                setSeconds(channel, "TCP_KEEPINTERVAL", keepalive.interval());
                if (keepalive.count() != null) {
                    set(channel, "TCP_KEEPCOUNT", keepalive.count());
                }
            }
            channel.bind(address, options.backlog());
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static void setSeconds(NetworkChannel channel, String option, Duration value) throws IOException {
        if (value != null) {
            set(channel, option, (int) Math.max(1, value.toSeconds()));
        }
    }

    private static void set(NetworkChannel channel, String option, int value) throws IOException {
        SocketOption<Integer> found = extendedOption(channel, option);
        if (found == null) {
            throw new IOException("setsockopt(" + option + ") is not supported on this platform");
        }
        channel.setOption(found, value);
    }

    /** A {@code jdk.net.ExtendedSocketOptions} option by name, or null when the channel lacks it. */
    @SuppressWarnings("unchecked")
    static SocketOption<Integer> extendedOption(NetworkChannel channel, String name) {
        for (SocketOption<?> option : channel.supportedOptions()) {
            if (option.name().equals(name)) {
                return (SocketOption<Integer>) option;
            }
        }
        return null;
    }
}
