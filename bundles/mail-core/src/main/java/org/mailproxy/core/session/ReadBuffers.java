package org.mailproxy.core.session;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Supplier;
import org.apache.mina.core.buffer.AbstractIoBuffer;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.buffer.IoBufferAllocator;
import org.apache.mina.core.buffer.SimpleBufferAllocator;
import org.apache.mina.transport.socket.nio.NioProcessor;
import org.mailproxy.core.net.PooledReads;

/**
 * MINA's buffer allocator while the proxy's I/O threads run: a read of a relayed connection
 * ({@link PooledReads}) gets a direct buffer from the {@link ReadPool} of its I/O thread; every
 * other buffer is what MINA's default allocator gives, a new heap buffer that freeing leaves alone.
 *
 * <p>MINA allocates a buffer for every read (its {@code AbstractPollingIoProcessor.read} calls
 * {@link IoBuffer#allocate(int)}, the one place to hook in). A new heap buffer costs the relay, per
 * read, zeroing it and two copies inside the JDK, which reads into and writes from a direct buffer
 * of its own and copies to and from the heap ({@code sun.nio.ch.IOUtil}). The kernel reads into a
 * pooled direct buffer and writes from it with nothing in between, and it is not garbage: freed
 * once written ({@link PooledReads#written}), it goes back to the pool.
 *
 * <p>Written here rather than with MINA's {@code CachedBufferAllocator}: that one pools every
 * buffer of every thread (a protocol that keeps a buffer it wrote would see it reused), MINA 2.2
 * frees only the duplicate of a buffer it writes (which that pool does not take back), its pools
 * are thread-locals of boxed sizes with a queue node allocated per buffer given back, and, like
 * every MINA allocator, its buffers make it the global allocator when they are created
 * ({@code AbstractIoBuffer}'s constructor calls the static {@link IoBuffer#setAllocator}): inside
 * this allocator it would replace it. So the buffers here are this allocator's own.
 *
 * <p>The allocator is MINA's global one: it is installed while an {@link IoThreadPool} exists
 * ({@link #acquire()}) and MINA's default is put back when the last one is disposed
 * ({@link #release()}), so a stopped core leaves nothing of its classes in MINA.
 */
final class ReadBuffers implements IoBufferAllocator {

    /** The largest read that is pooled (proxy_buffer of up to 64k); a larger one gets a heap buffer. */
    static final int MAX_POOLED = 64 * 1024;

    private static int users;
    private static ReadBuffers installed;

    private final Supplier<ReadPool> pooledReadNext;
    private volatile boolean released;

    /** @param pooledReadNext the pool for the allocation asked for now when it is a read to pool, else null */
    ReadBuffers(Supplier<ReadPool> pooledReadNext) {
        this.pooledReadNext = pooledReadNext;
    }

    /** Installs the allocator for the I/O threads' loops, for one more {@link IoThreadPool}. */
    static synchronized void acquire() {
        if (users++ == 0) {
            installed = new ReadBuffers(ReadBuffers::loopReadPool);
            IoBuffer.setAllocator(installed);
        }
    }

    /** One {@link IoThreadPool} fewer: the last one puts MINA's default allocator back. */
    static synchronized void release() {
        if (users > 0 && --users == 0) {
            installed.released = true; // a thread that still holds it makes MINA's default buffers
            installed = null;
            IoBuffer.setAllocator(new SimpleBufferAllocator());
        }
    }

    private static ReadPool loopReadPool() {
        NioProcessor loop = IoThreadPool.current();
        return loop instanceof LoopProcessor ? ((LoopProcessor) loop).takeReadPool() : null;
    }

    @Override
    public IoBuffer allocate(int capacity, boolean direct) {
        if (released) {
            return new SimpleBufferAllocator().allocate(capacity, direct);
        }
        ReadPool pool = pooledReadNext.get();
        if (pool != null && capacity <= MAX_POOLED) {
            return new Buffer(pool.take(capacity), pool);
        }
        return new Buffer(allocateNioBuffer(capacity, direct), null);
    }

    @Override
    public ByteBuffer allocateNioBuffer(int capacity, boolean direct) {
        return direct ? ByteBuffer.allocateDirect(capacity) : ByteBuffer.allocate(capacity);
    }

    @Override
    public IoBuffer wrap(ByteBuffer nioBuffer) {
        if (released) {
            return new SimpleBufferAllocator().wrap(nioBuffer);
        }
        return new Buffer(nioBuffer, null);
    }

    @Override
    public void dispose() {
        // MINA calls this whenever a buffer is created (see the class comment): nothing to do
    }

    /** MINA's buffer over a NIO buffer, as its SimpleBuffer; a pooled one goes back to its pool when freed. */
    private final class Buffer extends AbstractIoBuffer {
        private ByteBuffer buf;
        private ReadPool pool; // null: freeing leaves the buffer as it is (not pooled, derived, expanded)

        Buffer(ByteBuffer buf, ReadPool pool) {
            super(ReadBuffers.this, buf.capacity());
            this.buf = buf;
            this.pool = pool;
            buf.order(ByteOrder.BIG_ENDIAN);
        }

        Buffer(Buffer parent, ByteBuffer buf) {
            super(parent);
            this.buf = buf;
        }

        @Override
        public ByteBuffer buf() {
            if (buf == null) {
                throw new IllegalStateException("buffer already freed");
            }
            return buf;
        }

        @Override
        protected void buf(ByteBuffer expanded) {
            buf = expanded;
            pool = null; // the old memory is the garbage collector's, the new one not the pool's
        }

        @Override
        protected IoBuffer duplicate0() {
            return new Buffer(this, buf().duplicate());
        }

        @Override
        protected IoBuffer slice0() {
            return new Buffer(this, buf().slice());
        }

        @Override
        protected IoBuffer asReadOnlyBuffer0() {
            return new Buffer(this, buf().asReadOnlyBuffer());
        }

        @Override
        public byte[] array() {
            return buf().array();
        }

        @Override
        public int arrayOffset() {
            return buf().arrayOffset();
        }

        @Override
        public boolean hasArray() {
            return buf().hasArray();
        }

        @Override
        public void free() {
            ReadPool from = pool;
            if (from != null) {
                ByteBuffer memory = buf;
                pool = null;
                buf = null; // any later use fails instead of reading what the pool put there since
                from.give(memory);
            }
        }
    }
}
