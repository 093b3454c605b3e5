package org.mailproxy.core.net;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Map;

/**
 * Which listen a connection accepted on one socket belongs to, chosen by the connection's local
 * address as nginx does for addresses that share a wildcard socket: the listen of exactly that
 * address first, else the socket's default for the address family. A null default means
 * connections of that family are refused (an IPv4 connection reaching the emulated
 * {@code ipv6only=on} socket, see {@link SocketPlanner}).
 */
final class Routes {

    private final Map<InetAddress, ListenBinding> exact;
    private final ListenBinding ipv4Default;
    private final ListenBinding ipv6Default;

    Routes(Map<InetAddress, ListenBinding> exact, ListenBinding ipv4Default, ListenBinding ipv6Default) {
        this.exact = Map.copyOf(exact);
        this.ipv4Default = ipv4Default;
        this.ipv6Default = ipv6Default;
    }

    /** The listen for a connection to {@code local}, or null to refuse it. */
    ListenBinding route(InetAddress local) {
        ListenBinding binding = exact.get(local);
        if (binding != null) {
            return binding;
        }
        return local instanceof Inet4Address ? ipv4Default : ipv6Default;
    }
}
