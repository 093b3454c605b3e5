package org.mailproxy.core.session;

import java.util.concurrent.Executor;
import org.apache.mina.transport.socket.nio.NioProcessor;

/**
 * A MINA {@link NioProcessor} that does not wake its own selector.
 *
 * <p>MINA wakes the processor's selector whenever a session has something to flush, also when the
 * write comes from the processor's own loop thread, which is the common case of a proxy: a line
 * read from one connection is answered, or forwarded to the other connection, while the loop
 * handles the read. On Linux each wake-up is an {@code eventfd} write, and it makes the next
 * {@code epoll_wait} return at once only to read the {@code eventfd} back: three system calls per
 * write that nginx does not make. The loop flushes what was written during an iteration at the end
 * of that iteration anyway; all it must not do is block in the next select while something
 * written late in the iteration (by a close or idle handler, after the flush step) still waits.
 * So a wake-up requested by the loop thread itself only marks the next select to be
 * {@link java.nio.channels.Selector#selectNow() non-blocking}; a wake-up from any other thread
 * (an acceptor, a connector, a timer) wakes the selector as MINA does.
 */
final class LoopProcessor extends NioProcessor {

    /** The thread running this processor's loop, or null between loops (MINA stops an idle loop). */
    private volatile Thread loopThread;

    /** A wake-up asked by the loop thread: read and written by that thread only. */
    private boolean selectNow;

    /**
     * @param threads runs the loop; {@link #loopStarted()} and {@link #loopEnded()} must be called
     *                around it on the thread that runs it
     */
    LoopProcessor(Executor threads) {
        super(threads);
    }

    void loopStarted() {
        loopThread = Thread.currentThread();
    }

    void loopEnded() {
        loopThread = null;
    }

    @Override
    protected void wakeup() {
        if (Thread.currentThread() == loopThread) {
            wakeupCalled.set(true); // MINA's epoll-spin detection must not count this select
            selectNow = true;
        } else {
            super.wakeup();
        }
    }

    @Override
    protected int select(long timeout) throws Exception {
        if (selectNow) {
            selectNow = false;
            selectorLock.readLock().lock();
            try {
                return selector.selectNow();
            } finally {
                selectorLock.readLock().unlock();
            }
        }
        return super.select(timeout);
    }
}
