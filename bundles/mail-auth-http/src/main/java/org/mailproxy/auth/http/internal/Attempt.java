package org.mailproxy.auth.http.internal;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP request to the auth server over one new connection, as nginx makes it: connect, send
 * the request, read the response headers, close. {@code auth_http_timeout} covers the whole of it
 * (nginx arms it on connect and never re-arms it on read).
 *
 * <p>Transports report what happens ({@link #received}, {@link #closed}, {@link #failed}) from
 * their own threads; the timer from the scheduler's. The first end wins: it closes the connection
 * and hands the outcome to the {@link AuthExchange}; everything later is ignored.
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

    private final AuthExchange exchange;
    private final AuthHttpUrl url;
    private final byte[] request;
    private final ResponseParser parser = new ResponseParser();
    private final long started = System.nanoTime();
    private volatile ScheduledFuture<?> timer;

    // guarded by this
    private boolean finished;
    private Runnable closer;

    Attempt(AuthExchange exchange, AuthHttpUrl url, byte[] request) {
        this.exchange = exchange;
        this.url = url;
        this.request = request;
    }

    AuthHttpUrl url() {
        return url;
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
     * Sets what closes the connection from now on.
     *
     * @return false when the attempt is over already: the caller closes the connection itself
     */
    synchronized boolean attach(Runnable close) {
        if (finished) {
            return false;
        }
        closer = close;
        return true;
    }

    /** As {@link #attach}, unless a closer is set already (a connection beats a pending connect). */
    synchronized boolean attachIfNone(Runnable close) {
        if (finished) {
            return false;
        }
        if (closer == null) {
            closer = close;
        }
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
        finish();
    }

    private void end(End end) {
        if (finish()) {
            exchange.attemptEnded(this, end);
        }
    }

    private boolean finish() {
        Runnable close;
        synchronized (this) {
            if (finished) {
                return false;
            }
            finished = true;
            close = closer;
            closer = null;
        }
        ScheduledFuture<?> t = timer;
        if (t != null) {
            t.cancel(false);
        }
        if (close != null) {
            try {
                close.run();
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
        String m = cause.getMessage();
        return m == null || m.isEmpty() ? cause.getClass().getSimpleName() : Escape.forLog(m);
    }
}
