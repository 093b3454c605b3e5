package org.mailproxy.core.session;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.mina.core.service.IoProcessor;
import org.apache.mina.core.session.AttributeKey;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.core.write.WriteRequest;
import org.apache.mina.transport.socket.nio.NioProcessor;
import org.apache.mina.transport.socket.nio.NioSession;
import org.mailproxy.core.net.AcceptingIoThreads;

/**
 * The I/O threads of the proxy: a fixed set of MINA {@link NioProcessor}s shared by every
 * listening socket and by the backend connector, like MINA's SimpleIoProcessorPool with these
 * differences that matter to a proxy:
 *
 * <ul>
 * <li><b>The threads accept.</b> Every thread watches every listening socket
 *     ({@link AcceptingIoThreads}); a connection is accepted and served by one thread, as by one
 *     nginx worker, and a busy thread leaves the next connections to a less busy one.</li>
 * <li><b>A session's two connections share a thread.</b> A backend connection is put on the I/O
 *     thread of the client connection it serves (like the two connections of an nginx worker). The
 *     relay then pauses and resumes reads on the thread that runs them, and the session's lock is
 *     uncontended.</li>
 * <li><b>No wake-up of a processor by its own thread</b> ({@link LoopProcessor}).</li>
 * <li><b>Relayed bytes are read into pooled direct buffers</b> ({@link ReadBuffers}), not into a
 *     new heap buffer per read.</li>
 * <li><b>Read suspension from another thread is handed to the owning thread.</b> MINA applies
 *     {@code suspendRead()}/{@code resumeRead()} by a read-modify-write of the selection key's
 *     interest set from the calling thread, which can race with the owner thread's own OP_WRITE
 *     changes and lose an update, and does not wake the selector, so a resumed read may wait up to
 *     the selector's one-second timeout. Here a change requested from any other thread is queued to
 *     the owning processor, which applies it after a wakeup.</li>
 * </ul>
 */
final class IoThreadPool implements IoProcessor<NioSession>, AcceptingIoThreads {

    /** Set on a new connection before it is added: put it on the same processor as this session. */
    static final AttributeKey SAME_THREAD_AS = new AttributeKey(IoThreadPool.class, "sameThreadAs");

    private static final long DISPOSE_WAIT_MILLIS = 10_000;
    private static final Logger LOG = LoggerFactory.getLogger(IoThreadPool.class);

    private static final AttributeKey PROCESSOR = new AttributeKey(IoThreadPool.class, "processor");

    /** Set on a new connection before it is added: put it on this processor (see {@link #current()}). */
    static final AttributeKey ON_PROCESSOR = new AttributeKey(IoThreadPool.class, "onProcessor");

    /** The processor whose loop the current thread runs, if any. */
    private static final ThreadLocal<NioProcessor> RUNNING = new ThreadLocal<>();

    private final LoopProcessor[] processors;
    private final ExecutorService threads;
    private final AtomicInteger next = new AtomicInteger();
    private volatile boolean disposing;
    private volatile boolean disposed;

    IoThreadPool(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("I/O threads: " + size);
        }
        AtomicInteger count = new AtomicInteger();
        threads = Executors.newCachedThreadPool(task -> {
            Thread thread = new Thread(task, "mail-io-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        ReadBuffers.acquire();
        processors = new LoopProcessor[size];
        for (int i = 0; i < size; i++) {
            ProcessorThread executor = new ProcessorThread();
            processors[i] = new LoopProcessor(executor);
            executor.processor = processors[i];
        }
    }

    @Override
    public void add(NioSession session) {
        processorOf(session).add(session);
    }

    @Override
    public void flush(NioSession session) {
        processorOf(session).flush(session);
    }

    @Override
    public void write(NioSession session, WriteRequest writeRequest) {
        processorOf(session).write(session, writeRequest);
    }

    @Override
    public void remove(NioSession session) {
        processorOf(session).remove(session);
    }

    @Override
    public void updateTrafficControl(NioSession session) {
        NioProcessor processor = processorOf(session);
        if (RUNNING.get() == processor) {
            processor.updateTrafficControl(session);
        } else {
            processor.updateTrafficMask(session);
        }
    }

    @Override
    public boolean isDisposing() {
        return disposing;
    }

    @Override
    public boolean isDisposed() {
        return disposed;
    }

    /** Closes every connection still open and stops the threads. */
    @Override
    public void dispose() {
        if (disposing) {
            return;
        }
        disposing = true;
        // MINA's dispose() waits, uninterruptibly, for the processor's loop to finish; a loop
        // thread killed by an Error never finishes, and stopping the bundle would hang. Dispose on
        // a helper thread and give up after a bound: the loops are daemon threads.
        Thread disposer = new Thread(() -> {
            for (NioProcessor processor : processors) {
                processor.dispose();
            }
        }, "mail-io-dispose");
        disposer.setDaemon(true);
        disposer.start();
        try {
            disposer.join(DISPOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (disposer.isAlive()) {
            LOG.warn("I/O threads did not stop within {} ms; they are left to end on their own", DISPOSE_WAIT_MILLIS);
        }
        threads.shutdown();
        ReadBuffers.release();
        disposed = true;
    }

    private NioProcessor processorOf(NioSession session) {
        NioProcessor processor = (NioProcessor) session.getAttribute(PROCESSOR);
        if (processor == null) {
            processor = choose(session);
            NioProcessor raced = (NioProcessor) session.setAttributeIfAbsent(PROCESSOR, processor);
            if (raced != null) {
                processor = raced;
            }
        }
        return processor;
    }

    /** The processor whose loop runs the calling thread, or null. */
    static NioProcessor current() {
        return RUNNING.get();
    }

    /** The number of the processor whose loop runs the calling thread, or -1. */
    int currentIndex() {
        NioProcessor running = RUNNING.get();
        for (int i = 0; running != null && i < processors.length; i++) {
            if (processors[i] == running) {
                return i;
            }
        }
        return -1;
    }

    int size() {
        return processors.length;
    }

    private NioProcessor choose(NioSession session) {
        NioProcessor pinned = (NioProcessor) session.removeAttribute(ON_PROCESSOR);
        if (pinned != null) {
            return pinned;
        }
        IoSession peer = (IoSession) session.removeAttribute(SAME_THREAD_AS);
        if (peer != null) {
            NioProcessor processor = (NioProcessor) peer.getAttribute(PROCESSOR);
            if (processor != null) {
                return processor;
            }
        }
        int here = currentIndex(); // a connection accepted or connected by an I/O thread stays there
        if (here >= 0) {
            return processors[here];
        }
        return processors[Math.floorMod(next.getAndIncrement(), processors.length)];
    }

    @Override
    public void startAccepting(ServerSocketChannel listener, Consumer<SocketChannel> accepted) {
        for (LoopProcessor processor : processors) {
            try {
                processor.startAccepting(listener, accepted);
            } catch (IOException e) {
                stopAccepting(listener);
                throw new UncheckedIOException("watching " + listener + " failed", e);
            }
        }
    }

    @Override
    public void stopAccepting(ServerSocketChannel listener) {
        for (LoopProcessor processor : processors) {
            processor.stopAccepting(listener);
        }
    }

    /** Runs a processor's loop on a pool thread, remembering which processor the thread runs. */
    private final class ProcessorThread implements java.util.concurrent.Executor {
        private volatile LoopProcessor processor;

        @Override
        public void execute(Runnable loop) {
            threads.execute(() -> {
                RUNNING.set(processor);
                processor.loopStarted();
                try {
                    loop.run();
                } finally {
                    processor.loopEnded();
                    RUNNING.remove();
                }
            });
        }
    }
}
