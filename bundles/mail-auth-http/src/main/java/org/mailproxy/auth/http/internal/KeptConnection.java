package org.mailproxy.auth.http.internal;

import java.nio.ByteBuffer;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One connection to an auth server that can be kept alive ({@link KeepAlive}) and the attempt
 * using it, if any: the state machine both transports share. Used by one attempt at a time
 * ({@code BUSY}); after a response that allows it, the rest of its body is read and discarded
 * ({@code DRAINING}), then it waits in its {@link ConnectionPool} for the next request
 * ({@code IDLE}), at most its idle time; else it is closed ({@code CLOSED}).
 *
 * <p>A kept connection can have been closed by the server while idle without this side having
 * seen it yet (its keep-alive timeout, a restart). When a reused connection closes or fails before
 * any byte of the response came, the request is sent once more on a new connection (a GET that
 * the server did not answer: what HTTP clients do for idempotent requests); never after a part of
 * a response, never for a request on a new connection. The retry counts against the same
 * {@code auth_http_timeout}.
 *
 * <p>What differs by transport is left to it: how a request is sent, how the socket is closed,
 * how a new connection is made, and on which thread things run ({@link #execute}). The state is
 * guarded by this connection's lock, for {@link MinaTransport}, whose connections are used from
 * any thread; {@link UnixTransport} uses its connections on its selector thread only, where the
 * lock is never contended. Socket I/O is done outside the lock. Lock order: a connection, then its
 * attempt; a connection, then its pool.
 */
abstract class KeptConnection implements Attempt.Hold {

    private enum State {
        /** Used by one attempt: connecting, sending its request or awaiting the response. */
        BUSY,
        /** The response headers are in; the rest of its body is read and discarded. */
        DRAINING,
        /** In the pool, waiting for the next request. */
        IDLE,
        CLOSED
    }

    /** Where it goes when idle; null for a connection never kept. */
    private final ConnectionPool<KeptConnection> pool;
    private final ScheduledExecutorService scheduler;
    private final Counters counters;
    private final KeepAlive.Limits limits;

    // guarded by this
    private State state = State.BUSY;
    private Attempt attempt;
    /** Whether the attempt got it from the pool (only such a connection can be stale). */
    private boolean reused;
    /** Response bytes received for the current attempt. */
    private long received;
    private long drainLeft;
    private long idleMillis;
    private long timerGeneration;
    private ScheduledFuture<?> timer;

    /** A new connection, busy with the attempt it is made for. */
    KeptConnection(ConnectionPool<KeptConnection> pool, Attempt attempt, ScheduledExecutorService scheduler,
            Counters counters, KeepAlive.Limits limits) {
        this.pool = pool;
        this.attempt = attempt;
        this.scheduler = scheduler;
        this.counters = counters;
        this.limits = limits;
    }

    /** Sends the attempt's request; a failure is reported by {@link #lost}. */
    abstract void send(Attempt a);

    /** Whether the socket is still open (checked before reuse). */
    abstract boolean isOpen();

    /** Closes the socket; may be called more than once. */
    abstract void closeSocket();

    /** A new connection for the attempt, to be kept in this pool afterwards: the stale-connection retry. */
    abstract void connectAgain(Attempt a, ConnectionPool<KeptConnection> pool);

    /** Whether the transport is closed: no connection is kept, none retried. */
    abstract boolean transportClosed();

    /** Runs the task on the thread this connection's state is used on; here, the calling thread. */
    void execute(Runnable task) {
        task.run();
    }

    /** The attempt using it, or null. */
    final synchronized Attempt attempt() {
        return attempt;
    }

    /**
     * Sends the attempt's request on an idle connection of the pool, the most recently used one
     * that is still usable; false when there is none (the caller connects).
     */
    static boolean reuseIdle(ConnectionPool<KeptConnection> pool, Attempt attempt) {
        for (KeptConnection c = pool.poll(); c != null; c = pool.poll()) {
            if (c.reuse(attempt)) {
                return true;
            }
        }
        return false;
    }

    /** Takes this idle connection for the attempt and sends its request; false if no longer usable. */
    private boolean reuse(Attempt a) {
        synchronized (this) {
            if (state != State.IDLE || !isOpen()) {
                return false;
            }
            cancelTimer();
            state = State.BUSY;
            attempt = a;
            reused = true;
            received = 0;
            // attached under this lock: a close reported meanwhile finds the attempt holding
            // this connection, and retries it (lock order: connection, then attempt)
            if (!a.attach(this)) {
                // the attempt is over already (timed out, cancelled): nothing was sent
                markClosed();
                a = null;
            }
        }
        if (a == null) {
            closeSocket();
            return true;
        }
        counters.reusedConnections.increment();
        send(a);
        return true;
    }

    /** The new connection is open: send the request of its attempt, if that still waits. */
    final void opened() {
        Attempt a;
        synchronized (this) {
            a = state == State.BUSY ? attempt : null;
        }
        if (a == null || a.isFinished()) {
            close();
            return;
        }
        send(a);
    }

    /** Bytes from the server: the response of its attempt, the body being drained, or too many. */
    final void received(ByteBuffer data) {
        int n = data.remaining();
        Attempt a = null;
        boolean close = false;
        synchronized (this) {
            switch (state) {
            case BUSY:
                a = attempt;
                received += n;
                break;
            case DRAINING:
                drainLeft -= n;
                if (drainLeft == 0) {
                    close = !idle();
                } else if (drainLeft < 0) {
                    // more than Content-Length: the next response could not be told apart
                    close = true;
                }
                break;
            case IDLE:
                // nothing was asked: a server that talks now is not to be trusted with the next request
                close = true;
                break;
            default:
                break;
            }
            if (close) {
                markClosed();
            }
        }
        if (close) {
            closeSocket();
        }
        if (a != null) {
            a.received(data); // its end may release this connection, right here
        }
    }

    /**
     * The attempt is over: keep the connection when its response allowed it, else close it.
     * Called on whichever thread ended the attempt.
     */
    @Override
    public final void release(Attempt a, KeepAlive.Reuse reuse) {
        execute(() -> released(a, reuse));
    }

    private void released(Attempt a, KeepAlive.Reuse reuse) {
        boolean close;
        synchronized (this) {
            if (attempt != a || state != State.BUSY) {
                return;
            }
            attempt = null;
            idleMillis = reuse == null ? 0 : limits.idleMillis(reuse);
            if (pool == null || transportClosed() || idleMillis <= 0) {
                close = true;
            } else if (reuse.bodyLeft() > 0) {
                state = State.DRAINING;
                drainLeft = reuse.bodyLeft();
                // the body must come within the idle time, or the connection goes
                close = !schedule(idleMillis);
            } else {
                close = !idle();
            }
            if (close) {
                markClosed();
            }
        }
        if (close) {
            closeSocket();
        }
    }

    /** Into the pool; false when it cannot go there. Called under this lock. */
    private boolean idle() {
        state = State.IDLE;
        attempt = null;
        if (!schedule(idleMillis)) {
            return false;
        }
        if (!pool.offer(this)) {
            cancelTimer();
            return false;
        }
        return true;
    }

    /** Arms the expiry timer; false when the module is stopping. Called under this lock. */
    private boolean schedule(long millis) {
        cancelTimer();
        long generation = ++timerGeneration;
        try {
            timer = scheduler.schedule(() -> execute(() -> expire(generation)), millis, TimeUnit.MILLISECONDS);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    private void cancelTimer() {
        timerGeneration++;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** Idle (or draining) too long. */
    private void expire(long generation) {
        synchronized (this) {
            if (generation != timerGeneration || state != State.IDLE && state != State.DRAINING) {
                return;
            }
            markClosed();
        }
        closeSocket();
    }

    /** Out of the pool and closed for good, whatever its state (its attempt, if any, is over). */
    final void close() {
        synchronized (this) {
            markClosed();
        }
        closeSocket();
    }

    /** Out of the pool, for good; the caller then closes the socket. Called under this lock. */
    private void markClosed() {
        if (state == State.IDLE) {
            pool.remove(this);
        }
        state = State.CLOSED;
        attempt = null;
        cancelTimer();
    }

    /**
     * The connection closed (cause null) or failed. The attempt using it gets the error, or a
     * new connection when this was a kept one on which nothing of the response came.
     *
     * @param operation what failed, for the log line: {@code send()}, {@code recv()}
     */
    final void lost(String operation, Throwable cause) {
        Attempt a = null;
        boolean retry = false;
        synchronized (this) {
            if (state == State.BUSY) {
                a = attempt;
                retry = reused && received == 0;
            }
            markClosed();
        }
        closeSocket();
        if (a == null) {
            return;
        }
        if (retry && !transportClosed() && a.detach(this)) {
            counters.staleRetries.increment();
            connectAgain(a, pool);
        } else if (cause == null) {
            a.closed();
        } else {
            a.failed(operation, cause);
        }
    }
}
