package org.mailproxy.core.net;

import java.net.InetSocketAddress;
import org.mailproxy.core.config.ListenSpec;

/**
 * One socket to have bound: its address and options (together its identity across reloads), the
 * listen it is bound for (named in error messages), and how its connections are routed.
 */
record SocketPlan(Key key, ListenSpec owner, Routes routes) {

    /** A socket with the same key is the same socket: it stays bound across {@link ListenerSet#apply}. */
    record Key(InetSocketAddress address, SocketOptions options) {
    }
}
