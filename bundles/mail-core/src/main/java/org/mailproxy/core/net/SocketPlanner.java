package org.mailproxy.core.net;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mailproxy.core.config.ListenSpec;

/**
 * Decides which sockets serve a set of listens, following nginx's {@code ngx_mail_optimize_servers}
 * with one deliberate difference for IPv6.
 *
 * <p><b>Sharing a port.</b> Per port and address family, a listen without its own bind (see
 * {@link ListenSpec#needsOwnBind()}) is served by the wildcard socket of that port and family when
 * one is wanted; the server is then chosen per connection by its local address. Listens with their
 * own bind, and all listens of a port without a wildcard, get a socket each (on Linux the kernel
 * refuses a specific address beside a listening wildcard; that failure is reported per listen).
 *
 * <p><b>IPv6 wildcard.</b> nginx binds {@code [::]:port} with {@code IPV6_V6ONLY} on by default, so
 * {@code listen 143; listen [::]:143;} are two sockets. The JDK has no IPV6_V6ONLY option: its
 * {@code [::]:port} socket is always dual-stack, and binding {@code 0.0.0.0:port} beside it fails
 * with EADDRINUSE. So when a port has an IPv6 wildcard listen, this planner binds that one
 * dual-stack socket and routes every connection by local address and family:
 * <ul>
 * <li>IPv6 connections: the IPv6 listen of that address, else the {@code [::]} listen;</li>
 * <li>IPv4 connections (the JDK shows them as plain IPv4 addresses, not {@code ::ffff:a.b.c.d}):
 *     the IPv4 listen of that address, else the {@code 0.0.0.0} listen of the port, else, with
 *     {@code ipv6only=off}, the {@code [::]} listen; with {@code ipv6only=on} (nginx's default) and
 *     no IPv4 listen the connection is closed at once, as if nothing listened there.</li>
 * </ul>
 * IPv4 listens on such a port cannot have a socket or socket options of their own: one that asks
 * for them ({@code bind}, {@code backlog=}, {@code rcvbuf=}, {@code sndbuf=}, {@code ipv6only=},
 * {@code reuseport}, {@code so_keepalive=}) is refused with an {@link UnsupportedListenException},
 * a configuration error at that listen's file:line (see {@link ServableListens}).
 */
final class SocketPlanner {

    /**
     * The outcome.
     *
     * @param sockets  the sockets to have, by key
     * @param socketOf for each input binding (same index), the key of the socket serving it, or null
     * @param refused  for each input binding, why it is not served, or null
     */
    record Plan(Map<SocketPlan.Key, SocketPlan> sockets, List<SocketPlan.Key> socketOf, List<String> refused) {
    }

    private final List<ListenBinding> bindings;
    private final Map<SocketPlan.Key, SocketPlan> sockets = new LinkedHashMap<>();
    private final SocketPlan.Key[] socketOf;
    private final String[] refused;

    private SocketPlanner(List<ListenBinding> bindings) {
        this.bindings = bindings;
        this.socketOf = new SocketPlan.Key[bindings.size()];
        this.refused = new String[bindings.size()];
    }

    /**
     * Plans the sockets for inet listens (unix listens must have been refused before).
     *
     * @throws UnsupportedListenException for an IPv4 listen with socket parameters beside {@code [::]:port}
     */
    static Plan plan(List<ListenBinding> bindings) {
        SocketPlanner planner = new SocketPlanner(bindings);
        planner.planAll();
        return new Plan(Collections.unmodifiableMap(planner.sockets), Arrays.asList(planner.socketOf),
                Arrays.asList(planner.refused));
    }

    private void planAll() {
        Map<InetSocketAddress, Integer> seen = new HashMap<>();
        Map<Integer, List<Integer>> byPort = new LinkedHashMap<>();
        for (int i = 0; i < bindings.size(); i++) {
            ListenSpec spec = spec(i);
            Integer first = seen.putIfAbsent(spec.address(), i);
            if (first != null) {
                refused[i] = "duplicate \"" + spec.addressText() + "\" address and port pair";
                continue;
            }
            byPort.computeIfAbsent(spec.port(), p -> new ArrayList<>()).add(i);
        }
        for (List<Integer> port : byPort.values()) {
            planPort(port);
        }
    }

    private void planPort(List<Integer> port) {
        Integer ipv6Wildcard = wildcard(port, Inet6Address.class);
        Integer ipv4Wildcard = wildcard(port, Inet4Address.class);
        if (ipv6Wildcard != null) {
            planDualStack(port, ipv6Wildcard, ipv4Wildcard);
        } else {
            planFamily(port, Inet4Address.class, ipv4Wildcard);
            planFamily(port, Inet6Address.class, null);
        }
    }

