package org.mailproxy.core.relay;

import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.session.IoSession;

/**
 * One direction of the relay: bytes read from {@code source} are written to {@code sink} as they
 * are, and reading from the source stops while the sink has more than {@code proxy_buffer} bytes
 * queued (nginx: a full {@code proxy_buffer} stops reading that side).
 *
 * <p>Pausing and resuming may happen on two threads (the source's reader, the sink's
 * messageSent). The order "suspend, mark paused, look again" on one side and "look, unmark,
 * resume" on the other means a drain that races with a pause never leaves the source stuck.
 */
final class Flow {

    private final IoSession source;
    private final IoSession sink;
    private final int highWater;
    private final int lowWater;
    private final AtomicBoolean paused = new AtomicBoolean();
    private long bytes; // written only by the source's I/O thread

    Flow(IoSession source, IoSession sink, int proxyBuffer) {
        this.source = source;
        this.sink = sink;
        this.highWater = proxyBuffer;
        this.lowWater = proxyBuffer / 2;
    }

    /**
     * Forwards a buffer read from the source. MINA's NioProcessor allocates a buffer for every read
     * ({@code AbstractPollingIoProcessor.read}: {@code IoBuffer.allocate(readBufferSize)}, handed to
     * the filter chain and never touched again), and SslFilter unwraps into a fresh buffer too
     * ({@code SSLHandlerG0.receive_loop}), so queueing that very buffer on the other connection is
     * safe: no copy, no String, no new buffer. It is freed once written ({@code PooledReads.written});
     * a pooled read buffer then goes back to its pool, so nothing may keep it after this.
     */
    void forward(IoBuffer data) {
        if (data == null || !data.hasRemaining()) {
            return;
        }
        bytes += data.remaining();
        sink.write(data);
        if (sink.getScheduledWriteBytes() > highWater) {
            pause();
        }
    }

    /** The sink finished writing a buffer. */
    void drained() {
        if (paused.get() && sink.getScheduledWriteBytes() <= lowWater) {
            resume();
        }
    }

    boolean isPaused() {
        return paused.get();
    }

    long bytes() {
        return bytes;
    }

    private void pause() {
        source.suspendRead();
        paused.set(true);
        if (sink.getScheduledWriteBytes() <= lowWater) {
            resume(); // drained between the write and the pause
        }
    }

    private void resume() {
        if (paused.compareAndSet(true, false)) {
            source.resumeRead();
        }
    }
}
