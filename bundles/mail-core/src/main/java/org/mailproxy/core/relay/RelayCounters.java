package org.mailproxy.core.relay;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Totals over all relays that have ended: how many, and the bytes they carried each way. */
public final class RelayCounters {

    private final AtomicLong active = new AtomicLong();
    private final LongAdder finished = new LongAdder();
    private final LongAdder bytesFromClients = new LongAdder();
    private final LongAdder bytesFromBackends = new LongAdder();

    void started() {
        active.incrementAndGet();
    }

    void finished(long fromClient, long fromBackend) {
        active.decrementAndGet();
        finished.increment();
        bytesFromClients.add(fromClient);
        bytesFromBackends.add(fromBackend);
    }

    /** Relays running now. */
    public long active() {
        return active.get();
    }

    /** Relays that have ended. */
    public long finished() {
        return finished.sum();
    }

    /** Bytes client to backend carried by the relays that have ended. */
    public long finishedBytesFromClients() {
        return bytesFromClients.sum();
    }

    /** Bytes backend to client carried by the relays that have ended. */
    public long finishedBytesFromBackends() {
        return bytesFromBackends.sum();
    }
}
