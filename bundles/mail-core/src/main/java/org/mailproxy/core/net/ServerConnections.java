package org.mailproxy.core.net;

import java.util.concurrent.atomic.AtomicLong;

/** Accepted connections of one server key; shared by every socket that routes to it. */
final class ServerConnections {

    private final AtomicLong current = new AtomicLong();
    private final AtomicLong total = new AtomicLong();

    void opened() {
        current.incrementAndGet();
        total.incrementAndGet();
    }

    void closed() {
        current.decrementAndGet();
    }

    ConnectionCounts counts() {
        return new ConnectionCounts(current.get(), total.get());
    }
}
