package org.mailproxy.core.relay;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.core.session.IoSessionConfig;
import org.mailproxy.core.net.PooledReads;
import org.mailproxy.core.session.MailLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The byte pump between a logged-in client and its backend (nginx: {@code ngx_mail_proxy_handler}):
 * no parsing, no copying, no per-packet logging; over plain connections the bytes are read into
 * pooled direct buffers ({@link PooledReads}). It belongs to the core, so it keeps running when
 * the protocol bundle that logged the client in goes away.
 *
 * <ul>
 * <li>Back-pressure per direction ({@link Flow}): a side is not read while the other side has more
 *     than {@code proxy_buffer} bytes queued, and reads at most {@code proxy_buffer} at a time, so
 *     each direction holds about two buffers at worst, as nginx holds one.</li>
 * <li>{@code proxy_timeout}: both connections are closed when neither has read or written anything
 *     for that long.</li>
 * <li>When one side ends, the other is closed once the data queued for it is written, as nginx
 *     closes the session once the data read before the EOF has been sent.</li>
 * </ul>
 *
 * <p>The caller routes MINA events of the two sessions here; all methods are thread-safe.
 */
public final class Relay {

    private static final Logger LOG = LoggerFactory.getLogger(Relay.class);

    private final long id;
    private final IoSession client;
    private final IoSession backend;
    private final int proxyBuffer;
    private final Flow upstream;
    private final Flow downstream;
    private final DeadlineTimer idleTimer;
    private final RelayCounters counters;
    private final AtomicBoolean finished = new AtomicBoolean();
    private volatile boolean timedOut;

    /**
     * @param id           the session id, for log lines
     * @param client       the client connection
     * @param backend      the backend connection
     * @param proxyBuffer  {@code proxy_buffer}: the read size and the queue limit per direction
     * @param proxyTimeout {@code proxy_timeout}
     * @param scheduler    runs the idle check
     * @param counters     where the relay reports its bytes when it ends
     */
    public Relay(long id, IoSession client, IoSession backend, int proxyBuffer, Duration proxyTimeout,
                 ScheduledExecutorService scheduler, RelayCounters counters) {
        this.id = id;
        this.client = client;
        this.backend = backend;
        this.proxyBuffer = proxyBuffer;
        this.upstream = new Flow(client, backend, proxyBuffer);
        this.downstream = new Flow(backend, client, proxyBuffer);
        this.counters = counters;
        long timeout = proxyTimeout.toMillis();
        this.idleTimer = new DeadlineTimer(scheduler,
                () -> Math.max(client.getLastIoTime(), backend.getLastIoTime()) + timeout, timeout, this::timedOut);
    }

    /**
     * Starts relaying. Writes what must go first each way (the backend's last login reply and
     * anything after it; the bytes the client pipelined during the login), then lets the client be
     * read again unless those bytes already fill the backend's queue. The client's reads are
     * expected to be suspended when this is called.
     *
     * @param toClient  sent to the client first, or null
     * @param toBackend sent to the backend first, or null
     */
    public void start(IoBuffer toClient, IoBuffer toBackend) {
        counters.started();
        PooledReads.allow(client, backend);
        limitReads(client.getConfig());
        limitReads(backend.getConfig());
        downstream.forward(toClient);
        upstream.forward(toBackend);
        idleTimer.arm();
        if (!upstream.isPaused()) {
            client.resumeRead();
        }
    }

    /** Bytes read from the client. */
    public void fromClient(IoBuffer data) {
        upstream.forward(data);
    }

    /** Bytes read from the backend. */
    public void fromBackend(IoBuffer data) {
        downstream.forward(data);
    }

    /** The client connection finished writing a buffer. */
    public void sentToClient() {
        downstream.drained();
    }

    /** The backend connection finished writing a buffer. */
    public void sentToBackend() {
        upstream.drained();
    }

    /** {@code side} sent EOF: flush what is queued each way, then close both. */
    public void inputClosed(IoSession side) {
        side.closeOnFlush();
        other(side).closeOnFlush();
    }

    /** {@code side} is closed: close the other once its queued data is written. */
    public void closed(IoSession side) {
        other(side).closeOnFlush();
        if (finished.compareAndSet(false, true)) {
            idleTimer.cancel();
            counters.finished(upstream.bytes(), downstream.bytes());
            LOG.debug("*{} proxied session done, {} bytes from client, {} bytes from upstream", id,
                    upstream.bytes(), downstream.bytes());
        }
    }

    /** Bytes relayed from the client to the backend so far. */
    public long bytesFromClient() {
        return upstream.bytes();
    }

    /** Bytes relayed from the backend to the client so far. */
    public long bytesFromBackend() {
        return downstream.bytes();
    }

    private IoSession other(IoSession side) {
        return side == client ? backend : client;
    }

    /** nginx reads at most proxy_buffer at a time; MINA would grow its reads up to 64 KiB. */
    private void limitReads(IoSessionConfig config) {
        int max = Math.max(proxyBuffer, config.getMinReadBufferSize());
        if (config.getReadBufferSize() > max) {
            config.setReadBufferSize(max);
        }
        config.setMaxReadBufferSize(max);
    }

    /** Whether the relay ended because of {@code proxy_timeout} (for the session log). */
    public boolean endedByTimeout() {
        return timedOut;
    }

    private void timedOut() {
        timedOut = true;
        MailLog.timedOut(LOG, id, "client", MailLog.PROXYING);
        client.closeNow();
        backend.closeNow();
    }
}
