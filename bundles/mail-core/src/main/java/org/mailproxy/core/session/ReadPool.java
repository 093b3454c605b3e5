package org.mailproxy.core.session;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * The direct buffers one I/O thread reads its relays into ({@link ReadBuffers}): a free list per
 * power-of-two size from 64 bytes to {@link ReadBuffers#MAX_POOLED}, of up to {@link #KEPT} buffers
 * each. Used only by the thread that runs the loop of its {@link LoopProcessor}, so nothing is
 * locked.
 *
 * <p>A relay holds about two buffers per direction at most (its back-pressure), and a buffer comes
 * back as soon as it is written, so a thread keeps about as many as it has relays sending at the
 * same moment. A buffer that does not come back (the connection closed with it still queued) is
 * left to the garbage collector, which frees its memory.
 */
final class ReadPool {

    /** Free buffers kept per size; more coming back are left to the garbage collector. */
    static final int KEPT = 128;

    private static final int MIN_SHIFT = 6;

    private final LoopProcessor owner;
    private final ArrayDeque<ByteBuffer>[] free;

    @SuppressWarnings("unchecked")
    ReadPool(LoopProcessor owner) {
        this.owner = owner;
        int classes = Integer.numberOfTrailingZeros(ReadBuffers.MAX_POOLED) - MIN_SHIFT + 1;
        free = new ArrayDeque[classes];
        for (int i = 0; i < classes; i++) {
            free[i] = new ArrayDeque<>();
        }
    }

    /** A cleared direct buffer with room for {@code capacity} bytes (at most {@link ReadBuffers#MAX_POOLED}), its limit there. */
    ByteBuffer take(int capacity) {
        int size = sizeFor(capacity);
        ByteBuffer buffer = free[classOf(size)].pollLast();
        if (buffer == null) {
            buffer = ByteBuffer.allocateDirect(size);
        }
        buffer.clear().limit(capacity);
        return buffer;
    }

    /** Takes a buffer back, when called on the thread of its loop (another thread's is dropped). */
    void give(ByteBuffer buffer) {
        if (IoThreadPool.current() != owner) {
            return;
        }
        ArrayDeque<ByteBuffer> list = free[classOf(buffer.capacity())];
        if (list.size() < KEPT) {
            list.addLast(buffer);
        }
    }

    /** Free buffers of the size that holds {@code capacity} bytes (for tests). */
    int freeFor(int capacity) {
        return free[classOf(sizeFor(capacity))].size();
    }

    private static int sizeFor(int capacity) {
        int size = Integer.highestOneBit(Math.max(capacity, 1 << MIN_SHIFT) - 1) << 1;
        return Math.max(size, 1 << MIN_SHIFT);
    }

    private static int classOf(int size) {
        return Integer.numberOfTrailingZeros(size) - MIN_SHIFT;
    }
}
