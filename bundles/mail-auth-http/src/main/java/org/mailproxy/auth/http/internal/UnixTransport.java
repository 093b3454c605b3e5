package org.mailproxy.auth.http.internal;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code auth_http unix:/path:/uri}: MINA 2.2 has no unix-socket connector (its NIO connector
 * opens {@code SocketChannel.open()}, always TCP, and the APR transport needs native libraries),
 * so this transport is written by hand on the JDK's own unix-domain channels
 * ({@code SocketChannel.open(StandardProtocolFamily.UNIX)}, Java 16+).
 *
 * <p>One connection per request, as in nginx: requests over a unix socket never ask for keep-alive
 * ({@link AuthHttpSettings#reuseConnections()}).
 *
 * <p>Each request is a short blocking conversation (connect, write, read the headers) run on a
 * small pool of daemon threads of this module, never on a MINA I/O thread nor on the caller's.
 * {@code auth_http_timeout} is enforced by the {@link Attempt}'s timer, which closes the channel:
 * that wakes a blocked connect or read with an {@code AsynchronousCloseException}, which the
 * finished attempt ignores. A request that waits in the queue past its timeout is dropped when
 * its turn comes.
 */
final class UnixTransport implements Transport {

    private static final int THREADS = 4;

    private final ThreadPoolExecutor executor;
    private final Counters counters;

    UnixTransport(Counters counters) {
        this.counters = counters;
        AtomicInteger n = new AtomicInteger();
        executor = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "auth-http-unix-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        executor.allowCoreThreadTimeOut(true);
    }

    @Override
    public void open(Attempt attempt) {
        try {
            executor.execute(() -> run(attempt));
        } catch (RejectedExecutionException e) {
            attempt.connectFailed(e);
        }
    }

    private void run(Attempt attempt) {
        if (attempt.isFinished()) {
            return;
        }
        SocketChannel channel;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        } catch (IOException | UnsupportedOperationException e) {
            attempt.connectFailed(e);
            return;
        }
        try (SocketChannel ch = channel) {
            if (!attempt.attach(() -> closeQuietly(ch))) {
                return;
            }
            try {
                ch.connect(UnixDomainSocketAddress.of(attempt.url().unixPath()));
            } catch (IOException | RuntimeException e) {
                attempt.connectFailed(e);
                return;
            }
            counters.newConnections.increment();
            try {
                ByteBuffer out = ByteBuffer.wrap(attempt.request());
                while (out.hasRemaining()) {
                    ch.write(out);
                }
            } catch (IOException e) {
                attempt.failed("send()", e);
                return;
            }
            ByteBuffer in = ByteBuffer.allocate(ResponseParser.LIMIT);
            try {
                while (!attempt.isFinished()) {
                    in.clear();
                    if (ch.read(in) < 0) {
                        attempt.closed();
                        return;
                    }
                    in.flip();
                    attempt.received(in);
                }
            } catch (IOException e) {
                attempt.failed("recv()", e);
            }
        } catch (IOException e) {
            // close failed: nothing left to do
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // best effort
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
