package org.mailproxy.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.buffer.SimpleBufferAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The allocator of the I/O threads: pooled direct buffers for the reads it is told about, heap ones otherwise. */
class ReadBuffersTest {

    /** A pool used by the test's thread (no loop: its owner is "no processor"). */
    private final ReadPool pool = new ReadPool(null);
    private boolean pooledNext;

    private final ReadBuffers buffers = new ReadBuffers(() -> {
        boolean next = pooledNext;
        pooledNext = false;
        return next ? pool : null;
    });

    @AfterEach
    void minasDefault() {
        IoBuffer.setAllocator(new SimpleBufferAllocator()); // MINA's buffers install their allocator globally
    }

    @Test
    void aPooledReadGetsADirectBufferThatComesBackWhenFreed() {
        pooledNext = true;
        IoBuffer read = buffers.allocate(16384, false);
        assertTrue(read.isDirect());
        assertEquals(16384, read.remaining());
        ByteBuffer memory = read.buf();
        read.put((byte) 1).flip();
        read.free(); // what MINA does once the buffer is written
        assertEquals(1, pool.freeFor(16384));
        assertThrows(IllegalStateException.class, read::buf, "a freed buffer cannot be read any more");

        pooledNext = true;
        IoBuffer next = buffers.allocate(10000, false);
        assertSame(memory, next.buf(), "the next pooled read of that size class takes the same memory");
        assertEquals(0, next.position());
        assertEquals(10000, next.limit());
        assertEquals(0, pool.freeFor(16384));
    }

    @Test
    void theMarkIsForOneAllocationAndOtherBuffersAreLeftAloneWhenFreed() {
        pooledNext = true;
        assertTrue(buffers.allocate(100, false).isDirect());
        IoBuffer reply = buffers.allocate(100, false);
        assertFalse(reply.isDirect(), "anything else is a heap buffer of its own, as MINA's default");
        reply.put((byte) 7).flip();
        reply.free();
        assertEquals(7, reply.get(0), "a heap buffer stays usable after free(), as MINA's default");
        assertNotSame(reply.buf(), buffers.allocate(100, false).buf());
        assertSame(buffers, IoBuffer.getAllocator(), "its buffers keep it MINA's allocator");
    }

    @Test
    void aDerivedBufferDoesNotGiveTheMemoryBack() {
        pooledNext = true;
        IoBuffer read = buffers.allocate(2048, false);
        read.duplicate().free();
        assertEquals(0, pool.freeFor(2048));
        read.free();
        assertEquals(1, pool.freeFor(2048));
    }

    @Test
    void aReadLargerThanThePooledSizesGetsAHeapBuffer() {
        pooledNext = true;
        IoBuffer read = buffers.allocate(ReadBuffers.MAX_POOLED + 1, false);
        assertFalse(read.isDirect());
        assertEquals(ReadBuffers.MAX_POOLED + 1, read.remaining());
    }

    @Test
    void installedWhileIoThreadsExistAndMinasDefaultAfter() {
        IoThreadPool first = new IoThreadPool(1);
        IoThreadPool second = new IoThreadPool(1);
        try {
            assertInstanceOf(ReadBuffers.class, IoBuffer.getAllocator());
            first.dispose();
            assertInstanceOf(ReadBuffers.class, IoBuffer.getAllocator(), "another pool still runs");
            assertFalse(IoBuffer.allocate(100).isDirect(), "outside an I/O loop: a heap buffer");
        } finally {
            first.dispose();
            second.dispose();
        }
        assertInstanceOf(SimpleBufferAllocator.class, IoBuffer.getAllocator());
    }
}
