package org.mailproxy.core.net;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.mina.core.service.IoHandler;
import org.apache.mina.core.service.IoProcessor;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.transport.socket.nio.NioSession;
import org.mailproxy.core.config.ListenSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All listening sockets of the mail proxy, kept in line with the configured {@code listen}s
 * (nginx: the {@code listening} array of a cycle, with sockets inherited across reloads).
 *
 * <p>{@link #apply} takes the complete wanted set and changes only the difference:
 * <ul>
 * <li>a socket whose address and options are unchanged stays bound, with its open connections;
 *     only its routing (which server gets new connections) is updated;</li>
 * <li>a socket no longer wanted stops listening, while connections accepted on it continue: all
 *     acceptors share the I/O processors given to the constructor and do not close their sessions
 *     when they go away;</li>
 * <li>new sockets are bound; a bind failure affects only the listens that socket serves and is
 *     reported in nginx's words.</li>
 * </ul>
 * Which sockets serve which listens, and the IPv6 dual-stack emulation, are described in
 * {@link SocketPlanner}. Each socket has its own MINA {@code NioSocketAcceptor}.
 *
 * <p>{@code listen unix:...} is refused with an {@link UnsupportedListenException}: MINA has no
 * unix-domain acceptor.
 */
public final class ListenerSet implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ListenerSet.class);

    private final IoProcessor<NioSession> processor;
    private final IoHandler handler;
    private final ExecutorService acceptThreads;
    private final Map<SocketPlan.Key, ListeningSocket> sockets = new LinkedHashMap<>();
    private final Map<Object, ServerConnections> connections = new ConcurrentHashMap<>();
    private List<BindingState> states = List.of();
    private boolean closed;

    /**
     * @param processor the I/O processors shared by all acceptors (and by the backend connector),
     *                  which outlive any single listening socket
     * @param handler   receives the events of every accepted connection; {@link #bindingOf} tells
     *                  which listen a connection came in on
     */
    public ListenerSet(IoProcessor<NioSession> processor, IoHandler handler) {
        this.processor = Objects.requireNonNull(processor, "processor");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.acceptThreads = Executors.newCachedThreadPool(new AcceptThreadFactory());
    }

    /**
     * The listen an accepted connection matched, or null for a connection not accepted here.
     * Its {@link ListenBinding#serverKey()} is the server that serves it.
     */
    public static ListenBinding bindingOf(IoSession connection) {
        RoutingIoHandler.Accepted accepted = (RoutingIoHandler.Accepted) connection.getAttribute(RoutingIoHandler.ACCEPTED);
        return accepted == null ? null : accepted.binding();
    }

    /**
     * Throws if this implementation cannot serve one of {@code wanted}, without touching any socket
     * (see {@link ServableListens} for the same check as a configuration error).
     */
    static SocketPlanner.Plan check(List<ListenBinding> wanted) {
        wanted.forEach(binding -> checkSupported(binding.spec()));
        return SocketPlanner.plan(wanted);
    }

    private static void checkSupported(ListenSpec spec) {
        if (spec.unixPath() != null) {
            throw new UnsupportedListenException(spec, "unix domain sockets are not supported: \"listen "
                    + spec.addressText() + "\" (Apache MINA has no unix-socket acceptor)");
        }
    }

    /**
     * Makes the bound sockets match {@code wanted}, changing only the difference.
     *
     * @param wanted every listen that should be served after the call
     * @return the state of each binding, in the order given
     * @throws UnsupportedListenException when a listen cannot be served at all; nothing is changed then
     */
    public synchronized List<BindingState> apply(List<ListenBinding> wanted) {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        SocketPlanner.Plan plan = check(wanted);

        for (SocketPlan.Key key : new ArrayList<>(sockets.keySet())) {
            if (!plan.sockets().containsKey(key)) {
                ListeningSocket socket = sockets.remove(key);
                socket.close();
                LOG.info("stopped listening on {}", socket);
            }
        }

        Map<SocketPlan.Key, String> failures = new HashMap<>();
        for (SocketPlan socketPlan : plan.sockets().values()) {
            ListeningSocket socket = sockets.get(socketPlan.key());
            if (socket != null) {
                socket.setRoutes(socketPlan.routes());
                continue;
            }
            try {
                socket = ListeningSocket.open(socketPlan, processor, acceptThreads, handler, this::connectionsOf);
                sockets.put(socketPlan.key(), socket);
                LOG.info("listening on {}", socket);
            } catch (IOException e) {
                failures.put(socketPlan.key(), BindError.message(socketPlan.owner().addressText(), e)
                        + (e instanceof BindException ? besideOwnSocket(socketPlan.key()) : ""));
            }
        }

        List<BindingState> result = new ArrayList<>(wanted.size());
        for (int i = 0; i < wanted.size(); i++) {
            result.add(state(wanted.get(i), plan.socketOf().get(i), plan.refused().get(i), failures));
        }
        connections.keySet().retainAll(wanted.stream().map(ListenBinding::serverKey).toList());
        states = List.copyOf(result);
        return states;
    }

    /**
     * Why an address in use may be in use by this proxy itself: on Linux a wildcard and an address
     * of the same port cannot both listen ({@code listen 143; listen 127.0.0.2:143 bind;}) unless
     * both sockets have SO_REUSEPORT. nginx only says "Address already in use" there.
     */
    private String besideOwnSocket(SocketPlan.Key failed) {
        for (ListeningSocket socket : sockets.values()) {
            InetSocketAddress other = socket.key().address();
            InetSocketAddress address = failed.address();
            if (other.getPort() == address.getPort()
                    && other.getAddress().getClass() == address.getAddress().getClass()
                    && other.getAddress().isAnyLocalAddress() != address.getAddress().isAnyLocalAddress()) {
                return ": " + socket + " of this proxy is listening, and on Linux a wildcard and an address of the "
                        + "same port can both listen only when both listens have the \"reuseport\" parameter";
            }
        }
        return "";
    }

    private BindingState state(ListenBinding binding, SocketPlan.Key key, String refused,
                               Map<SocketPlan.Key, String> failures) {
        if (refused != null) {
            return new BindingState(binding, null, refused);
        }
        String failure = failures.get(key);
        if (failure != null) {
            return new BindingState(binding, null, failure);
        }
        return new BindingState(binding, sockets.get(key).localAddress(), null);
    }

    /** The states returned by the last {@link #apply}. */
    public synchronized List<BindingState> states() {
        return states;
    }

    /** Connections accepted for a server key: open now and in total. */
    public ConnectionCounts connections(Object serverKey) {
        ServerConnections counter = connections.get(serverKey);
        return counter == null ? ConnectionCounts.NONE : counter.counts();
    }

    /** Stops listening everywhere. Accepted connections are left to whoever owns the I/O processors. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (ListeningSocket socket : sockets.values()) {
            socket.close();
        }
        sockets.clear();
        states = List.of();
        acceptThreads.shutdown();
    }

    /** The bound socket with this key, or null (for tests). */
    synchronized ListeningSocket socket(SocketPlan.Key key) {
        return sockets.get(key);
    }

    /** The bound sockets (for tests). */
    synchronized List<ListeningSocket> sockets() {
        return List.copyOf(sockets.values());
    }

    private ServerConnections connectionsOf(Object serverKey) {
        return connections.computeIfAbsent(serverKey, key -> new ServerConnections());
    }

    private static final class AcceptThreadFactory implements ThreadFactory {
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(Runnable task) {
            Thread thread = new Thread(task, "mail-accept-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        }
    }
}
