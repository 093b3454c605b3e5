package org.mailproxy.core.session;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.mina.core.polling.AbstractPollingIoProcessor;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.transport.socket.nio.NioProcessor;
import org.apache.mina.transport.socket.nio.NioSession;
import org.mailproxy.core.net.PooledReads;
import org.mailproxy.core.spi.Errno;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 *
 * <p>And it accepts connections ({@link #startAccepting}): a listening channel is watched by every
 * loop, as by every nginx worker; the loop that finds connections waiting accepts them (up to 16
 * per select, so a burst of clients is not left in the backlog while the loop serves its sessions)
 * and serves them, instead of MINA's acceptor thread accepting and waking an I/O thread for each
 * connection. MINA's loop only knows sessions, so the listening keys are handled, and taken out of
 * the selected set, right after the select; MINA's iterations over all keys skip them. When
 * accept() fails for want of descriptors or memory the listener rests for half a second (nginx
 * disables its accept events for as long), instead of failing on every select.
 *
 * <p>And it tells {@link ReadBuffers} which reads are a relay's, to be made into pooled buffers.
 */
final class LoopProcessor extends NioProcessor {

    private static final Logger LOG = LoggerFactory.getLogger(LoopProcessor.class);

    /** nginx: {@code ngx_disable_accept_events()} for 500 ms after EMFILE/ENFILE. */
    private static final long ACCEPT_REST_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long STOP_WAIT_MILLIS = 2_000;
    /** Connections accepted per select and listener at most (one per event starved bursts of clients). */
    private static final int ACCEPT_BATCH = 16;

    /** MINA's private {@code AbstractPollingIoProcessor.startupProcessor()}: the one way to start a loop without a session. */
    private static final Method START_LOOP;

    static {
        try {
            START_LOOP = AbstractPollingIoProcessor.class.getDeclaredMethod("startupProcessor");
            START_LOOP.setAccessible(true);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The thread running this processor's loop, or null between loops (MINA stops an idle loop). */
    private volatile Thread loopThread;

    /** A wake-up asked by the loop thread: read and written by that thread only. */
    private boolean selectNow;

    /** The connection whose last read did not fill its buffer (loop thread only), or null. */
    private NioSession drained;

    /** The direct buffers this loop reads its relays into ({@link ReadBuffers}; loop thread only). */
    private final ReadPool readPool = new ReadPool(this);

    /** {@link #readPool} when the read MINA is about to make is one to pool, else null (loop thread only). */
    private ReadPool nextReadPool;

    /** Listening keys resting after a failed accept() (loop thread only). */
    private final List<SelectionKey> resting = new ArrayList<>();

    /** Callers of {@link #stopAccepting} waiting for a select to have dropped their channel's key. */
    private final Queue<Stop> stopping = new ConcurrentLinkedQueue<>();

    private record Stop(ServerSocketChannel channel, CompletableFuture<Void> done) {
    }

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
        completeStops(); // MINA ends a loop only when its selector holds no key
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
        nextReadPool = null; // MINA has allocated the buffer for this read
        if (session == drained) {
            drained = null;
            return 0; // MINA's read loop asks again right after a read that left room: the socket is empty
        }
        int n = super.read(session, buffer);
        // only TCP's read loop asks twice; a datagram is read once
        drained = n > 0 && buffer.hasRemaining() && session.getTransportMetadata().hasFragmentation() ? session : null;
        return n;
    }

    /**
     * MINA asks this right before it allocates a buffer and reads the connection
     * ({@code AbstractPollingIoProcessor.process}): a read of a relayed connection is marked for
     * {@link ReadBuffers}, which takes the mark at that allocation.
     */
    @Override
    protected boolean isReadable(NioSession session) {
        boolean readable = super.isReadable(session);
        nextReadPool = readable && !session.isReadSuspended() && PooledReads.allowed(session) ? readPool : null;
        return readable;
    }

    /** The pool for the buffer asked for now when it is for a pooled read, else null; forgets the mark. */
    ReadPool takeReadPool() {
        ReadPool pool = nextReadPool;
        nextReadPool = null;
        return pool;
    }

    @Override
    protected void setInterestedInRead(NioSession session, boolean interested) throws Exception {
        if (interested) {
            super.setInterestedInRead(session, true);
        } // else: when the connection turns readable (sortSelected)
    }

    @Override
    protected int select(long timeout) throws Exception {
        boolean stops = !stopping.isEmpty();
        if (stops) {
            selectNow = true; // a select drops cancelled keys; do not wait for an event to get one
        }
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
        if (stops) {
            completeStops();
        }
        if (!resting.isEmpty()) {
            wakeRestingListeners();
        }
        if (isDisposing()) {
            stopAllAccepting();
        }
        if (selected > 0) {
            int listeners = sortSelected();
            if (listeners > 0) {
                selected -= listeners;
                wakeupCalled.set(true); // a select that only accepted is no spurious wake-up
            }
        }
        return selected;
    }

    /**
     * Goes through the selected keys once: accepts on the listening ones (and takes them out of
     * the set, MINA knows only sessions), and takes readable connections whose reading is
     * suspended out of the poll set.
     *
     * @return how many listening keys were selected
     */
    private int sortSelected() {
        int listeners = 0;
        for (Iterator<SelectionKey> keys = selector.selectedKeys().iterator(); keys.hasNext(); ) {
            SelectionKey key = keys.next();
            Object attachment = key.attachment();
            if (attachment instanceof Listening listening) {
                keys.remove();
                listeners++;
                if (key.isValid() && key.isAcceptable()) {
                    accept(key, listening);
                }
            } else if (key.isValid() && (key.readyOps() & SelectionKey.OP_READ) != 0
                    && attachment instanceof NioSession session && session.isReadSuspended()) {
                key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
            }
        }
        return listeners;
    }

    private void accept(SelectionKey key, Listening listening) {
        for (int i = 0; i < ACCEPT_BATCH; i++) {
            SocketChannel connection;
            try {
                connection = listening.channel.accept();
            } catch (ClosedChannelException e) {
                key.cancel();
                return;
            } catch (IOException e) {
                // EMFILE, ENFILE, ENOBUFS, ENOMEM: the connection stays in the backlog
                LOG.error("accept() on {} failed ({})", listening.address, Errno.describe(e));
                key.interestOps(0);
                listening.restingUntil = System.nanoTime() + ACCEPT_REST_NANOS;
                resting.add(key);
                return;
            }
            if (connection == null) { // none left, or another loop took it
                return;
            }
            listening.accepted.accept(connection);
        }
    }

    private void wakeRestingListeners() {
        long now = System.nanoTime();
        for (Iterator<SelectionKey> keys = resting.iterator(); keys.hasNext(); ) {
            SelectionKey key = keys.next();
            if (!key.isValid()) {
                keys.remove();
            } else if (now - ((Listening) key.attachment()).restingUntil >= 0) {
                key.interestOps(SelectionKey.OP_ACCEPT);
                keys.remove();
            }
        }
    }

    /**
     * Watches a bound non-blocking listening channel from this loop, starting the loop if it is
     * not running (MINA runs a loop only while it has sessions; listening keys keep it running).
     */
    void startAccepting(ServerSocketChannel listener, Consumer<SocketChannel> accepted) throws IOException {
        selectorLock.readLock().lock();
        try {
            listener.register(selector, SelectionKey.OP_ACCEPT, new Listening(listener, accepted));
        } finally {
            selectorLock.readLock().unlock();
        }
        startLoop();
    }

    /**
     * Stops watching a listening channel, and waits (a bounded time) for the loop to have dropped
     * it from its poll set: the channel's socket is closed only when no selector holds it, and a
     * listener closed for a reload must free its port at once.
     */
    void stopAccepting(ServerSocketChannel listener) {
        SelectionKey key = listener.keyFor(selector);
        if (key == null) {
            return;
        }
        key.cancel();
        CompletableFuture<Void> dropped = new CompletableFuture<>();
        stopping.add(new Stop(listener, dropped));
        startLoop();
        if (Thread.currentThread() == loopThread) {
            return; // the next select of this very thread drops it
        }
        try {
            dropped.get(STOP_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            LOG.warn("the I/O thread did not release listening socket {} within {} ms", listener, STOP_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Tells the callers of {@link #stopAccepting} whose channel no longer has a key here. */
    private void completeStops() {
        for (Iterator<Stop> i = stopping.iterator(); i.hasNext(); ) {
            Stop stop = i.next();
            if (stop.channel().keyFor(selector) == null) {
                i.remove();
                stop.done().complete(null);
            }
        }
    }

    private void stopAllAccepting() {
        for (SelectionKey key : selector.keys()) {
            if (key.attachment() instanceof Listening) {
                key.cancel();
            }
        }
    }

    /** MINA's {@code startupProcessor()}: starts the loop when it is not running, and wakes it. */
    private void startLoop() {
        try {
            START_LOOP.invoke(this);
        } catch (Throwable e) {
            throw new IllegalStateException("starting the I/O loop failed", e);
        }
    }

    /** MINA's iterations over all keys (idle checks, disposal) see sessions only. */
    @Override
    protected Iterator<NioSession> allSessions() {
        List<NioSession> sessions = new ArrayList<>();
        selectorLock.readLock().lock();
        try {
            for (SelectionKey key : selector.keys()) {
                if (key.attachment() instanceof NioSession session) {
                    sessions.add(session);
                }
            }
        } finally {
            selectorLock.readLock().unlock();
        }
        return sessions.iterator();
    }

    /**
     * MINA's workaround for the JDK's old epoll spin bug moves every key to a fresh selector, and
     * takes every attachment for a session: the listening keys are dropped first (a selectNow
     * deregisters them; MINA calls this only after a select that selected nothing) and registered
     * again on the fresh selector.
     */
    @Override
    protected void registerNewSelector() throws IOException {
        List<Listening> listening = new ArrayList<>();
        for (SelectionKey key : selector.keys()) {
            if (key.attachment() instanceof Listening l) {
                key.cancel();
                if (l.channel.isOpen()) {
                    listening.add(l);
                }
            }
        }
        if (!listening.isEmpty()) {
            selector.selectNow();
            selector.selectedKeys().clear();
        }
        resting.clear();
        super.registerNewSelector();
        selectorLock.readLock().lock();
        try {
            for (Listening l : listening) {
                l.channel.register(selector, SelectionKey.OP_ACCEPT, l);
            }
        } finally {
            selectorLock.readLock().unlock();
        }
    }

    /** A listening channel watched by this loop. */
    private static final class Listening {
        final ServerSocketChannel channel;
        final Consumer<SocketChannel> accepted;
        final String address;
        long restingUntil;

        Listening(ServerSocketChannel channel, Consumer<SocketChannel> accepted) throws IOException {
            this.channel = channel;
            this.accepted = accepted;
            this.address = String.valueOf(channel.getLocalAddress());
        }
    }
}
