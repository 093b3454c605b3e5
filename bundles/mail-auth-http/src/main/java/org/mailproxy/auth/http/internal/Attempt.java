package org.mailproxy.auth.http.internal;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.mailproxy.core.spi.Errno;

/**
 * One HTTP request to the auth server: connect (or take a kept-alive connection), send the request,
 * read the response headers, then close the connection or, when the request asked for reuse and
 * the response allows it ({@link KeepAlive#check}), hand it back to its transport.
 * {@code auth_http_timeout} covers the whole of it (nginx arms it on connect and never re-arms it
 * on read), a retry on a fresh connection after a stale kept-alive one included.
 *
 * <p>Transports report what happens ({@link #received}, {@link #closed}, {@link #failed}) from
 * their own threads; the timer from the scheduler's. The first end wins: it releases the
 * connection (to be kept only after a complete response) and hands the outcome to the
 * {@link AuthExchange}; everything later is ignored.
 */
final class Attempt {

    /** How an attempt ended. */
    sealed interface End {
    }

    /** The response headers were read completely. */
    record Response(List<ResponseParser.Header> headers) implements End {
    }

    /**
     * No usable response: the text for the log line (nginx's words, peer name included).
     *
     * @param timeout whether it was {@code auth_http_timeout}
     */
    record Broken(String message, boolean timeout) implements End {
    }

    /** What an attempt holds while it runs: its connection, or a connect under way. */
    @FunctionalInterface
    interface Hold {
        /**
         * The attempt is over.
         *
         * @param reuse null to close the connection; else the response allowed keeping it
         */
        void release(Attempt attempt, KeepAlive.Reuse reuse);
    }

    private final AuthExchange exchange;
    private final AuthHttpUrl url;
    private final byte[] request;
    private final KeepAlive.Limits keepAlive;
    private final ResponseParser parser = new ResponseParser();
    private final long started = System.nanoTime();
    private volatile ScheduledFuture<?> timer;

    // guarded by this
    private boolean finished;
    private Hold hold;
    private KeepAlive.Reuse reuse;

    /**
     * @param keepAlive the pool's limits when the request asks to keep the connection, else null
     */
    Attempt(AuthExchange exchange, AuthHttpUrl url, byte[] request, KeepAlive.Limits keepAlive) {
        this.exchange = exchange;
        this.url = url;
        this.request = request;
        this.keepAlive = keepAlive;
    }

    AuthHttpUrl url() {
        return url;
    }

    /** The pool's limits when the request asked to keep the connection, else null (close it). */
    KeepAlive.Limits keepAlive() {
        return keepAlive;
    }

    /** The request bytes (not to be logged: they hold the password). */
    byte[] request() {
        return request;
    }

    void start(Transport transport, ScheduledExecutorService scheduler, long timeoutMillis) {
        timer = scheduler.schedule(this::timedOut, timeoutMillis, TimeUnit.MILLISECONDS);
        transport.open(this);
    }

    synchronized boolean isFinished() {
        return finished;
    }

    /**
     * Sets the connection released when the attempt ends, from now on.
     *
     * @return false when the attempt is over already: the caller closes (or keeps) it itself
     */
    synchronized boolean attach(Hold h) {
        if (finished) {
            return false;
        }
        hold = h;
        return true;
    }

    /** {@link #attach} for a connection that is never kept: the runnable closes it. */
    boolean attach(Runnable close) {
        return attach((a, r) -> close.run());
    }

    /** As {@link #attach}, unless a hold is set already (a connection beats a pending connect). */
    synchronized boolean attachIfNone(Runnable close) {
        if (finished) {
            return false;
        }
        if (hold == null) {
            hold = (a, r) -> close.run();
        }
        return true;
    }

    /**
     * Lets go of this connection without ending the attempt, which goes on with another one (the
     * transport retries after a stale kept-alive connection).
     *
     * @return false when the attempt is over, or holds another connection already
     */
    synchronized boolean detach(Hold h) {
        if (finished || hold != h) {
            return false;
        }
        hold = null;
        return true;
    }

    /** Bytes from the auth server. */
    void received(ByteBuffer data) {
        ResponseParser.Status status;
        synchronized (this) {
            if (finished) {
                return;
            }
            status = parser.feed(data);
            if (status == ResponseParser.Status.DONE && keepAlive != null) {
                // what the parser took after the empty line, and what did not fit, is body
                reuse = KeepAlive.check(parser.statusLineText(), parser.headers(),
                        (long) parser.bodyBytesRead() + data.remaining(), keepAlive);
            }
        }
        String peer = "auth http server " + url.peerName();
        switch (status) {
        case MORE:
            return;
        case DONE:
            end(new Response(List.copyOf(parser.headers())));
            return;
        case INVALID_RESPONSE:
            end(new Broken(peer + " sent invalid response", false));
            return;
        case INVALID_HEADER:
            end(new Broken(peer + " sent invalid header in response", false));
            return;
        default:
            end(new Broken(peer + " sent too big response (more than " + ResponseParser.LIMIT
                    + " bytes before the end of the headers)", false));
        }
    }

    /** The auth server closed the connection. */
    void closed() {
        end(new Broken("auth http server " + url.peerName() + " prematurely closed connection", false));
    }

    /** A socket operation failed: {@code connect() to X}, {@code send()}, {@code recv()}. */
    void failed(String operation, Throwable cause) {
        end(new Broken(operation + " failed (" + reason(cause) + ")", false));
    }

    void connectFailed(Throwable cause) {
        failed("connect() to " + url.peerName(), cause);
    }

    private void timedOut() {
        end(new Broken("auth http server " + url.peerName() + " timed out", true));
    }

    /** Ends the attempt without an outcome (the exchange is over), closing the connection. */
    void abort() {
        finish(false);
    }

    private void end(End end) {
        if (finish(end instanceof Response)) {
            exchange.attemptEnded(this, end);
        }
    }

    /** @param complete whether the end is the complete response (only then may the connection stay) */
    private boolean finish(boolean complete) {
        Hold h;
        KeepAlive.Reuse r;
        synchronized (this) {
            if (finished) {
                return false;
            }
            finished = true;
            h = hold;
            hold = null;
            r = complete ? reuse : null;
        }
        ScheduledFuture<?> t = timer;
        if (t != null) {
            t.cancel(false);
        }
        if (h != null) {
            try {
                h.release(this, r);
            } catch (RuntimeException e) {
                // closing is best effort
            }
        }
        exchange.counters().latency(System.nanoTime() - started);
        return true;
    }

    private static String reason(Throwable cause) {
        if (cause == null) {
            return "unknown error";
        }
        return Escape.forLog(Errno.describe(cause));
    }
}
