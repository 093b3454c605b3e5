package org.mailproxy.core.session;

import java.nio.channels.SelectionKey;
import java.util.concurrent.Executor;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.transport.socket.nio.NioProcessor;
import org.apache.mina.transport.socket.nio.NioSession;

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
 *
 * <p>It also does not read a socket twice for nothing. MINA reads a readable connection until a
 * read returns nothing or fills the buffer, so every read that does not fill the buffer is
 * followed by one that finds the socket empty ({@code EAGAIN}): a second system call per event,
 * about one in three reads of a session. A read that returns less than the buffer had room for has
 * taken everything the socket held, so the next read of that connection in the same loop is
 * answered "nothing" without asking the kernel (nginx: {@code rev->ready = 0} when {@code recv}
 * returns less than asked). Data or an end of stream that comes meanwhile makes the connection
 * readable for the next select, as with any level-triggered poll.
 *
 * <p>And it stops watching a connection whose reading is suspended only when that connection
 * turns readable. A session suspends its client's reads for every login, while the auth server
 * and the backend answer, and MINA takes the connection out of the poll set at once and puts it
 * back after ({@code epoll_ctl} DEL and ADD: two system calls per session). Nearly always the
 * client sends nothing meanwhile, and nginx, which does not read a blocked client either, leaves
 * its registration alone. Here a suspended connection stays in the poll set; MINA does not read
 * it (it checks the suspension itself), and if it does become readable the select that reports
 * it takes it out of the set, so a level-triggered poll does not report it again and again.
 */
final class LoopProcessor extends NioProcessor {

    /** The thread running this processor's loop, or null between loops (MINA stops an idle loop). */
    private volatile Thread loopThread;

    /** A wake-up asked by the loop thread: read and written by that thread only. */
    private boolean selectNow;

    /** The connection whose last read did not fill its buffer (loop thread only), or null. */
    private NioSession drained;

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
    protected int read(NioSession session, IoBuffer buffer) throws Exception {
        if (session == drained) {
            drained = null;
            return 0; // MINA's read loop asks again right after a read that left room: the socket is empty
        }
        int n = super.read(session, buffer);
        // only TCP's read loop asks twice; a datagram is read once
        drained = n > 0 && buffer.hasRemaining() && session.getTransportMetadata().hasFragmentation() ? session : null;
        return n;
    }

    @Override
    protected void setInterestedInRead(NioSession session, boolean interested) throws Exception {
        if (interested) {
            super.setInterestedInRead(session, true);
        } // else: when the connection turns readable (unwatchSuspendedReaders)
    }

    @Override
    protected int select(long timeout) throws Exception {
        int selected;
        if (selectNow) {
            selectNow = false;
            selectorLock.readLock().lock();
            try {
                selected = selector.selectNow();
            } finally {
                selectorLock.readLock().unlock();
            }
        } else {
            selected = super.select(timeout);
        }
        if (selected > 0) {
            unwatchSuspendedReaders();
        }
        return selected;
    }

    /** Takes the readable connections whose reading is suspended out of the poll set. */
    private void unwatchSuspendedReaders() {
        for (SelectionKey key : selector.selectedKeys()) {
            if (key.isValid() && (key.readyOps() & SelectionKey.OP_READ) != 0
                    && key.attachment() instanceof NioSession session && session.isReadSuspended()) {
                key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
            }
        }
    }
}
