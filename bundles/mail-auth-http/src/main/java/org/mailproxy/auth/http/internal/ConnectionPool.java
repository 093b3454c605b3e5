package org.mailproxy.auth.http.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The idle connections to one auth_http address: at most {@code maxIdle}, the most recently used
 * taken first (the warmest; the others reach their idle timeout and go). A connection is in here
 * only while idle: taking it out is what gives it to one request, so that no two requests ever
 * share one.
 *
 * <p>Only the idle set is guarded here; whether a connection taken out is still usable (closed
 * meanwhile, expired) is for the connection to say, under its own lock. Lock order: a connection's
 * lock, then the pool's, never the other way round.
 *
 * @param <C> the connection type
 */
final class ConnectionPool<C> {

    private final int maxIdle;
    private final AtomicLong idleGauge;

    // guarded by this
    private final ArrayDeque<C> idle = new ArrayDeque<>();
    private boolean closed;

    /**
     * @param idleGauge counts the idle connections of all pools (the stats' {@code idleConnections})
     */
    ConnectionPool(int maxIdle, AtomicLong idleGauge) {
        this.maxIdle = maxIdle;
        this.idleGauge = idleGauge;
    }

    /** Keeps an idle connection; false when the pool is full or closed (the caller closes it). */
    synchronized boolean offer(C connection) {
        if (closed || idle.size() >= maxIdle) {
            return false;
        }
        idle.push(connection);
        idleGauge.incrementAndGet();
        return true;
    }

    /** The most recently offered idle connection, taken out; null when none. */
    synchronized C poll() {
        C c = idle.poll();
        if (c != null) {
            idleGauge.decrementAndGet();
        }
        return c;
    }

    /** Takes out a connection that closed or expired while idle, if it is still in here. */
    synchronized void remove(C connection) {
        if (idle.remove(connection)) {
            idleGauge.decrementAndGet();
        }
    }

    /** Refuses connections from now on; returns the idle ones, for the caller to close. */
    synchronized List<C> close() {
        closed = true;
        List<C> all = new ArrayList<>(idle);
        idleGauge.addAndGet(-idle.size());
        idle.clear();
        return all;
    }
}