    /** One dual-stack {@code [::]:port} socket routes every listen of the port (see the class comment). */
    private void planDualStack(List<Integer> port, int ipv6Wildcard, Integer ipv4Wildcard) {
        ListenSpec dual = spec(ipv6Wildcard);
        SocketPlan.Key key = key(dual);
        Map<InetAddress, ListenBinding> exact = new HashMap<>();
        for (int i : port) {
            ListenSpec spec = spec(i);
            if (i == ipv6Wildcard || (ipv4Wildcard != null && i == ipv4Wildcard)) {
                socketOf[i] = key;
            } else if (spec.address().getAddress() instanceof Inet6Address && spec.needsOwnBind()) {
                ownSocket(i);
            } else {
                exact.put(spec.address().getAddress(), bindings.get(i));
                socketOf[i] = key;
            }
            if (spec.address().getAddress() instanceof Inet4Address && spec.needsOwnBind()) {
                throw new UnsupportedListenException(spec, ownSocketParameters(spec) + " of \"listen "
                        + spec.addressText() + "\" cannot be honoured: \"listen " + dual.addressText()
                        + "\" is one dual-stack socket that also serves IPv4 on port " + spec.port()
                        + " (Java has no IPV6_V6ONLY), so an IPv4 listen of that port cannot have a socket or "
                        + "socket options of its own");
            }
        }
        ListenBinding ipv4Default;
        if (ipv4Wildcard != null) {
            ipv4Default = bindings.get(ipv4Wildcard);
        } else if (Boolean.FALSE.equals(dual.ipv6only())) {
            ipv4Default = bindings.get(ipv6Wildcard);
        } else {
            ipv4Default = null; // ipv6only=on: nothing listens for IPv4 on other addresses
        }
        add(new SocketPlan(key, dual, new Routes(exact, ipv4Default, bindings.get(ipv6Wildcard))));
    }

    /** {@code the "bind" parameter}, {@code the "backlog=", "reuseport" parameters}: what asks for an own socket. */
    private static String ownSocketParameters(ListenSpec spec) {
        List<String> names = new ArrayList<>();
        if (spec.bind()) {
            names.add("bind");
        }
        if (spec.backlog() != -1) {
            names.add("backlog=");
        }
        if (spec.rcvbuf() != -1) {
            names.add("rcvbuf=");
        }
        if (spec.sndbuf() != -1) {
            names.add("sndbuf=");
        }
        if (spec.ipv6only() != null) {
            names.add("ipv6only=");
        }
        if (spec.reuseport()) {
            names.add("reuseport");
        }
        if (spec.keepalive() != null) {
            names.add("so_keepalive=");
        }
        return "the \"" + String.join("\", \"", names) + (names.size() == 1 ? "\" parameter" : "\" parameters");
    }

    /** Without an IPv6 wildcard each family is planned as nginx does. */
    private void planFamily(List<Integer> port, Class<? extends InetAddress> family, Integer wildcard) {
        Map<InetAddress, ListenBinding> exact = new HashMap<>();
        SocketPlan.Key shared = wildcard == null ? null : key(spec(wildcard));
        for (int i : port) {
            ListenSpec spec = spec(i);
            if (!family.isInstance(spec.address().getAddress())) {
                continue;
            }
            if (shared != null && (i == wildcard || !spec.needsOwnBind())) {
                if (i != wildcard) {
                    exact.put(spec.address().getAddress(), bindings.get(i));
                }
                socketOf[i] = shared;
            } else {
                ownSocket(i);
            }
        }
        if (shared != null) {
            ListenBinding fallback = bindings.get(wildcard);
            add(new SocketPlan(shared, spec(wildcard), family == Inet4Address.class
                    ? new Routes(exact, fallback, null) : new Routes(exact, null, fallback)));
        }
    }

    private void ownSocket(int i) {
        ListenSpec spec = spec(i);
        ListenBinding binding = bindings.get(i);
        boolean ipv4 = spec.address().getAddress() instanceof Inet4Address;
        SocketPlan.Key key = key(spec);
        add(new SocketPlan(key, spec, new Routes(Map.of(), ipv4 ? binding : null, ipv4 ? null : binding)));
        socketOf[i] = key;
    }

    private void add(SocketPlan plan) {
        sockets.put(plan.key(), plan);
    }

    private Integer wildcard(List<Integer> port, Class<? extends InetAddress> family) {
        for (int i : port) {
            ListenSpec spec = spec(i);
            if (spec.isWildcard() && family.isInstance(spec.address().getAddress())) {
                return i;
            }
        }
        return null;
    }

    private ListenSpec spec(int i) {
        return bindings.get(i).spec();
    }

    private static SocketPlan.Key key(ListenSpec spec) {
        return new SocketPlan.Key(spec.address(), SocketOptions.of(spec));
    }
}
